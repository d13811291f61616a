"""What a Chroma store may remember: decoded notes, the catalog, vectors.

Safe as it stands when this process is the store's only writer (a locked path
or its own in-memory collections). A store shared through a server keeps it
current from the change feed instead (:meth:`SingleWriterState.followed`, called
by :class:`~memory.store.follow.FeedFollower`), within the feed's staleness bound.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from memory.model import Note, Scope
from memory.store.base import StoredNote, detached
from memory.store.catalog import Catalog
from memory.store.scope_vectors import ScopeVectors

__all__ = ["SingleWriterState"]


class SingleWriterState:
    """A bounded read cache, the catalog and the small scopes' vectors.

    Args:
        cache_size: notes kept decoded; 0 switches everything here off.
    """

    def __init__(self, cache_size: int) -> None:
        self.size = cache_size
        self.cache: OrderedDict[str, StoredNote] = OrderedDict()
        self.catalog: Catalog | None = Catalog() if cache_size else None
        self.scope_vectors = ScopeVectors()  # used only with a trusted catalog

    def trusted_catalog(self) -> Catalog | None:
        """The catalog, when it is complete and in step with the store (else ``None``)."""
        catalog = self.catalog
        return catalog if catalog is not None and catalog.complete else None

    def members(self, scope: Scope, kinds: Sequence[str] | None) -> list[str] | None:
        """The ids ``scope`` sees, of ``kinds``, from a trusted catalog (else ``None``).

        A recall lists its scope's learned notes on every call; Chroma's ``where``
        query for them costs a few milliseconds, the catalog's answer microseconds.
        """
        catalog = self.trusted_catalog()
        return catalog.members(scope, kinds=kinds) if catalog is not None else None

    def distrust(self) -> None:
        """A write may or may not have landed: trust nothing until the next full scan."""
        self.cache.clear()
        if self.catalog is not None:
            self.catalog.complete = False
        self.scope_vectors.clear()

    def invalidate(self, ids: Iterable[str]) -> None:
        """Drop these notes from the read cache (they are being rewritten)."""
        for note_id in ids:
            self.cache.pop(note_id, None)

    def forget(self, ids: Sequence[str]) -> None:
        """These notes were removed."""
        self.invalidate(ids)
        if self.catalog is not None:
            self.catalog.forget(ids)
        self.scope_vectors.forget(ids)

    def written(self, notes: Sequence[Note], vectors: Sequence[np.ndarray | None]) -> None:
        """These notes were written (``vectors`` None where only metadata changed)."""
        if self.catalog is not None:
            self.catalog.record(notes)
        self.scope_vectors.record(
            (note.id, note.scope, vector)
            for note, vector in zip(notes, vectors, strict=True)
            if vector is not None
        )
        if self.size:
            # Write-through: a search right after an import reads the new notes from
            # memory. Copies, because the caller keeps (and may change) the notes.
            # History is read from its event records when asked for.
            self.remember({note.id: StoredNote(detached(note)) for note in notes})

    def followed(self, changed: dict[str, StoredNote], removed: list[str]) -> None:
        """Another process's writes, read from the change feed (records with vectors)."""
        if removed:
            self.forget(removed)
            gone = set(removed)
            for stored in self.cache.values():
                if not gone.isdisjoint(stored.note.links):
                    links = stored.note.links
                    stored.note.links = {k: v for k, v in links.items() if k not in gone}
        if changed:
            self.invalidate(changed)
            # A vector that could not be read is fetched again when its scope is searched.
            self.scope_vectors.forget(i for i, stored in changed.items() if stored.vector is None)
            self.written(
                [stored.note for stored in changed.values()],
                [stored.vector for stored in changed.values()],
            )

    def remember(self, fresh: dict[str, StoredNote]) -> None:
        """Keep these decoded notes, evicting the least recently used past the size."""
        for note_id, stored in fresh.items():
            self.cache[note_id] = StoredNote(stored.note, stored.history_raw)
            self.cache.move_to_end(note_id)
        while len(self.cache) > self.size:
            self.cache.popitem(last=False)

    def cached(self, ids: list[str]) -> tuple[dict[str, StoredNote], list[str]]:
        """``(notes found in the cache, ids to read from the store)``."""
        if not self.size:
            return {}, ids
        found: dict[str, StoredNote] = {}
        missing = []
        for note_id in ids:
            hit = self.cache.get(note_id)
            if hit is None:
                missing.append(note_id)
            else:
                self.cache.move_to_end(note_id)
                found[note_id] = hit
        return found, missing
