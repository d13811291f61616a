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

from memory.llm.caller import StructuredCaller
from memory.mind.base import Usage
from memory.model import Note, Trajectory
from memory.procedures.distill import (
    coerce_trajectory,
    distill_trajectory,
)
from memory.procedures.draft import AVOID_TAG, DistilledNote, distilled_metadata
from memory.procedures.generalise import task_key
from memory.procedures.llm_drafts import MAX_KEYWORDS, concept_name, drafts_from_reply, union_of
from memory.procedures.llm_prompts import (
    MAX_RELATED,
    build_distill_request,
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


class Distillation(BaseModel):
    """The result of :meth:`LLMDistiller.distill`."""

    drafts: list[DistilledNote] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage, description="What the model calls cost.")
    by: Literal["llm", "offline"] = Field(
        description='"offline" when the model gave no usable reply and the rules distilled.'
    )


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
    sources = union_of(stored.sources, draft.sources)
    if sources != stored.sources:
        changes["sources"] = sources
    keywords = union_of(
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
            updated[key] = union_of(old, new)
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
