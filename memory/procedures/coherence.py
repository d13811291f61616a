"""Coherence: how much the procedures whose tasks use a word agree on their steps.

    learn_coherence(keys, notes)   stem -> coherence in [0, 1]

Grammar ("the", "it") and objects spread over unrelated tasks, so the procedures
holding them agree on their steps no more than any two procedures do: coherence
near 0. A word that names a kind of task is held by procedures with the same
steps: coherence near 1. A word of a single procedure is left out (nothing shows
what it is); :class:`memory.procedures.recall.ScopeProfile` weighs it fully.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from memory.model import Note
from memory.procedures.draft import distilled_metadata
from memory.procedures.memo import per_note
from memory.procedures.steps import unfold
from memory.procedures.text import NO_HINTS, Hints, is_placeholder, words

__all__ = ["learn_coherence"]

_COHERENCE_SAMPLE = 40
"""Notes per word compared pairwise (bounds the work; the first ones, in order)."""


def _step_words(note: Note) -> set[str]:
    metadata = distilled_metadata(note)
    steps = {p for line in metadata.get("steps", []) for p in unfold(str(line))}
    return {w for s in steps for w in words(s) if not is_placeholder(w) and not w.isdigit()}


def _mean_pairwise(sets: list[set[str]]) -> float:
    pairs = [(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :]]
    if not pairs:
        return 0.0
    return sum(len(a & b) / len(a | b) if a | b else 1.0 for a, b in pairs) / len(pairs)


def learn_coherence(
    keys: Mapping[str, list[str]], notes: Sequence[Note], hints: Hints = NO_HINTS
) -> dict[str, float]:
    """stem -> coherence in [0, 1], from the procedures' task words and step words.

    Args:
        keys: note id -> the stems of its *when to use* phrase.
        notes: The scope's learned notes (only procedures count).
        hints: Optional user vocabulary.
    """
    coherence: dict[str, float] = {}
    steps: dict[str, set[str]] = {}
    holders: dict[str, list[str]] = {}
    for note in notes:
        if note.kind != "procedure":
            continue
        steps[note.id] = per_note("steps", note, hints, partial(_step_words, note))
        metadata = distilled_metadata(note)
        literals = (metadata.get("arguments") or {}).values()
        task_words = set(keys.get(note.id, [])) | {
            hints.canonical(w) for a in literals if isinstance(a, str) for w in words(a)
        }
        for word in task_words:
            holders.setdefault(word, []).append(note.id)
    base = _mean_pairwise(list(steps.values())[:_COHERENCE_SAMPLE])
    if base >= 1.0:
        return coherence
    for word, ids in holders.items():
        if len(ids) < 2:
            continue
        within = _mean_pairwise([steps[i] for i in ids[:_COHERENCE_SAMPLE]])
        coherence[word] = min(1.0, max(0.0, (within - base) / (1.0 - base)))
    return coherence
