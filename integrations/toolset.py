"""The agent tools' logic and argument schemas, shared by the LangChain and LlamaIndex tools.

    ScopedMemoryTools     save / search / record a trajectory / recall procedures,
                          bound to one memory and one scope, sync and async
    SaveMemoryArgs        the arguments an LLM fills, one pydantic model per tool
    SearchMemoryArgs
    RecordTrajectoryArgs  (steps are TrajectoryStepArgs)
    RecallProceduresArgs

Every method returns ``(text, artifact)``: the text is what the model reads, the
artifact the notes or hits behind it, for the program. The scope is fixed when
the tools are built, so a model can never read or write another user's memories.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from integrations.aio import call_async
from integrations.rendering import note_entry
from memory.model import Note, SearchResult, Step, Trajectory

ToolSpec = tuple[str, type[BaseModel], Callable[..., Any], Callable[..., Any]]
"""A tool's name, argument schema, sync function and async function."""

__all__ = [
    "ToolSpec",
    "TOOL_DESCRIPTIONS",
    "RecallProceduresArgs",
    "RecordTrajectoryArgs",
    "SaveMemoryArgs",
    "ScopedMemoryTools",
    "SearchMemoryArgs",
    "TrajectoryStepArgs",
]

TOOL_DESCRIPTIONS: dict[str, str] = {
    "save_memory": (
        "Save one fact, preference or event about the user or the task to long-term memory, "
        "so it can be recalled in later conversations."
    ),
    "search_memory": (
        "Search long-term memory for facts, preferences and past events relevant to a query. "
        "Returns the most relevant memories, best first, each with its date."
    ),
    "record_trajectory": (
        "Record how a task went (the steps taken and whether it succeeded), so that a "
        "reusable procedure or a lesson is learned from it for similar tasks later."
    ),
    "recall_procedures": (
        "Recall procedures and lessons learned from earlier tasks similar to this one. "
        "Call it before starting a multi-step task."
    ),
}


class SaveMemoryArgs(BaseModel):
    """Arguments of ``save_memory``."""

    content: str = Field(
        min_length=1,
        description=(
            "What to remember, as one self-contained statement with names and dates, "
            "e.g. 'Alice is allergic to peanuts.'"
        ),
    )


class SearchMemoryArgs(BaseModel):
    """Arguments of ``search_memory``."""

    query: str = Field(
        min_length=1, description="What to look for, in natural language, e.g. 'Alice's allergies'."
    )
    k: int = Field(default=5, ge=1, le=50, description="How many memories to return (1-50).")


class TrajectoryStepArgs(BaseModel):
    """One step of a recorded trajectory."""

    thought: str | None = Field(default=None, description="The reasoning before the action.")
    action: str = Field(min_length=1, description="The action taken, e.g. 'go to fridge 1'.")
    observation: str = Field(default="", description="What the environment answered.")


class RecordTrajectoryArgs(BaseModel):
    """Arguments of ``record_trajectory``."""

    task: str = Field(min_length=1, description="The task that was attempted, in one sentence.")
    steps: list[TrajectoryStepArgs] = Field(min_length=1, description="The steps taken, in order.")
    success: bool = Field(description="Whether the task was accomplished.")


class RecallProceduresArgs(BaseModel):
    """Arguments of ``recall_procedures``."""

    task: str = Field(
        min_length=1,
        description="The new task (it may include the description of the current situation).",
    )
    k: int = Field(default=3, ge=1, le=20, description="How many procedures to return (1-20).")


def _hits_text(hits: Sequence[SearchResult], empty: str) -> str:
    if not hits:
        return empty
    return "\n".join(note_entry(hit.note) for hit in hits)


def _learned_text(notes: Sequence[Note]) -> str:
    if not notes:
        return "Recorded the trajectory; nothing new was learned from it."
    lines = [f"Recorded the trajectory and learned {len(notes)} note(s):"]
    lines.extend(note_entry(note) for note in notes)
    return "\n".join(lines)


def _step(step: TrajectoryStepArgs | dict[str, Any]) -> Step:
    if isinstance(step, TrajectoryStepArgs):
        step = step.model_dump()
    return Step.model_validate(step)


class ScopedMemoryTools:
    """The agent tools of one memory, bound to one scope.

    Args:
        memory: the ``AgenticMemory``.
        user_id: scope of every read and write (likewise ``agent_id``, ``run_id``).
        kinds: the note kinds ``search_memory`` returns (default all).

    Example:
        >>> tools = ScopedMemoryTools(mem, user_id="alice")
        >>> text, note = tools.save_memory("Alice is allergic to peanuts.")
        >>> text, hits = tools.search_memory("allergies")
    """

    def specs(self) -> list[ToolSpec]:
        """Each tool's name, argument schema, sync and async function (for the adapters)."""
        return [
            ("save_memory", SaveMemoryArgs, self.save_memory, self.asave_memory),
            ("search_memory", SearchMemoryArgs, self.search_memory, self.asearch_memory),
            (
                "record_trajectory",
                RecordTrajectoryArgs,
                self.record_trajectory,
                self.arecord_trajectory,
            ),
            (
                "recall_procedures",
                RecallProceduresArgs,
                self.recall_procedures,
                self.arecall_procedures,
            ),
        ]

    def __init__(
        self,
        memory: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
    ) -> None:
        self.memory = memory
        self.scope: dict[str, str | None] = {
            "user_id": user_id,
            "agent_id": agent_id,
            "run_id": run_id,
        }
        self.kinds = list(kinds) if kinds is not None else None

    # ---- sync ----------------------------------------------------------------------------

    def save_memory(self, content: str) -> tuple[str, Note]:
        """Store ``content`` as a note of the scope."""
        note = self.memory.add(content, metadata={"source": "save_memory"}, **self.scope)
        return f"Saved to memory: {note.content}", note

    def search_memory(self, query: str, k: int = 5) -> tuple[str, list[SearchResult]]:
        """The ``k`` most relevant notes of the scope for ``query``."""
        hits = self.memory.search(query, k=k, kinds=self.kinds, **self.scope)
        return _hits_text(hits, "No relevant memories found."), hits

    def record_trajectory(
        self,
        task: str,
        steps: Sequence[TrajectoryStepArgs | dict[str, Any]],
        success: bool,
    ) -> tuple[str, list[Note]]:
        """Learn procedures / lessons from one task attempt."""
        notes = self.memory.learn(self._trajectory(task, steps, success), **self.scope)
        return _learned_text(notes), list(notes)

    def recall_procedures(self, task: str, k: int = 3) -> tuple[str, list[SearchResult]]:
        """The procedures and concepts learned from tasks like ``task``."""
        hits = self.memory.recall(task, k=k, **self.scope)
        return _hits_text(hits, "No procedures learned for tasks like this yet."), hits

    # ---- async -----------------------------------------------------------------------------

    async def asave_memory(self, content: str) -> tuple[str, Note]:
        """Async :meth:`save_memory`."""
        note = await call_async(
            self.memory, "add", content, metadata={"source": "save_memory"}, **self.scope
        )
        return f"Saved to memory: {note.content}", note

    async def asearch_memory(self, query: str, k: int = 5) -> tuple[str, list[SearchResult]]:
        """Async :meth:`search_memory`."""
        hits = await call_async(self.memory, "search", query, k=k, kinds=self.kinds, **self.scope)
        return _hits_text(hits, "No relevant memories found."), hits

    async def arecord_trajectory(
        self,
        task: str,
        steps: Sequence[TrajectoryStepArgs | dict[str, Any]],
        success: bool,
    ) -> tuple[str, list[Note]]:
        """Async :meth:`record_trajectory`."""
        trajectory = self._trajectory(task, steps, success)
        notes = await call_async(self.memory, "learn", trajectory, **self.scope)
        return _learned_text(notes), list(notes)

    async def arecall_procedures(self, task: str, k: int = 3) -> tuple[str, list[SearchResult]]:
        """Async :meth:`recall_procedures`."""
        hits = await call_async(self.memory, "recall", task, k=k, **self.scope)
        return _hits_text(hits, "No procedures learned for tasks like this yet."), hits

    # ---- shared --------------------------------------------------------------------------

    def _trajectory(
        self,
        task: str,
        steps: Sequence[TrajectoryStepArgs | dict[str, Any]],
        success: bool,
    ) -> Trajectory:
        if not hasattr(self.memory, "learn"):
            raise NotImplementedError(f"{type(self.memory).__name__} has no procedural memory")
        return Trajectory(
            task=task,
            steps=[_step(step) for step in steps],
            success=success,
            metadata={"source": "record_trajectory"},
        )
