"""Fresh readers: a lexical index that catches up with other processes' writes.

Dense search on a shared store reads the store's state, which follows the change
feed (:mod:`~memory.store.follow`); the BM25 index lives in each process too and
used to see another process's notes only after a reopen. On a shared store
(a Chroma server), :class:`CatchingUpIndex` listens to the same feed follower:
before a search it has the store poll the feed (at most once every
``refresh_seconds``) and re-indexes the notes that changed, drops the deleted.

Staleness bound: a note whose ``add`` returned in process A is found by process
B's next search that starts ``refresh_seconds`` (default 0.2 s) or more after it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from memory.errors import StoreError
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore, StoredNote
from memory.store.follow import REFRESH_SECONDS

__all__ = ["REFRESH_SECONDS", "CatchingUpIndex", "lexical_index_for"]

logger = logging.getLogger(__name__)


class CatchingUpIndex(LexicalIndex):
    """A :class:`LexicalIndex` that applies the store's change feed before searching.

    Args:
        store: a store with ``follow`` / ``catch_up`` (Chroma).
        refresh_seconds: the longest a search may run on an index older than this.
    """

    def __init__(
        self,
        store: Any,
        *,
        fields: Iterable[str] = (),
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> None:
        super().__init__(fields=fields)
        self._store = store
        self._refresh = refresh_seconds
        store.follow(self._followed)

    def _followed(self, changed: dict[str, StoredNote], removed: list[str]) -> None:
        self.upsert_notes(stored.note for stored in changed.values())
        self.remove(removed)

    def catch_up(self, *, force: bool = False) -> int:
        """Apply the change feed now (``force``) or if the index is older than the bound.

        Returns how many notes were re-indexed or removed.
        """
        try:
            return int(self._store.catch_up(max_age=self._refresh, force=force))
        except StoreError:
            # Searching stays possible when the feed cannot be read (the store's
            # reads report an unreachable server); the next search tries again.
            logger.warning("could not read the change feed", exc_info=True)
            return 0

    def search(self, query: str, k: int, **kwargs: Any) -> list[tuple[str, float]]:  # type: ignore[override]
        """Catch up (see the bound above), then :meth:`LexicalIndex.search`."""
        self.catch_up()
        return super().search(query, k, **kwargs)


def lexical_index_for(store: NoteStore, *, fields: Iterable[str] = ()) -> LexicalIndex:
    """A catching-up index for a store other processes write, else a plain one;
    either holds the note ``fields`` chosen besides the content."""
    if getattr(store, "shared", False) and hasattr(store, "follow"):
        return CatchingUpIndex(store, fields=fields)
    return LexicalIndex(fields=fields)
