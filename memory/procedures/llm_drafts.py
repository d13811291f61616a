"""Turn a model's validated distillation reply into notes.

    drafts_from_reply(trajectory, r)    a validated reply -> procedure or avoid note, concepts
    concept_name(text)                  the normalised name concepts are merged by

Pure functions: the *when to use* key and generalised steps come from the offline
draft of the same trajectory, the text from the model (cut to ``TEXT_CHARS``).
Used by :class:`~memory.procedures.llm_distill.LLMDistiller`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from memory.errors import InvalidInput
from memory.mind.llm.prompts import clip
from memory.model import Note, Trajectory
from memory.procedures.distill import (
    coerce_trajectory,
    distill_trajectory,
    procedure_metadata,
    when_to_use,
)
from memory.procedures.draft import AVOID_TAG, DistilledNote
from memory.procedures.generalise import TaskKey, task_key
from memory.procedures.llm_prompts import (
    ConceptEntry,
    FailureReply,
    SuccessReply,
    validate_reply,
)
from memory.procedures.steps import is_thought
from memory.procedures.text import NO_HINTS, Hints

__all__ = ["MAX_KEYWORDS", "concept_name", "drafts_from_reply", "union_of"]

TEXT_CHARS = 300
"""Each step, trigger, insight or description the model wrote is cut to this length."""
MAX_KEPT_STEPS = 30
MAX_LESSONS = 5
"""Triggers, and insights, kept per reply (the model is asked for the important ones)."""
MAX_CONCEPTS = 6
NAME_CHARS = 80
MAX_KEYWORDS = 12


def union_of(*lists: Iterable[str], limit: int | None = None) -> list[str]:
    """The values of ``lists`` in first-seen order, without repeats, at most ``limit``."""
    merged = list(dict.fromkeys(item for values in lists for item in values))
    return merged if limit is None else merged[:limit]


def concept_name(text: str) -> str:
    """The name concepts are identified and merged by: lowercase, single-spaced.

    Example:
        >>> concept_name("  Find <Object>. ")
        'find <object>'
    """
    return " ".join(text.casefold().split()).strip(" .,:;!?\"'`")


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"- {clip(item, TEXT_CHARS)}" for item in items]


def _concept(name: str, entries: list[ConceptEntry], trajectory_id: str) -> DistilledNote:
    """One concept draft from every entry of a reply that bears this name."""
    cues = union_of(*([clip(c, NAME_CHARS) for c in e.cues] for e in entries), limit=8)
    parameters = union_of(*([clip(p, NAME_CHARS) for p in e.parameters] for e in entries), limit=4)
    description = next((clip(e.description, TEXT_CHARS) for e in entries if e.description), "")
    verb, _, rest = name.partition(" ")
    lines = [f"Concept: {name}", f"When to use: a task needs to {name}"]
    if cues:
        lines[-1] += f" (cues: {', '.join(cues)})"
    lines.append(f"How: {description or name}")
    if parameters:
        lines.append(f"Parameters: {', '.join(parameters)}")
    return DistilledNote(
        kind="concept",
        name=name,
        content="\n".join(lines),
        # The offline concepts' key shape, so both kinds are found by the same queries.
        when_to_use=f"{name} (verbs: {verb})",
        context=f"Reusable sub-routine '{name}', named by the model from trajectory "
        f"{trajectory_id}.",
        keywords=union_of([verb], rest.split(), cues, limit=MAX_KEYWORDS),
        tags=["routine", verb],
        sources=[trajectory_id],
        metadata={
            "concept": name,
            "description": description,
            "cues": cues,
            "parameters": parameters,
            "by": "llm",
        },
    )


def _concepts(entries: Sequence[ConceptEntry], trajectory_id: str) -> list[DistilledNote]:
    """One draft per normalised name (entries sharing a name are merged), in reply order."""
    grouped: dict[str, list[ConceptEntry]] = {}
    for entry in entries:
        name = clip(concept_name(entry.name), NAME_CHARS)
        if name:
            grouped.setdefault(name, []).append(entry)
    chosen = list(grouped.items())[:MAX_CONCEPTS]
    return [_concept(name, group, trajectory_id) for name, group in chosen]


def _procedure(
    trajectory: Trajectory,
    key: TaskKey,
    reply: SuccessReply,
    offline: list[DistilledNote],
    uses: list[str],
) -> DistilledNote:
    (base,) = [d for d in offline if d.kind == "procedure"]
    lines = [f"When to use: {clip(reply.when_to_use, TEXT_CHARS)}", "Steps:"]
    lines += [f"{i}. {clip(s, TEXT_CHARS)}" for i, s in enumerate(reply.steps[:MAX_KEPT_STEPS], 1)]
    if reply.insights:
        lines += ["Insights:", *_bullets(reply.insights[:MAX_LESSONS])]
    lines.append(f"Learned from: {key.task}")
    return base.model_copy(
        update={
            "content": "\n".join(lines),
            "context": f"How to {base.name}; distilled by the model from trajectory "
            f"{trajectory.id}.",
            "metadata": {**base.metadata, "by": "llm"},
            "uses_concepts": uses,
        }
    )


def _avoid(
    trajectory: Trajectory,
    key: TaskKey,
    reply: FailureReply,
    offline: list[DistilledNote],
    uses: list[str],
    hints: Hints,
) -> DistilledNote:
    # The offline avoid note exists only when the rules saw a cause; the model may
    # see one they did not, so build the same fields from the task when it is absent.
    base = offline[0] if offline else None
    triggers = reply.failures[:MAX_LESSONS]
    lines = [f"Avoid when: {key.phrase}", "What went wrong:"]
    lines += _bullets(t.went_wrong for t in triggers)
    lines += ["Instead:", *_bullets(dict.fromkeys(t.instead for t in triggers))]
    if reply.insights:
        lines += ["Insights:", *_bullets(reply.insights[:MAX_LESSONS])]
    lines.append(f"Learned from: {key.task}")
    causes = [
        {
            "kind": "model",
            "detail": clip(t.went_wrong, TEXT_CHARS),
            "advice": clip(t.instead, TEXT_CHARS),
        }
        for t in triggers
    ]
    metadata = dict(base.metadata) if base else procedure_metadata(trajectory, hints)
    metadata.update({"causes": causes, "reward": trajectory.reward, "by": "llm"})
    return DistilledNote(
        kind="concept",
        name=f"avoid: {key.phrase}",
        content="\n".join(lines),
        when_to_use=base.when_to_use
        if base
        else when_to_use(metadata["phrase"], metadata["heads"]),
        context=f"Pitfalls of '{key.phrase}', from failed trajectory {trajectory.id} "
        "(distilled by the model).",
        keywords=list(base.keywords) if base else list(key.skill),
        tags=[AVOID_TAG],
        sources=[trajectory.id],
        metadata=metadata,
        uses_concepts=uses,
    )


def drafts_from_reply(
    trajectory: Trajectory | Mapping[str, Any],
    reply: SuccessReply | FailureReply,
    *,
    known: Iterable[DistilledNote | Note] = (),
    hints: Hints = NO_HINTS,
) -> list[DistilledNote]:
    """Turn a validated reply into note drafts.

    Args:
        trajectory: The trajectory the reply is about.
        reply: ``SuccessReply`` for a success, ``FailureReply`` for a failure.
        known: Procedures already learned (a failure's offline draft compares with them).
        hints: Optional user vocabulary.

    Returns:
        The procedure (success) or avoid note (failure) first, with
        ``uses_concepts`` naming the concepts, then one concept per distinct
        normalised name (at most ``MAX_CONCEPTS``). All have ``sources=[trajectory.id]``.

    Raises:
        InvalidInput: the reply's kind does not match the trajectory's outcome, or it
            uses placeholders the key does not have or the task's literal arguments.
    """
    traj = coerce_trajectory(trajectory)
    if isinstance(reply, SuccessReply) != traj.succeeded:
        raise InvalidInput(
            f"a {type(reply).__name__} does not describe a "
            f"{'successful' if traj.succeeded else 'failed'} trajectory"
        )
    key = task_key(traj.task, [s.action for s in traj.steps if not is_thought(s)], hints=hints)
    validate_reply(reply, key)
    offline = distill_trajectory(traj, known=known, hints=hints)
    concepts = _concepts(reply.concepts, traj.id)
    uses = [c.name for c in concepts]
    if isinstance(reply, SuccessReply):
        main = _procedure(traj, key, reply, offline, uses)
    else:
        main = _avoid(traj, key, reply, offline, uses, hints)
    return [main, *concepts]
