"""Trajectories of the same kind become one procedure.

    kind_similarity(a, b)          mean of key (skill words) and step-set Jaccard similarity
    same_kind_scores(a, b)         (key, step-head) Jaccard similarities merging decides on
    closest_procedure(d, notes)    the most similar stored procedure and its similarity
    same_kind(draft, notes)        the stored procedure a new draft should merge into, if any
    merged_procedure_fields(s, d)  the fields a stored procedure changes when it absorbs d
    merge_drafts(drafts)           the same merge inside one batch of drafts

Two procedures are of one kind when their *when to use* keys name the same skill
(skill-word Jaccard >= ``MERGE_THRESHOLD``) and their steps lead with mostly the
same words (step-head Jaccard >= ``STEP_THRESHOLD``). Measured on the ALFWorld gold
trajectories (``benchmarks/procedural_recall.py`` prints the pairs): trajectories
of one kind phrased alike score 1.0 on the key, the most similar pair of different
kinds 0.75 ("put a <arg1> in <arg2>" / "put a cool <arg1> in <arg2>"); whole step
sets do not separate kinds (0.14-0.83 within a kind, up to 0.9 across), because
where a search happened to look is incidental, so only the step heads are used.
The merged procedure keeps every source id and the steps each trajectory used
that the first did not ("variants"), each with the runs it came from, so pruning
can retire a leading recipe that fails without losing the others
(:mod:`memory.procedures.variants`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memory.model import Note
from memory.procedures.draft import (
    AVOID_TAG,
    DistilledNote,
    distilled_metadata,
    render_procedure,
)
from memory.procedures.steps import unfold
from memory.procedures.text import anonymous
from memory.procedures.variants import with_variant

__all__ = [
    "MERGE_THRESHOLD",
    "closest_procedure",
    "kind_similarity",
    "merge_drafts",
    "merged_procedure_fields",
    "same_kind",
    "same_kind_scores",
]

MERGE_THRESHOLD = 0.9
"""Skill-word Jaccard at or above which two procedures may merge (see the module docstring)."""
STEP_THRESHOLD = 0.5
"""Step-head Jaccard two procedures of one kind must also reach."""


def _jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def step_set(metadata: dict[str, Any]) -> set[str]:
    """Every step a procedure's metadata names (folds undone, variants included,
    placeholders anonymous)."""
    steps = [s for s in metadata.get("steps", []) if isinstance(s, str)]
    for variant in metadata.get("variants", []):
        steps += [s for s in variant if isinstance(s, str)] if isinstance(variant, list) else []
    return {anonymous(part) for line in steps for part in unfold(line)}


def kind_similarity(a: dict[str, Any], b: dict[str, Any]) -> float:
    """How alike two procedures are, from their distilled metadata, in [0, 1].

    The mean of the Jaccard similarity of their skill words and of their step sets.
    """
    skill_a, skill_b = _skill_words(a), _skill_words(b)
    return (_jaccard(skill_a, skill_b) + _jaccard(step_set(a), step_set(b))) / 2


def same_kind_scores(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float]:
    """(skill-word Jaccard, step-head Jaccard) of two procedures' distilled metadata."""
    skill_a, skill_b = _skill_words(a), _skill_words(b)
    heads_a = {h for h in a.get("heads", []) if isinstance(h, str)}
    heads_b = {h for h in b.get("heads", []) if isinstance(h, str)}
    return _jaccard(skill_a, skill_b), _jaccard(heads_a, heads_b)


def _mergeable(a: dict[str, Any], b: dict[str, Any], threshold: float) -> bool:
    if not _skill_words(a) or not _skill_words(b):
        # A task whose every word reappears in its actions has no skill words left:
        # nothing says two such tasks are of one kind, unless they read the same.
        return _task_text(a) == _task_text(b) != ""
    key, heads = same_kind_scores(a, b)
    return key >= threshold and heads >= STEP_THRESHOLD


def _skill_words(metadata: dict[str, Any]) -> set[str]:
    return {w for w in metadata.get("skill", []) if isinstance(w, str)}


def _task_text(metadata: dict[str, Any]) -> str:
    task = metadata.get("task")
    return " ".join(task.casefold().split()) if isinstance(task, str) else ""


def _is_procedure(note: DistilledNote | Note) -> bool:
    return note.kind == "procedure" and AVOID_TAG not in note.tags


def closest_procedure(
    metadata: dict[str, Any], notes: Iterable[DistilledNote | Note]
) -> tuple[DistilledNote | Note | None, float]:
    """The procedure most similar to ``metadata`` (ties: the first), and the similarity."""
    best: DistilledNote | Note | None = None
    best_score = -1.0
    for note in notes:
        if not _is_procedure(note):
            continue
        score = kind_similarity(metadata, distilled_metadata(note))
        if score > best_score:
            best, best_score = note, score
    return best, max(best_score, 0.0)


def same_kind(
    draft: DistilledNote,
    notes: Iterable[Note],
    *,
    threshold: float = MERGE_THRESHOLD,
) -> Note | None:
    """The stored procedure ``draft`` should merge into, or ``None``."""
    if not _is_procedure(draft):
        return None
    candidates = [
        n
        for n in notes
        if _is_procedure(n) and _mergeable(draft.metadata, distilled_metadata(n), threshold)
    ]
    best, _ = closest_procedure(draft.metadata, candidates)
    return best if isinstance(best, Note) else None


def _merged_metadata(
    base: dict[str, Any], base_sources: list[str], other: DistilledNote
) -> dict[str, Any]:
    merged = with_variant(base, base_sources, other.metadata.get("steps", []), other.sources)
    tasks = [t for t in merged.get("tasks", [merged.get("task", "")]) if isinstance(t, str)]
    if other.metadata.get("task") not in tasks:
        tasks.append(other.metadata.get("task", ""))
    merged["tasks"] = tasks
    return merged


def merged_procedure_fields(stored: Note, draft: DistilledNote) -> dict[str, Any]:
    """What a stored procedure changes when it absorbs a draft of the same kind.

    Sources and keywords are united; the draft's steps become a variant when they
    differ; the text is re-rendered. The key stays the stored one, so recall of
    the procedure does not move.

    Returns:
        Only the fields that change.
    """
    distilled = _merged_metadata(distilled_metadata(stored), stored.sources, draft)
    changes: dict[str, Any] = {}
    sources = list(dict.fromkeys([*stored.sources, *draft.sources]))
    if sources != stored.sources:
        changes["sources"] = sources
    keywords = list(dict.fromkeys([*stored.keywords, *draft.keywords]))
    if keywords != stored.keywords:
        changes["keywords"] = keywords
    if distilled != distilled_metadata(stored):
        changes["metadata"] = {**stored.metadata, "distilled": distilled}
        if distilled.get("by") != "llm":
            changes["content"] = render_procedure(distilled)
    return changes


def merge_drafts(
    drafts: Iterable[DistilledNote], *, threshold: float = MERGE_THRESHOLD
) -> list[DistilledNote]:
    """Merge procedure drafts of the same kind (first one leads); others pass through."""
    out: list[DistilledNote] = []
    for draft in drafts:
        if not _is_procedure(draft):
            out.append(draft)
            continue
        leaders = [
            d for d in out if _is_procedure(d) and _mergeable(draft.metadata, d.metadata, threshold)
        ]
        best, _ = closest_procedure(draft.metadata, leaders)
        if not isinstance(best, DistilledNote):
            out.append(draft)
            continue
        metadata = _merged_metadata(best.metadata, best.sources, draft)
        merged = best.model_copy(
            update={
                "sources": list(dict.fromkeys([*best.sources, *draft.sources])),
                "keywords": list(dict.fromkeys([*best.keywords, *draft.keywords])),
                "metadata": metadata,
                "content": render_procedure(metadata)
                if metadata.get("by") != "llm"
                else best.content,
            }
        )
        out[out.index(best)] = merged
    return out
