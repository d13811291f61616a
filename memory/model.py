"""Public data types: notes, search results, history events, trajectories.

Note            one Zettelkasten note (episodic, concept or procedure)
SearchResult    a note with its retrieval score and how it was found
Event           one entry of a note's append-only history
Step            one step of an agent trajectory (thought, action, observation)
Trajectory      a task, its steps and its outcome; the input of ``learn``
Scope           the (user_id, agent_id, run_id) triple every note lives in
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Event",
    "NoteKind",
    "Note",
    "Scope",
    "SearchResult",
    "Step",
    "Trajectory",
    "new_id",
    "utc_now",
]

NoteKind = Literal["episodic", "concept", "procedure"]
NOTE_KINDS: tuple[str, ...] = ("episodic", "concept", "procedure")


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the time base of every stored stamp)."""
    return datetime.now(timezone.utc)


def new_id() -> str:
    """A fresh note / event id."""
    return uuid.uuid4().hex


def _short(text: str, limit: int = 80) -> str:
    """One line, at most ``limit`` characters (an ellipsis marks a cut)."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _short_id(note_id: str) -> str:
    return note_id if len(note_id) <= 12 else note_id[:8] + "…"


def _short_value(value: Any) -> str:
    """A history value in one short line (lists and dicts keep their shape)."""
    return _short(value if isinstance(value, str) else repr(value), 60)


class Scope(BaseModel):
    """Who a note belongs to. ``None`` in a query means "any"; in a note, "unset".

    Notes link and evolve only within exactly the same triple, and every store
    read and write is filtered by the caller's scope.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @property
    def is_unscoped(self) -> bool:
        """True when no field is set (the query then sees every scope)."""
        return self.user_id is None and self.agent_id is None and self.run_id is None

    def admits(self, other: Scope) -> bool:
        """Whether a note in scope ``other`` is visible to a query in this scope."""
        return all(
            mine is None or mine == theirs
            for mine, theirs in (
                (self.user_id, other.user_id),
                (self.agent_id, other.agent_id),
                (self.run_id, other.run_id),
            )
        )


class Note(BaseModel):
    """A Zettelkasten note: an atomic memory with its keywords, tags, context and links.

    ``links`` maps the ids of related notes (same scope) to a strength in (0, 1];
    links are always symmetric. ``metadata`` is the caller's dict, returned verbatim.
    ``sources`` lists provenance ids (e.g. the trajectories a procedure came from).
    """

    model_config = ConfigDict(validate_assignment=False)

    id: str = Field(default_factory=new_id)
    content: str
    kind: NoteKind = "episodic"
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    context: str = ""
    links: dict[str, float] = Field(default_factory=dict)
    timestamp: datetime = Field(default_factory=utc_now)
    metadata: dict[str, Any] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)
    when_to_use: str = Field(default="", description="Recall key of procedures and concepts.")
    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    retrieved_count: int = Field(default=0, ge=0, description="Times reported by feedback().")
    success_count: int = Field(default=0, ge=0, description="Of those, how many succeeded.")
    pinned: bool = Field(default=False, description="Pinned notes are never pruned.")
    follows: str | None = Field(
        default=None,
        description="The note this one continues (Folgezettel: the previous turn of a thread).",
    )
    superseded_by: str | None = Field(
        default=None,
        description="The newer note of the same scope that updates this one (it stays readable).",
    )

    @property
    def scope(self) -> Scope:
        """The note's (user_id, agent_id, run_id) triple."""
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id)

    @property
    def utility_ratio(self) -> float | None:
        """Successes per feedback-reported retrieval; ``None`` before any feedback."""
        if self.retrieved_count == 0:
            return None
        return self.success_count / self.retrieved_count

    def __repr__(self) -> str:
        parts = [f"id={_short_id(self.id)!r}", f"kind={self.kind!r}"]
        parts.append(f"content={_short(self.content)!r}")
        if self.keywords:
            parts.append(f"keywords={self.keywords[:5]!r}")
        if self.tags:
            parts.append(f"tags={self.tags!r}")
        if self.links:
            parts.append(f"links={len(self.links)}")
        parts.extend(
            f"{name}={value!r}"
            for name, value in (
                ("user_id", self.user_id),
                ("agent_id", self.agent_id),
                ("run_id", self.run_id),
            )
            if value is not None
        )
        return f"Note({', '.join(parts)})"

    def __str__(self) -> str:
        return self.content


class SearchResult(BaseModel):
    """One hit: the note, its fused score (higher is better) and how it was found."""

    note: Note
    score: float
    found_by: Literal["direct", "link"] = "direct"
    linked_from: str | None = Field(
        default=None, description="For link-expanded hits, the direct hit that led here."
    )

    def __repr__(self) -> str:
        via = ""
        if self.linked_from is not None:
            via = f", linked_from={_short_id(self.linked_from)!r}"
        return (
            f"SearchResult(score={self.score:.3f}, found_by={self.found_by!r}{via}, "
            f"note={self.note!r})"
        )

    def __str__(self) -> str:
        marker = " (via link)" if self.found_by == "link" else ""
        return f"{self.score:.3f}{marker}  {_short(self.note.content, 120)}"


EventAction = Literal[
    "create",
    "update",
    "evolve",
    "link",
    "unlink",
    "delete",
    "feedback",
    "merge",
    "prune",
    "repair",
    "supersede",
]


class Event(BaseModel):
    """One entry in a note's append-only history, with the values before and after."""

    id: str = Field(default_factory=new_id)
    note_id: str
    action: EventAction
    at: datetime = Field(default_factory=utc_now)
    before: dict[str, Any] = Field(default_factory=dict)
    after: dict[str, Any] = Field(default_factory=dict)
    reason: str = ""
    actor: str = "user"
    usage: dict[str, int] = Field(default_factory=dict, description="LLM calls/tokens spent.")

    def changed(self) -> list[str]:
        """Names of the fields this event recorded, in first-seen order."""
        return list(dict.fromkeys([*self.before, *self.after]))

    def _summary(self) -> str:
        """What happened, in one short line: a creation shows the content, any
        other event each recorded field's before and after."""
        if self.action == "create" and "content" in self.after:
            return repr(_short(self.after["content"], 60))
        return "; ".join(
            f"{name}: {_short_value(self.before.get(name, ''))}"
            f" → {_short_value(self.after.get(name, ''))}"
            for name in self.changed()
        )

    def __repr__(self) -> str:
        parts = [
            f"action={self.action!r}",
            f"note_id={_short_id(self.note_id)!r}",
            f"at={self.at.isoformat(timespec='seconds')!r}",
            f"actor={self.actor!r}",
        ]
        if self.action == "create" and "content" in self.after:
            parts.append(f"content={_short(self.after['content'], 60)!r}")
        elif self.changed():
            parts.append(f"changed={self.changed()!r}")
        if self.reason:
            parts.append(f"reason={_short(self.reason, 60)!r}")
        return f"Event({', '.join(parts)})"

    def __str__(self) -> str:
        line = f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor}"
        summary = self._summary()
        line += f": {summary}" if summary else ""
        return line + (f" ({_short(self.reason, 80)})" if self.reason else "")


class Step(BaseModel):
    """One step of a trajectory: what the agent thought, did and saw."""

    model_config = ConfigDict(extra="forbid")

    action: str
    observation: str = ""
    thought: str | None = None

    @field_validator("action")
    @classmethod
    def _action_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a step's action must not be empty")
        return value


class Trajectory(BaseModel):
    """A task attempt: the task text, the steps taken and the outcome.

    Give ``success`` or ``reward`` (or both); a reward of 0.5 or more counts as
    success when ``success`` is not given.
    """

    id: str = Field(default_factory=new_id)
    task: str
    steps: list[Step] = Field(default_factory=list)
    success: bool | None = None
    reward: float | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("task")
    @classmethod
    def _task_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a trajectory's task must not be empty")
        return value

    @model_validator(mode="after")
    def _outcome_known(self) -> Trajectory:
        if self.reward is not None and not math.isfinite(self.reward):
            raise ValueError("a trajectory's reward must be a finite number")
        if self.success is None and self.reward is None:
            raise ValueError("a trajectory needs success=True/False or a reward")
        if not self.steps:
            raise ValueError("a trajectory needs at least one step")
        return self

    @property
    def succeeded(self) -> bool:
        """The outcome as a boolean (``success`` first, else ``reward >= 0.5``)."""
        if self.success is not None:
            return self.success
        assert self.reward is not None
        return self.reward >= 0.5
