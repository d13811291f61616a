"""What the model is asked when it distils a trajectory, and what it must answer.

    ConceptEntry          a reusable sub-routine: name, cues, description, parameters
    FailureTrigger        what went wrong in a failed attempt, and what to do instead
    SuccessReply          a success: when to use, generalised steps, insights, concepts
    FailureReply          a failure: triggers, insights, concepts
    DistillRequest        system + user text of one request, and the reply model to expect
    build_distill_request(trajectory, related, concept_names) -> DistillRequest
    validate_reply(reply, key)  placeholders and literal arguments checked against the key
    render_steps(steps)   numbered, clipped steps (the middle of a long run left out)

The reply models are the contract with the model: ``StructuredCaller`` hands their
JSON schema to the framework's structured output, or appends an outline generated
from them to the system prompt (``memory.mind.llm.prompts.json_instructions``), so
the schema is never written by hand and never drifts. Field descriptions are short
and written for the model.

Parsing is lenient where a slip is harmless (a string where a list is expected,
numbered steps, ``null`` lists, extra keys) and strict where guessing would be wrong
(a success without steps, a failure without a single trigger): those are validation
errors, and the caller retries with the message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from memory.errors import InvalidInput
from memory.mind.llm.prompts import clip
from memory.model import Note, Step, Trajectory
from memory.procedures.draft import AVOID_TAG
from memory.procedures.generalise import TaskKey, argument_pattern, task_key
from memory.procedures.steps import is_thought
from memory.procedures.text import NO_HINTS, Hints

__all__ = [
    "FAILURE_SYSTEM",
    "MAX_RELATED",
    "MAX_STEPS",
    "SUCCESS_SYSTEM",
    "ConceptEntry",
    "DistillRequest",
    "FailureReply",
    "FailureTrigger",
    "SuccessReply",
    "build_distill_request",
    "render_steps",
    "validate_reply",
]

SUCCESS_SYSTEM = """\
You turn an agent's successful attempt at a task into a reusable recipe for tasks of the \
same kind. Write in general terms: use the placeholders listed under ARGUMENTS (<arg1>, \
<arg2>, ...) wherever the attempt used those arguments, and no other placeholder; drop \
instance numbers and one-off values; keep every kind of action the attempt needed; leave \
out thoughts. when_to_use: the kind of task, with the placeholders, never the literal \
arguments. insights: only when RELATED ATTEMPTS show a failure, what this success did that \
the failure did not. concepts: short step sequences worth reusing in other kinds of task \
(e.g. "<verb> <arg1> then check the result"); reuse a KNOWN CONCEPTS name for the same \
routine."""

FAILURE_SYSTEM = """\
You turn an agent's failed attempt at a task into a warning for next time. Write in general \
terms: use the placeholders listed under ARGUMENTS (<arg1>, <arg2>, ...) instead of the \
literal arguments, and no other placeholder; drop instance numbers. failures: each mistake \
that cost the task (name the step) and what to do instead. insights: only when RELATED \
ATTEMPTS show a success, what it did that this attempt did not. concepts: short step \
sequences worth reusing in other kinds of task; reuse a KNOWN CONCEPTS name for the same \
routine."""

MAX_STEPS = 40
"""Longer trajectories show their first and last steps (the middle is mostly searching)."""
ACTION_CHARS = 160
OBSERVATION_CHARS = 160
RELATED_CHARS = 400
MAX_RELATED = 4
MAX_KNOWN_CONCEPTS = 20

_ANY_PLACEHOLDER = re.compile(r"<[A-Za-z_][A-Za-z0-9_ ]*>")
_BULLET = re.compile(r"^\s*(?:\d+\s*[.)]|[-*•])\s*")


def _as_list(value: Any, *, separator: str) -> Any:
    """Accept ``None`` and a single string for a list of strings; leave the rest to pydantic."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = value.split("\n") if separator == "\n" else re.split(r"[,\n]", value)
        return [part for part in parts if part.strip()]
    return value


def _clean_items(values: list[str]) -> list[str]:
    """Items without their bullets or numbers, blanks dropped."""
    cleaned = (" ".join(_BULLET.sub("", value).split()) for value in values)
    return [value for value in cleaned if value]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ConceptEntry(_Reply):
    """A sub-routine that recurs across tasks."""

    name: str = Field(min_length=1, description='short verb phrase, e.g. "<verb> <arg1>"')
    cues: list[str] = Field(
        default_factory=list, description="words in a task that call for this routine"
    )
    description: str = Field(description="how to do it, in one or two sentences")
    parameters: list[str] = Field(
        default_factory=list, description='the placeholders it takes, e.g. "<arg1>"'
    )

    @field_validator("cues", "parameters", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value, separator=",")

    @field_validator("cues", "parameters")
    @classmethod
    def _clean(cls, value: list[str]) -> list[str]:
        return _clean_items(value)


class FailureTrigger(_Reply):
    """One mistake of a failed attempt."""

    went_wrong: str = Field(min_length=1, description="the step or situation that failed")
    instead: str = Field(min_length=1, description="what to do instead")


_INSIGHTS = "comparisons with RELATED ATTEMPTS; [] if none shown"
_CONCEPTS = "reusable routines"


class _Lessons(_Reply):
    """Parsing shared by both replies; each declares the fields so its own come first."""

    @field_validator("insights", mode="before", check_fields=False)
    @classmethod
    def _insight_list(cls, value: Any) -> Any:
        return _as_list(value, separator="\n")

    @field_validator("insights", check_fields=False)
    @classmethod
    def _clean_insights(cls, value: list[str]) -> list[str]:
        return _clean_items(value)

    @field_validator("concepts", mode="before", check_fields=False)
    @classmethod
    def _no_concepts(cls, value: Any) -> Any:
        return [] if value is None else value


class SuccessReply(_Lessons):
    """What a successful attempt teaches."""

    when_to_use: str = Field(min_length=1, description="the kind of task this recipe fits")
    steps: list[str] = Field(min_length=1, description="the generalised steps, in order")
    insights: list[str] = Field(default_factory=list, description=_INSIGHTS)
    concepts: list[ConceptEntry] = Field(default_factory=list, description=_CONCEPTS)

    @field_validator("steps", mode="before")
    @classmethod
    def _step_list(cls, value: Any) -> Any:
        return _as_list(value, separator="\n")

    @field_validator("steps")
    @classmethod
    def _clean_steps(cls, value: list[str]) -> list[str]:
        cleaned = _clean_items(value)
        if not cleaned:
            raise ValueError("steps must name at least one step")
        return cleaned


class FailureReply(_Lessons):
    """What a failed attempt teaches."""

    failures: list[FailureTrigger] = Field(
        min_length=1, description="the mistakes, most important first"
    )
    insights: list[str] = Field(default_factory=list, description=_INSIGHTS)
    concepts: list[ConceptEntry] = Field(default_factory=list, description=_CONCEPTS)


@dataclass(frozen=True)
class DistillRequest:
    """One distillation request.

    Attributes:
        system: The system prompt (the caller appends the schema in text mode).
        user: The trajectory, the related attempts and the known concept names.
        schema: ``SuccessReply`` or ``FailureReply``, by the trajectory's outcome.
    """

    system: str
    user: str
    schema: type[SuccessReply] | type[FailureReply]


def _step_line(number: int, step: Step) -> str:
    line = f"{number}. "
    if step.thought:
        line += f"(thought: {clip(step.thought, ACTION_CHARS)}) "
    line += clip(step.action, ACTION_CHARS)
    if step.observation.strip():
        line += f" -> {clip(step.observation, OBSERVATION_CHARS)}"
    return line


def render_steps(steps: Sequence[Step], *, max_steps: int = MAX_STEPS) -> str:
    """Numbered steps, each clipped; past ``max_steps`` the middle is left out."""
    lines = [_step_line(number, step) for number, step in enumerate(steps, start=1)]
    if len(lines) <= max_steps:
        return "\n".join(lines)
    head = max_steps // 3
    tail = max_steps - head
    omitted = len(lines) - head - tail
    return "\n".join([*lines[:head], f"... ({omitted} steps left out) ...", *lines[-tail:]])


def _related_line(note: Note) -> str:
    outcome = "failure" if AVOID_TAG in note.tags else "success"
    return f"[{outcome}] {clip(note.content, RELATED_CHARS)}"


def build_distill_request(
    trajectory: Trajectory,
    related: Sequence[Note] = (),
    concept_names: Sequence[str] = (),
    *,
    hints: Hints = NO_HINTS,
) -> DistillRequest:
    """Render one trajectory for the model.

    Args:
        trajectory: The attempt to distil.
        related: Stored procedures and avoid notes of the same generalised task, shown
            so the model can compare outcomes (at most ``MAX_RELATED``).
        concept_names: Names of stored concepts, offered for reuse so that the same
            routine keeps one name (at most ``MAX_KNOWN_CONCEPTS``).
        hints: Optional user vocabulary (for the generalised task line).

    Returns:
        The request; ``schema`` follows the outcome.
    """
    succeeded = trajectory.succeeded
    outcome = "success" if succeeded else "failure"
    if trajectory.reward is not None:
        outcome += f" (reward {trajectory.reward:g})"
    actions = [s.action for s in trajectory.steps if not is_thought(s)]
    key = task_key(trajectory.task, actions, hints=hints)
    parts = [f"TASK: {clip(trajectory.task, 300)}", f"OUTCOME: {outcome}"]
    if key.phrase:
        parts.append(f"KIND OF TASK: {key.phrase}")
    arguments = ", ".join(f"{slot} = {literal}" for slot, literal in key.arguments.items())
    parts.append(f"ARGUMENTS: {arguments or 'none'}")
    parts += ["STEPS:", render_steps(trajectory.steps), "RELATED ATTEMPTS:"]
    parts += [_related_line(note) for note in related[:MAX_RELATED]] or ["none"]
    names = list(dict.fromkeys(concept_names))[:MAX_KNOWN_CONCEPTS]
    parts.append(f"KNOWN CONCEPTS: {', '.join(names) if names else 'none'}")
    if succeeded:
        return DistillRequest(system=SUCCESS_SYSTEM, user="\n".join(parts), schema=SuccessReply)
    return DistillRequest(system=FAILURE_SYSTEM, user="\n".join(parts), schema=FailureReply)


def validate_reply(reply: SuccessReply | FailureReply, key: TaskKey) -> None:
    """Check the model wrote in the key's terms.

    Raises:
        InvalidInput: the reply uses a placeholder the key does not define, or its
            *when to use* names one of the task's literal arguments.
    """
    texts = [*reply.insights, *(c.name for c in reply.concepts)]
    if isinstance(reply, SuccessReply):
        texts += [reply.when_to_use, *reply.steps]
    else:
        texts += [text for t in reply.failures for text in (t.went_wrong, t.instead)]
    allowed = {*key.arguments, "<arg>"}  # "<arg>": any argument, as concepts write it
    unknown = sorted({m.lower() for text in texts for m in _ANY_PLACEHOLDER.findall(text)})
    unknown = [p for p in unknown if p not in allowed]
    if unknown:
        raise InvalidInput(
            f"the reply uses placeholders {unknown}; the task's are {sorted(allowed) or 'none'}"
        )
    if isinstance(reply, SuccessReply):
        for slot, literal in key.arguments.items():
            if argument_pattern(literal).search(reply.when_to_use):
                raise InvalidInput(
                    f"when_to_use names the argument {literal!r}; write {slot} instead"
                )
