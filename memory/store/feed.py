"""Fresh readers: a lexical index that catches up with other processes' writes.

Dense search asks Chroma and so always sees every writer's notes; the BM25 index
lives in each process and used to see another process's notes only after a
reopen. On a shared store (a Chroma server), :class:`CatchingUpIndex` reads the
change feed -- the event records, in the order Chroma stored them (see
:meth:`~memory.store.chroma.ChromaNoteStore.changes_since`) -- before a search,
at most once every ``refresh_seconds``, and re-indexes the notes that changed.

Staleness bound: a note whose ``add`` returned in process A is found by process
B's next search that starts ``refresh_seconds`` (default 0.2 s) or more after it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

from memory.errors import StoreError
from memory.model import Scope
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore

__all__ = ["REFRESH_SECONDS", "CatchingUpIndex", "lexical_index_for"]

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 0.2
"""How often (at most) a search on a shared store reads the change feed."""
_PENDING_SECONDS = 60.0  # a created note not stored yet is looked for this long


class CatchingUpIndex(LexicalIndex):
    """A :class:`LexicalIndex` that applies the store's change feed before searching.

    Args:
        store: a store with ``feed_position`` / ``changes_since`` (Chroma).
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
        self._feed_lock = threading.Lock()
        # Read before the open-time rebuild, so nothing written meanwhile is missed
        # (re-indexing a note twice is harmless).
        self._position = store.feed_position()
        self._checked = time.monotonic()
        self._pending: dict[str, float] = {}

    def catch_up(self, *, force: bool = False) -> int:
        """Apply the change feed now (``force``) or if the index is older than the bound.

        Returns how many notes were re-indexed or removed.
        """
        now = time.monotonic()
        if not force and now - self._checked < self._refresh:
            return 0
        with self._feed_lock:
            self._checked = now
            try:
                return self._apply_feed(now)
            except StoreError:
                # Searching stays possible when the feed cannot be read (the dense
                # half asks Chroma anyway); the next search tries again.
                logger.warning("could not read the change feed", exc_info=True)
                return 0

    def _apply_feed(self, now: float) -> int:
        changed: dict[str, str] = {}
        while True:
            changes, self._position = self._store.changes_since(self._position)
            changed.update(changes)
            if not changes or len(changes) < 5000:
                break
        for note_id in list(self._pending):
            if now - self._pending[note_id] > _PENDING_SECONDS:
                del self._pending[note_id]
            else:
                changed.setdefault(note_id, "create")
        if not changed:
            return 0
        found = self._store.fetch(list(changed), Scope())
        self.upsert_notes(s.note for s in found.values())
        gone = [note_id for note_id in changed if note_id not in found]
        for note_id in gone:
            if changed[note_id] == "delete":
                self._pending.pop(note_id, None)
            else:
                # Events are stored before their note: look again next time.
                self._pending.setdefault(note_id, now)
        for note_id in found:
            self._pending.pop(note_id, None)
        self.remove(note_id for note_id in gone if changed[note_id] == "delete")
        return len(found) + len(gone)

    def search(self, query: str, k: int, **kwargs: Any) -> list[tuple[str, float]]:  # type: ignore[override]
        """Catch up (see the bound above), then :meth:`LexicalIndex.search`."""
        self.catch_up()
        return super().search(query, k, **kwargs)


def lexical_index_for(store: NoteStore, *, fields: Iterable[str] = ()) -> LexicalIndex:
    """A catching-up index for a store other processes write, else a plain one;
    either holds the note ``fields`` chosen besides the content."""
    if getattr(store, "shared", False) and hasattr(store, "changes_since"):
        return CatchingUpIndex(store, fields=fields)
    return LexicalIndex(fields=fields)
