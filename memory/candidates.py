"""Finding a new note's candidate neighbours: the store plus earlier notes of its batch.

Pure except for the one batched store query; candidates are always in exactly
the new note's scope (links never cross scopes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memory.model import Note, Scope
from memory.store.chroma import ChromaNoteStore
from memory.store.history import History

__all__ = ["PendingNote", "store_candidates", "merge_candidates"]


@dataclass
class PendingNote:
    """A note touched by the operation in progress: latest version, vector, full history."""

    note: Note
    vector: np.ndarray | None  # None: a stored neighbour whose vector stays as it is
    history: History
    previous: Note | None = None  # the stored version being replaced, if any


def store_candidates(
    store: ChromaNoteStore, scopes: Sequence[Scope], vectors: np.ndarray, n: int
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


def merge_candidates(
    from_store: list[tuple[float, PendingNote]],
    batch: Sequence[PendingNote],
    vector: np.ndarray,
    scope: Scope,
    pending: dict[str, PendingNote],
    n: int,
) -> list[tuple[float, PendingNote]]:
    """The ``n`` most similar of the stored candidates and this batch's earlier notes.

    Notes already touched in this batch are replaced by their latest version.
    """
    merged: dict[str, tuple[float, PendingNote]] = {}
    for similarity, candidate in from_store:
        merged[candidate.note.id] = (similarity, pending.get(candidate.note.id, candidate))
    for earlier in batch:
        if earlier.note.scope == scope and earlier.vector is not None:
            similarity = float(np.dot(earlier.vector, vector))
            merged[earlier.note.id] = (similarity, pending.get(earlier.note.id, earlier))
    ranked = sorted(merged.values(), key=lambda item: -item[0])
    return ranked[:n]
