"""Folgezettel: a new episodic note follows the previous note of its scope.

A note is linked to the scope's previous note when they are at most ``gap``
apart; the previous note goes first among the candidates, so a mind that shows
only its first few candidates (the LLM prompt) still sees the thread it continues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from memory.ingest.candidates import PendingNote
from memory.model import Note, Scope
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
    tails: dict[Scope, tuple[str, datetime]],
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
    previous_id, previous_time = tail
    if abs(note.timestamp - previous_time) > policy.gap:
        return {}
    for position, (_, candidate) in enumerate(candidates):
        if candidate.note.id == previous_id:
            candidates.insert(0, candidates.pop(position))
            break
    else:
        previous = pending.get(previous_id)
        similarity = 0.0
        if previous is None:
            fetched = store.fetch(
                [previous_id],
                note.scope,
                with_vectors=True,
                with_history=True,
                exact_scope=True,
            )
            if previous_id not in fetched:
                return {}
            hit = fetched[previous_id]
            if hit.vector is not None:
                similarity = float(np.dot(hit.vector, vector))
            previous = PendingNote(hit.note, None, hit.log, hit.note)
        elif previous.vector is not None:
            similarity = float(np.dot(previous.vector, vector))
        candidates.insert(0, (similarity, previous))
    return {previous_id: (policy.strength, "follows the previous turn")}
