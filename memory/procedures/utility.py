"""Utility decisions: what to prune, what counts as a duplicate, how merged notes combine.

    PruneDecision        a note to remove and why
    prune_decisions()    notes -> the ones recalled often enough and helping too rarely
    utility_score()      smoothed success ratio, for ordering recalled notes
    near_duplicates()    groups of near-identical notes (by vectors or token sets)
    dedup_signature()    the token set near_duplicates should compare for a note
    merge_notes()        one note out of a group: provenance united, statistics summed

All pure: the facade reads notes, calls these, then deletes/updates and writes
the history events. The prune rule: a note is removed when it was reported by
feedback at least ``min_uses`` times and its success ratio is *strictly* below
``min_ratio``; a note exactly at the ratio stays, and a pinned note always stays.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

import numpy as np
from pydantic import BaseModel, ConfigDict

from memory.errors import InvalidInput
from memory.model import Note, utc_now
from memory.procedures.draft import DistilledNote, distilled_metadata
from memory.procedures.merging import step_set

__all__ = [
    "DEFAULT_COSINE_THRESHOLD",
    "DEFAULT_JACCARD_THRESHOLD",
    "PruneDecision",
    "dedup_signature",
    "merge_notes",
    "near_duplicates",
    "prune_decisions",
    "utility_score",
]

DEFAULT_COSINE_THRESHOLD = 0.95
DEFAULT_JACCARD_THRESHOLD = 0.8


class PruneDecision(BaseModel):
    """Remove ``note_id``; ``reason`` is meant for the history event."""

    model_config = ConfigDict(frozen=True)

    note_id: str
    reason: str
    retrieved_count: int
    success_count: int


def _check_thresholds(min_uses: int, min_ratio: float) -> None:
    if isinstance(min_uses, bool) or not isinstance(min_uses, int) or min_uses < 1:
        raise InvalidInput(f"min_uses must be an integer >= 1, got {min_uses!r}")
    if isinstance(min_ratio, bool) or not isinstance(min_ratio, int | float):
        raise InvalidInput(f"min_ratio must be a number within [0, 1], got {min_ratio!r}")
    if not 0.0 <= min_ratio <= 1.0:
        raise InvalidInput(f"min_ratio must be within [0, 1], got {min_ratio!r}")


def prune_decisions(
    notes: Iterable[Note],
    *,
    min_uses: int = 5,
    min_ratio: float = 0.5,
    kinds: Collection[str] | None = None,
) -> list[PruneDecision]:
    """The notes whose measured utility is too low to keep.

    Args:
        notes: Candidate notes (the facade passes those of the caller's scope).
        min_uses: Feedback-reported retrievals before a note can be judged.
        min_ratio: Success ratio below which a judged note is removed.
        kinds: Only judge notes of these kinds; all kinds when ``None``.

    Returns:
        One decision per note to remove, in input order.

    Raises:
        InvalidInput: ``min_uses < 1`` or ``min_ratio`` outside [0, 1].

    Example:
        >>> n = Note(content="x", retrieved_count=5, success_count=2)
        >>> [d.note_id == n.id for d in prune_decisions([n])]
        [True]
    """
    _check_thresholds(min_uses, min_ratio)
    decisions: list[PruneDecision] = []
    for note in notes:
        if note.pinned or (kinds is not None and note.kind not in kinds):
            continue
        uses, wins = note.retrieved_count, note.success_count
        if uses < min_uses:
            continue
        # Division, not wins < min_ratio * uses: 0.7 * 10 is 7.000000000000001 in floats,
        # which would prune a note sitting exactly at the threshold.
        ratio = wins / uses
        if ratio < min_ratio:
            decisions.append(
                PruneDecision(
                    note_id=note.id,
                    reason=(
                        f"success ratio {wins}/{uses} = {ratio:.2f} below {min_ratio:g} "
                        f"after {uses} recalls (min_uses={min_uses})"
                    ),
                    retrieved_count=uses,
                    success_count=wins,
                )
            )
    return decisions


def utility_score(
    note: Note, *, prior_successes: float = 1.0, prior_failures: float = 1.0
) -> float:
    """Smoothed success ratio: a new note scores 0.5, evidence moves it from there.

    Smoothing keeps one lucky success from outranking a note with 9 of 10.

    Args:
        note: The note to score.
        prior_successes: Pseudo-successes added to the evidence.
        prior_failures: Pseudo-failures added to the evidence.

    Returns:
        A value in (0, 1) (or [0, 1] with zero priors and evidence).
    """
    wins = note.success_count + prior_successes
    total = note.retrieved_count + prior_successes + prior_failures
    return wins / total if total else 0.0


def _is_token_set(value: object) -> bool:
    return isinstance(value, AbstractSet)


def near_duplicates(
    items: Mapping[str, Sequence[float] | np.ndarray | AbstractSet[str]],
    *,
    threshold: float | None = None,
) -> list[list[str]]:
    """Group items that are near-duplicates of each other.

    Vectors are compared by cosine similarity (default threshold 0.95), token
    sets by Jaccard similarity (default 0.8). Grouping is leader-based in input
    order: each item joins the most similar existing group leader at or above
    the threshold, else starts a group. Unlike connected components this never
    chains A~B~C into one group when A and C are far apart.

    Args:
        items: id -> embedding vector, or id -> set of tokens (all the same type).
        threshold: Similarity at or above which two items are duplicates.

    Returns:
        Groups of two or more ids; the first id of each group is its leader (the
        note to keep when merging). Pass items best-first to keep the best notes.

    Raises:
        InvalidInput: vectors and token sets mixed, or vectors of unequal length.
    """
    ids = list(items)
    if len(ids) < 2:
        return []
    values = [items[i] for i in ids]
    sets = [_is_token_set(v) for v in values]
    if any(sets) and not all(sets):
        raise InvalidInput("near_duplicates needs all vectors or all token sets, not a mix")
    if all(sets):
        limit = DEFAULT_JACCARD_THRESHOLD if threshold is None else threshold
        token_sets = [frozenset(v) for v in values]  # type: ignore[arg-type]

        def similarity(a: int, b: int) -> float:
            union = token_sets[a] | token_sets[b]
            return len(token_sets[a] & token_sets[b]) / len(union) if union else 0.0

    else:
        limit = DEFAULT_COSINE_THRESHOLD if threshold is None else threshold
        try:
            matrix = np.asarray(values, dtype=float)
        except ValueError as exc:
            raise InvalidInput("near_duplicates: vectors must all have one length") from exc
        if matrix.ndim != 2:
            raise InvalidInput("near_duplicates: vectors must all have one length")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        # A zero vector has no direction: its similarity to anything is 0, not NaN.
        unit = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
        cosine = unit @ unit.T

        def similarity(a: int, b: int) -> float:
            return float(cosine[a, b])

    groups: list[list[int]] = []
    for index in range(len(ids)):
        scored = [(similarity(group[0], index), n) for n, group in enumerate(groups)]
        best_sim, best = max(scored, default=(float("-inf"), -1))
        if best_sim >= limit:
            groups[best].append(index)
        else:
            groups.append([index])
    return [[ids[i] for i in group] for group in groups if len(group) > 1]


_STEP_LINE = re.compile(r"^\d+\.\s+(.*)$")
_WORD = re.compile(r"<[a-z]+>|[a-z0-9/]+")


def dedup_signature(note: Note | DistilledNote) -> frozenset[str]:
    """What two notes must share to be near-duplicates, as a set for Jaccard similarity.

    For a procedure: its generalised task phrase plus every step it names (folds
    undone, placeholders anonymous, variants included). Learning already merges
    trajectories of one kind (:mod:`memory.procedures.merging`); what is left for
    pruning are reruns of the very same recipe (another model's wording of the
    same steps, a scope filled twice), which share the whole set, while a recipe
    with another tool, a missing step or another task shares only part of it. For
    other notes: the lowercase words of the content.

    Args:
        note: A stored note or a draft.

    Returns:
        The signature to pass (per note id) to :func:`near_duplicates`.
    """
    metadata = distilled_metadata(note)
    if note.kind == "procedure" and metadata.get("steps"):
        phrase = metadata.get("phrase") or note.when_to_use
        return frozenset([f"key:{phrase}", *(f"step:{s}" for s in step_set(metadata))])
    lines = [m.group(1) for m in map(_STEP_LINE.match, note.content.splitlines()) if m]
    if note.kind == "procedure" and lines:
        return frozenset([f"key:{note.when_to_use}", *(f"{i}:{h}" for i, h in enumerate(lines))])
    return frozenset(_WORD.findall(note.content.lower()))


def _union(*lists: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(item for values in lists for item in values))


def merge_notes(keep: Note, others: Sequence[Note], *, now: datetime | None = None) -> Note:
    """Fold ``others`` into ``keep``, returning the merged note (inputs untouched).

    The merged note keeps ``keep``'s id, content, kind, scope and metadata (the
    caller's dict is never rewritten); takes the union of sources, keywords and
    tags; sums retrieval and success counts; is pinned if any input was; and keeps
    links to third notes at their strongest, dropping links among the merged notes.

    Args:
        keep: The note that survives (a group leader from :func:`near_duplicates`).
        others: Notes merged into it; the facade deletes them afterwards.
        now: The merge time (``updated_at``); the current UTC time when omitted.

    Returns:
        A new ``Note`` with ``keep.id``.

    Raises:
        InvalidInput: a note is merged into itself or twice, or kinds or scopes differ.
    """
    ids = [o.id for o in others]
    if keep.id in ids or len(set(ids)) != len(ids):
        raise InvalidInput("merge_notes: each note may appear once, and not as its own duplicate")
    for other in others:
        if other.kind != keep.kind:
            raise InvalidInput(f"merge_notes: cannot merge a {other.kind} into a {keep.kind}")
        if other.scope != keep.scope:
            raise InvalidInput("merge_notes: notes of different scopes never merge")
    merged_ids = {keep.id, *ids}
    links: dict[str, float] = {}
    for note in (keep, *others):
        for target, strength in note.links.items():
            if target not in merged_ids:
                links[target] = max(strength, links.get(target, 0.0))
    everyone = (keep, *others)
    return keep.model_copy(
        deep=True,
        update={
            "sources": _union(*(n.sources for n in everyone)),
            "keywords": _union(*(n.keywords for n in everyone)),
            "tags": _union(*(n.tags for n in everyone)),
            "links": links,
            "retrieved_count": sum(n.retrieved_count for n in everyone),
            "success_count": sum(n.success_count for n in everyone),
            "pinned": any(n.pinned for n in everyone),
            "when_to_use": keep.when_to_use
            or next((n.when_to_use for n in others if n.when_to_use), ""),
            "context": keep.context or next((n.context for n in others if n.context), ""),
            "created_at": min(n.created_at for n in everyone),
            "updated_at": now or utc_now(),
        },
    )
