"""Folgezettel: a new episodic note follows the previous note of its scope.

A note is linked to the scope's previous note when they are at most ``gap``
apart; the previous note goes first among the candidates, so a mind that shows
only its first few candidates (the LLM prompt) still sees the thread it continues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from memory.ingest.candidates import PendingNote
from memory.ingest.tails import Tail
from memory.model import Note, Scope
from memory.retrieve.indexed import embedded_text
from memory.store.base import NoteStore

__all__ = ["SequencePolicy", "sequence_link"]


@dataclass
class SequencePolicy:
    """When a note follows the previous one, and how strongly they are linked
    (defaults: ``AgenticMemory``'s constructor)."""

    enabled: bool
    gap: timedelta
    strength: float


def sequence_link(
    store: NoteStore,
    policy: SequencePolicy,
    note: Note,
    vector: np.ndarray,
    tails: dict[Scope, Tail],
    candidates: list[tuple[float, PendingNote]],
    pending: dict[str, PendingNote],
) -> dict[str, tuple[float, str]]:
    """The Folgezettel link to the previous note of the scope, if close in time.

    Moves (or adds) the previous note to the front of ``candidates``.
    """
    if not policy.enabled or note.kind != "episodic":
        return {}
    tail = tails.get(note.scope)
    if tail is None:
        return {}
    previous_id = tail.id
    if abs(note.timestamp - tail.timestamp) > policy.gap:
        return {}
    for position, (_, candidate) in enumerate(candidates):
        if candidate.note.id == previous_id:
            candidates.insert(0, candidates.pop(position))
            break
    else:
        previous = pending.get(previous_id)
        similarity = 0.0
        if previous is None:
            found = _stored_tail(store, tail, note.scope)
            if found is None:
                return {}
            previous, tail_vector = found
            if tail_vector is not None:
                similarity = float(np.dot(tail_vector, vector))
        elif previous.vector is not None:
            similarity = float(np.dot(previous.vector, vector))
        candidates.insert(0, (similarity, previous))
    return {previous_id: (policy.strength, "follows the previous turn")}


def _stored_tail(
    store: NoteStore, tail: Tail, scope: Scope
) -> tuple[PendingNote, np.ndarray | None] | None:
    """The stored tail note and its vector (``None`` if it is gone from the scope).

    The vector this process embedded it with is still the stored one while the
    text it embedded is unchanged (a content update re-embeds the note), so the
    store is asked for the vector only when that is not known.
    """
    known = tail.vector is not None and tail.text is not None
    fetched = store.fetch(
        [tail.id], scope, with_vectors=not known, with_history=True, exact_scope=True
    )
    hit = fetched.get(tail.id)
    if hit is None:
        return None
    vector = hit.vector
    if known and embedded_text(hit.note) == tail.text:
        vector = tail.vector
    elif known:  # changed since this process wrote it: read the vector it has now
        vector = (
            store.fetch([tail.id], scope, with_vectors=True, exact_scope=True)
            .get(tail.id, hit)
            .vector
        )
    return PendingNote(hit.note, None, hit.log, hit.note), vector
