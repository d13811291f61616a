"""Finding a new note's candidate neighbours: the store plus earlier notes of its batch.

Pure except for the one batched store query; candidates are always in exactly
the new note's scope (links never cross scopes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memory.model import Note, Scope
from memory.store.base import NoteStore
from memory.store.history import History

__all__ = ["EarlierInBatch", "PendingNote", "merge_candidates", "store_candidates"]


@dataclass
class PendingNote:
    """A note touched by the operation in progress: latest version, vector, full history."""

    note: Note
    vector: np.ndarray | None  # None: a stored neighbour whose vector stays as it is
    history: History
    previous: Note | None = None  # the stored version being replaced, if any


def store_candidates(
    store: NoteStore, scopes: Sequence[Scope], vectors: np.ndarray, n: int
) -> list[list[tuple[float, PendingNote]]]:
    """Per item, its ``n`` nearest stored notes in exactly its scope (one query per scope)."""
    out: list[list[tuple[float, PendingNote]]] = [[] for _ in scopes]
    by_scope: dict[Scope, list[int]] = {}
    for index, scope in enumerate(scopes):
        by_scope.setdefault(scope, []).append(index)
    for scope, indices in by_scope.items():
        results = store.nearest(vectors[indices], scope, n, exact_scope=True)
        notes = store.fetch(
            [note_id for hits in results for note_id, _ in hits], scope, with_history=True
        )
        for index, hits in zip(indices, results, strict=True):
            for note_id, similarity in hits:
                stored = notes.get(note_id)
                if stored is None:
                    continue
                pending = PendingNote(
                    note=stored.note, vector=None, history=stored.log, previous=stored.note
                )
                out[index].append((similarity, pending))
    return out


class EarlierInBatch:
    """The notes of the batch being added so far, per scope, scored against its vectors.

    A new note's candidates include the batch's earlier notes of its scope;
    scoring them with one matrix product instead of one dot product each keeps
    large batches linear (a 256-note batch spent seconds in that loop).

    Args:
        vectors: the whole batch's vectors, one row per item in batch order.
    """

    def __init__(self, vectors: np.ndarray) -> None:
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._rows: dict[Scope, list[int]] = {}
        self._notes: dict[Scope, list[PendingNote]] = {}

    def add(self, row: int, note: PendingNote) -> None:
        """Remember the batch's item ``row`` (added in batch order)."""
        self._rows.setdefault(note.note.scope, []).append(row)
        self._notes.setdefault(note.note.scope, []).append(note)

    def nearest(self, vector: np.ndarray, scope: Scope, n: int) -> list[tuple[float, PendingNote]]:
        """The ``n`` most similar earlier notes of ``scope``, in batch order."""
        notes = self._notes.get(scope, [])
        if not notes or n <= 0:
            return []
        similarities = self._vectors[self._rows[scope]] @ np.asarray(vector, dtype=np.float32)
        # Stable, so ties keep batch order, as ranking them one by one did.
        best = np.sort(np.argsort(-similarities, kind="stable")[:n])
        return [(float(similarities[i]), notes[i]) for i in best]


def merge_candidates(
    from_store: list[tuple[float, PendingNote]],
    from_batch: list[tuple[float, PendingNote]],
    pending: dict[str, PendingNote],
    n: int,
) -> list[tuple[float, PendingNote]]:
    """The ``n`` most similar of the stored candidates and the batch's earlier notes.

    Notes already touched in this batch are replaced by their latest version.
    """
    merged: dict[str, tuple[float, PendingNote]] = {}
    for similarity, candidate in (*from_store, *from_batch):
        merged[candidate.note.id] = (similarity, pending.get(candidate.note.id, candidate))
    ranked = sorted(merged.values(), key=lambda item: -item[0])
    return ranked[:n]
