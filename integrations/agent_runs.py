"""An agent run as data: its tool calls, what a judge sees, the trajectory it becomes.

    ToolCall        one tool call of a run: name, arguments, the tool's result
    AgentRun        a finished run: request, answer, tool calls, scope, what it was shown
    Judge           ``judge(run) -> bool | None`` (``None``: decided later by feedback)
    trajectory_of   a run -> ``Trajectory`` (one ``Step`` per tool call, clipped)
    action_text     a tool call as a step's action: ``name {"arg": value}``
    scope_from      the scope an application set (context, config, defaults)
    new_run_id      a fresh run id

Framework-free: each adapter turns its framework's messages or events into an
``AgentRun``; everything after that is shared.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from integrations.agent_recall import Recall
from memory.model import Scope, Step, Trajectory, new_id

__all__ = [
    "SOURCE",
    "AgentRun",
    "Judge",
    "ToolCall",
    "action_text",
    "new_run_id",
    "scope_from",
    "trajectory_of",
]

SOURCE = "zettelmem-agent"


@dataclass(frozen=True)
class ToolCall:
    """One tool call of a run and what the tool returned."""

    name: str
    arguments: dict[str, Any]
    result: str


@dataclass(frozen=True)
class AgentRun:
    """A finished agent run, as the judge sees it.

    Attributes:
        run_id: the run's id (the trajectory id; the key of :meth:`AgentLearning.feedback`).
        task: the user's request.
        answer: the agent's final answer ("" if it gave none).
        tool_calls: the tool calls in order, with their results.
        scope: where the run's notes and procedures live.
        recall: what memory showed the agent during the run.
    """

    run_id: str
    task: str
    answer: str
    tool_calls: tuple[ToolCall, ...] = ()
    scope: Scope = field(default_factory=Scope)
    recall: Recall = field(default_factory=Recall)


Judge = Callable[[AgentRun], "bool | None | Awaitable[bool | None]"]
"""Decides whether a run succeeded; ``None`` leaves it to a later ``feedback`` call."""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)].rstrip() + "..."


def action_text(call: ToolCall, limit: int) -> str:
    """A tool call as a step's action: its name then its arguments as compact JSON."""
    if not call.arguments:
        return call.name
    arguments = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True, default=str)
    return _clip(f"{call.name} {arguments}", limit)


def trajectory_of(
    run: AgentRun, success: bool, *, max_action_chars: int = 300, max_observation_chars: int = 500
) -> Trajectory | None:
    """The run as a ``Trajectory`` (one ``Step`` per tool call), or ``None`` without calls."""
    if not run.tool_calls or not run.task.strip():
        return None
    steps = [
        Step(
            action=action_text(call, max_action_chars),
            observation=_clip(call.result, max_observation_chars),
        )
        for call in run.tool_calls
    ]
    return Trajectory(
        id=run.run_id,
        task=run.task,
        steps=steps,
        success=success,
        metadata={"source": SOURCE, "answer": _clip(run.answer, max_observation_chars)},
    )


def new_run_id() -> str:
    """A fresh run id (when the framework gives none)."""
    return new_id()


def scope_from(sources: Sequence[Any], defaults: Scope) -> Scope:
    """The scope an application set: the first source naming each id wins, else ``defaults``.

    A source is a mapping or an object with ``user_id`` / ``agent_id`` / ``run_id``
    attributes (a dataclass, a pydantic model, a ``TypedDict``); ``None`` is skipped.
    """
    values: dict[str, str | None] = defaults.model_dump()
    for key in ("user_id", "agent_id", "run_id"):
        for source in sources:
            if source is None:
                continue
            value = source.get(key) if isinstance(source, dict) else getattr(source, key, None)
            if value is not None:
                values[key] = str(value)
                break
    return Scope(**values)
