"""``InMemoryNoteStore``: the store protocol on plain dicts, for fast tests.

Records are encoded and decoded with the same codec as Chroma's, so a note reads
back exactly as it would from Chroma; nearest neighbours are an exact cosine scan.
Nothing persists and nothing is shared between instances. Use it where a test
needs a memory but not Chroma::

    from memory import AgenticMemory
    from memory.embed import HashingEmbedder
    from memory.store import InMemoryNoteStore

    mem = AgenticMemory(store=InMemoryNoteStore(), embedder=HashingEmbedder())
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from memory.errors import InvalidInput, StoreError
from memory.model import Note, Scope
from memory.store.base import NoteRecord, StoredNote, note_visible, visible_thread
from memory.store.codec import decode_note, encode_note
from memory.store.history import History
from memory.store.where import build_where

__all__ = ["InMemoryNoteStore"]


def _unit(vector: np.ndarray) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(array))
    return array / norm if norm else array


class InMemoryNoteStore:
    """A :class:`~memory.store.base.NoteStore` held in this process's memory.

    Args:
        dim: the vector length every write must have (``None``: the first write's).
    """

    def __init__(self, *, dim: int | None = None) -> None:
        self._records: dict[str, tuple[str, dict[str, Any]]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._tombstones: dict[str, tuple[str, dict[str, Any]]] = {}
        self._dim = dim

    def close(self) -> None:
        """Nothing to release: the notes stay until the object goes (a new memory on the
        same store sees them, the way a reopened folder would)."""

    def _check_vector(self, vector: np.ndarray) -> np.ndarray:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self._dim is None:
            self._dim = len(array)
        if len(array) != self._dim:
            raise StoreError(f"vector has {len(array)} dimensions, the store holds {self._dim}")
        if not np.all(np.isfinite(array)):
            raise StoreError("vector has non-finite values")
        return array

    # ---- writes -------------------------------------------------------------------------

    def write(self, records: Sequence[NoteRecord], previous: dict[str, Note] | None = None) -> None:
        """Write every record, or (when one is invalid) none of them."""
        staged: list[tuple[str, tuple[str, dict[str, Any]], np.ndarray | None]] = []
        for note, vector, history in records:
            if vector is None and note.id not in self._records:
                continue  # like Chroma's update: only existing records change
            checked = None if vector is None else _unit(self._check_vector(vector))
            staged.append((note.id, encode_note(note, history), checked))
        for note_id, record, vector in staged:
            self._records[note_id] = record
            if vector is not None:
                self._vectors[note_id] = vector

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history."""
        self.entomb_many([(note, history)])

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes."""
        for note, history in records:
            self._tombstones[note.id] = encode_note(note, history)

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records."""
        for note_id in ids:
            self._records.pop(note_id, None)
            self._vectors.pop(note_id, None)

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Nothing to upgrade: this store only ever holds the current layout."""
        return 0

    # ---- reads --------------------------------------------------------------------------

    def _stored(self, note_id: str, *, with_vectors: bool = False) -> StoredNote | None:
        record = self._records.get(note_id)
        if record is None:
            return None
        document, meta = record
        vector = self._vectors.get(note_id) if with_vectors else None
        return StoredNote(
            decode_note(note_id, document, meta),
            meta.get("history"),
            None if vector is None else vector.copy(),
        )

    def fetch(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        with_vectors: bool = False,
        with_history: bool = False,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
        read_only: bool = False,
    ) -> dict[str, StoredNote]:
        """The notes among ``ids`` that exist, are visible in ``scope`` and pass the filters.

        Notes are decoded afresh on every read, so ``read_only`` changes nothing here.
        """
        build_where(scope, kinds=kinds, filters=filters)  # the same argument checks as Chroma
        out: dict[str, StoredNote] = {}
        for note_id in dict.fromkeys(ids):
            stored = self._stored(note_id, with_vectors=with_vectors)
            if stored is None or not note_visible(stored.note, scope, exact_scope, kinds, filters):
                continue
            if not with_history:
                stored.history_raw = None
            out[note_id] = stored
        return out

    def visible_ids(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> set[str]:
        """Which of ``ids`` exist and pass the scope / kind / metadata filters."""
        found = self.fetch(ids, scope, kinds=kinds, filters=filters, exact_scope=exact_scope)
        return set(found)

    def nearest(
        self,
        vectors: np.ndarray,
        scope: Scope,
        n: int,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> list[list[tuple[str, float]]]:
        """Exact cosine nearest neighbours among the visible notes."""
        build_where(scope, kinds=kinds, filters=filters, exact=exact_scope)
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if n <= 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        ids = sorted(
            self.visible_ids(
                list(self._records), scope, kinds=kinds, filters=filters, exact_scope=exact_scope
            )
        )
        if not ids:
            return [[] for _ in range(len(queries))]
        matrix = np.stack([self._vectors[note_id] for note_id in ids])
        rows = []
        for query in queries:
            similarities = matrix @ _unit(self._check_vector(query))
            best = np.argsort(-similarities, kind="stable")[:n]
            rows.append([(ids[i], float(similarities[i])) for i in best])
        return rows

    def thread_neighbours(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, tuple[str | None, str | None]]:
        """``id -> (predecessor, successor)`` for the visible ids; hidden neighbours are None."""
        shown = self.fetch(ids, scope, kinds=kinds, filters=filters)
        successor: dict[str, str] = {}
        for note_id, (_, meta) in self._records.items():
            if meta.get("follows"):
                successor[str(meta["follows"])] = note_id
        pairs = {
            note_id: (stored.note.follows, successor.get(note_id))
            for note_id, stored in shown.items()
        }
        named = [n for pair in pairs.values() for n in pair if n is not None]
        return visible_thread(pairs, self.visible_ids(named, scope, kinds=kinds, filters=filters))

    def matching_ids(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> set[str]:
        """Ids of every note in ``scope`` that passes the kind and metadata filters."""
        return self.visible_ids(list(self._records), scope, kinds=kinds, filters=filters)

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, with its history."""
        for note_id in list(self._records):
            stored = self._stored(note_id, with_vectors=with_vectors)
            if stored is not None:
                yield stored

    def count(self) -> int:
        """Number of stored notes (all scopes)."""
        return len(self._records)

    def tombstone(self, note_id: str) -> StoredNote | None:
        """The deleted note's last state and history, if it was deleted."""
        if not isinstance(note_id, str):
            raise InvalidInput("note ids are strings")
        record = self._tombstones.get(note_id)
        if record is None:
            return None
        document, meta = record
        return StoredNote(decode_note(note_id, document, meta), meta.get("history"))

    def tombstone_ids(self) -> list[str]:
        """Ids of every deleted note."""
        return list(self._tombstones)
