"""Distil a trajectory with a language model, falling back to the offline rules.

    LLMDistiller                        one structured call per trajectory, offline fallback
    Distillation                        what it returns: drafts, usage, who distilled
    drafts_from_reply(trajectory, r)    a validated reply -> procedure or avoid note, concepts
    concept_name(text)                  the normalised name concepts are merged by
    related_attempts(notes, t)          stored procedures / avoid notes of the same task
    merged_concept_fields(stored, d)    what a stored concept gains when it is seen again

A success yields a procedure, a failure an avoid note (``kind="concept"``, tag
``"avoid"``), and either may come with concepts. The model writes the content; the
*when to use* key is still the task's generalised key, taken from the offline
draft of the same trajectory together with its generalised steps (which merging,
concept extraction and recall read), so they behave the same whoever wrote the
text. The reply is validated against that key (``validate_reply``): placeholders
other than the key's, or the task's literal arguments, mean the offline draft.
Every draft lists the trajectory id in ``sources``.

Only ``LLMDistiller.distill`` does I/O; the rest are pure functions. Nothing here
raises for a model's failure: a reply that never validates means the offline
distillation, with ``usage.fallbacks == 1``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from memory.errors import InvalidInput
from memory.mind.base import Usage
from memory.mind.llm.caller import StructuredCaller
from memory.mind.llm.prompts import clip
from memory.model import Note, Trajectory
from memory.procedures.distill import (
    coerce_trajectory,
    distill_trajectory,
    procedure_metadata,
    when_to_use,
)
from memory.procedures.draft import AVOID_TAG, DistilledNote, distilled_metadata
from memory.procedures.generalise import TaskKey, task_key
from memory.procedures.llm_prompts import (
    MAX_RELATED,
    ConceptEntry,
    FailureReply,
    SuccessReply,
    build_distill_request,
    validate_reply,
)
from memory.procedures.steps import is_thought
from memory.procedures.text import NO_HINTS, Hints

__all__ = [
    "Distillation",
    "LLMDistiller",
    "concept_name",
    "drafts_from_reply",
    "merged_concept_fields",
    "related_attempts",
]

logger = logging.getLogger(__name__)

TEXT_CHARS = 300
"""Each step, trigger, insight or description the model wrote is cut to this length."""
MAX_KEPT_STEPS = 30
MAX_LESSONS = 5
"""Triggers, and insights, kept per reply (the model is asked for the important ones)."""
MAX_CONCEPTS = 6
NAME_CHARS = 80
MAX_KEYWORDS = 12


class Distillation(BaseModel):
    """The result of :meth:`LLMDistiller.distill`."""

    drafts: list[DistilledNote] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage, description="What the model calls cost.")
    by: Literal["llm", "offline"] = Field(
        description='"offline" when the model gave no usable reply and the rules distilled.'
    )


def _union(*lists: Iterable[str], limit: int | None = None) -> list[str]:
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
    cues = _union(*([clip(c, NAME_CHARS) for c in e.cues] for e in entries), limit=8)
    parameters = _union(*([clip(p, NAME_CHARS) for p in e.parameters] for e in entries), limit=4)
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
        keywords=_union([verb], rest.split(), cues, limit=MAX_KEYWORDS),
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


def related_attempts(
    notes: Iterable[Note],
    trajectory: Trajectory,
    *,
    limit: int = MAX_RELATED,
    hints: Hints = NO_HINTS,
) -> list[Note]:
    """Stored procedures and avoid notes of the same generalised task, for comparison.

    A note matches when its generalised task phrase is the trajectory's. Notes of
    the other outcome come first (a success is compared with failures and the other
    way round), newest first.

    Args:
        notes: Stored notes of the scope (other kinds are ignored).
        trajectory: The trajectory about to be distilled (never matched with itself).
        limit: How many to return.
        hints: Optional user vocabulary.

    Returns:
        At most ``limit`` notes.
    """
    actions = [s.action for s in trajectory.steps if not is_thought(s)]
    phrase = task_key(trajectory.task, actions, hints=hints).phrase
    if not phrase:
        return []
    matching = [
        note
        for note in notes
        if (note.kind == "procedure" or AVOID_TAG in note.tags)
        and trajectory.id not in note.sources
        and distilled_metadata(note).get("phrase") == phrase
    ]
    matching.sort(key=lambda note: note.created_at, reverse=True)
    # A success is compared with failures (avoid notes) and a failure with successes.
    matching.sort(key=lambda note: (AVOID_TAG in note.tags) != trajectory.succeeded)
    return matching[:limit]


def merged_concept_fields(stored: Note, draft: DistilledNote) -> dict[str, Any]:
    """The fields a stored concept changes when a draft of the same name is learned.

    Sources and keywords are united; the cues and parameters under
    ``metadata["distilled"]`` too, and an empty description is filled. The content
    stays: it may aggregate many trajectories, which one draft cannot replace.

    Args:
        stored: The stored concept note.
        draft: A concept draft bearing the same name.

    Returns:
        Only the fields that change (empty when the draft adds nothing).
    """
    changes: dict[str, Any] = {}
    sources = _union(stored.sources, draft.sources)
    if sources != stored.sources:
        changes["sources"] = sources
    keywords = _union(
        stored.keywords, draft.keywords, limit=max(MAX_KEYWORDS, len(stored.keywords))
    )
    if keywords != stored.keywords:
        changes["keywords"] = keywords
    distilled = stored.metadata.get("distilled")
    distilled = dict(distilled) if isinstance(distilled, dict) else {}
    updated = dict(distilled)
    for key in ("cues", "parameters"):
        old = [v for v in distilled.get(key) or [] if isinstance(v, str)]
        new = [v for v in draft.metadata.get(key) or [] if isinstance(v, str)]
        if [v for v in new if v not in old]:
            updated[key] = _union(old, new)
    if not distilled.get("description") and draft.metadata.get("description"):
        updated["description"] = draft.metadata["description"]
    if updated != distilled:
        changes["metadata"] = {**stored.metadata, "distilled": updated}
    return changes


class LLMDistiller:
    """Distil trajectories with a chat model, one structured call each.

    Args:
        llm: A LangChain chat model, a LlamaIndex LLM, a ``ChatBackend``, or a
            ``StructuredCaller`` to share (its own retries and timeout then apply).
        max_retries: Retries after the first attempt (unparseable replies, errors).
        timeout: Seconds to wait for each call; ``None`` waits forever.
        hints: Optional user vocabulary.

    Example:
        ```python
        distiller = LLMDistiller(llm=ChatOpenAI(model="gpt-4o-mini"))
        result = distiller.distill(trajectory, related=stored_notes_of_the_same_task)
        result.drafts      # procedure or avoid note first, then concepts
        result.by          # "offline" when the model never gave a usable reply
        ```
    """

    def __init__(
        self,
        *,
        llm: Any,
        max_retries: int = 2,
        timeout: float | None = 60.0,
        hints: Hints = NO_HINTS,
    ) -> None:
        if isinstance(llm, StructuredCaller):
            self.caller = llm
        else:
            self.caller = StructuredCaller(llm=llm, max_retries=max_retries, timeout=timeout)
        self.hints = hints

    def distill(
        self,
        trajectory: Trajectory | Mapping[str, Any],
        *,
        related: Sequence[Note] = (),
        concept_names: Sequence[str] = (),
        known: Sequence[Note] = (),
    ) -> Distillation:
        """Ask the model what the trajectory teaches.

        Args:
            trajectory: The attempt (a ``Trajectory`` or a dict of the same shape).
            related: Stored notes of the same task to compare with (see
                :func:`related_attempts`).
            concept_names: Names of stored concepts the model should reuse.
            known: Stored procedures (the offline rules compare a failure with them).

        Returns:
            The drafts and the usage; after every retry failed, the offline drafts
            with ``by="offline"`` and one fallback counted. Never raises for a
            model's failure.

        Raises:
            InvalidTrajectory: ``trajectory`` is a dict that does not validate.
        """
        traj = coerce_trajectory(trajectory)
        request = build_distill_request(traj, related, concept_names, hints=self.hints)
        try:
            reply, spent = self.caller.call(request.system, request.user, request.schema)
        except Exception:  # a model failure of any kind means the offline rules
            logger.exception("LLM distillation of %s failed unexpectedly", traj.id)
            reply, spent = None, Usage()
        if reply is not None:
            try:
                drafts = drafts_from_reply(traj, reply, known=known, hints=self.hints)
                return Distillation(drafts=drafts, usage=spent, by="llm")
            except Exception:
                logger.exception("could not turn the model's reply about %s into notes", traj.id)
        logger.warning("distilling trajectory %s offline: the model gave no usable reply", traj.id)
        return Distillation(
            drafts=distill_trajectory(traj, known=known, hints=self.hints),
            usage=spent + Usage(fallbacks=1),
            by="offline",
        )
