"""A Model Context Protocol server that gives any MCP client one scope of a memory.

Seven tools: ``save_memory``, ``search_memory``, ``show_note`` (with its linked
notes), ``learn_trajectory``, ``recall_procedures``, ``give_feedback`` and
``delete_note``. The scope (user / agent / run) is fixed when the server is
built; no tool takes a scope argument, so a client can neither read nor change
another scope's notes (an id from elsewhere is reported as unknown). Bad input
comes back as a tool error with the reason; the server keeps running.

Needs the ``mcp`` extra (the official SDK): ``pip install "zettelmem[mcp]"``.

Example:
    >>> from memory import AgenticMemory
    >>> server = build_server(AgenticMemory("notes"), user_id="alice")
    >>> server.run("stdio")       # or: zettelmem mcp --path notes --user alice
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field

from memory.errors import ZettelmemError
from memory.model import Note
from memory.validate import validate_scope

if TYPE_CHECKING:
    from memory.facade import AgenticMemory

__all__ = ["TOOL_NAMES", "StepInput", "build_server", "serve_stdio"]

TOOL_NAMES = (
    "save_memory",
    "search_memory",
    "show_note",
    "learn_trajectory",
    "recall_procedures",
    "give_feedback",
    "delete_note",
)

_INSTRUCTIONS = (
    "Long-term memory. Save facts worth keeping with save_memory; look things up with "
    "search_memory before answering; after a multi-step task, call learn_trajectory with "
    "its steps and outcome, and at the start of a task call recall_procedures. Report "
    "whether recalled notes helped with give_feedback."
)


def _sdk() -> tuple[Any, type[Exception]]:
    """The SDK's server class and tool error (imported here: the extra is optional)."""
    try:
        from mcp.server.mcpserver import MCPServer
        from mcp.server.mcpserver.exceptions import ToolError
    except ImportError as exc:
        raise ImportError(
            'the MCP server needs the official SDK (mcp>=2): pip install "zettelmem[mcp]"'
        ) from exc
    return MCPServer, ToolError


class StepInput(BaseModel):
    """One step of a task: what the agent did and what it saw."""

    action: str = Field(min_length=1, description="What the agent did.")
    observation: str = Field(default="", description="What it saw afterwards.")
    thought: str | None = Field(default=None, description="Why it did it (optional).")


def _brief(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "kind": note.kind,
        "content": note.content,
        "keywords": note.keywords,
        "tags": note.tags,
        "context": note.context,
        "timestamp": note.timestamp.isoformat(),
    }


def build_server(
    mem: AgenticMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    name: str = "zettelmem",
) -> Any:
    """An MCP server (``mcp.server.mcpserver.MCPServer``) over one scope of ``mem``.

    Args:
        mem: the memory to serve (the caller keeps ownership and closes it).
        user_id: the scope every tool works in (at least one of the three ids).
        agent_id: see ``user_id``.
        run_id: see ``user_id``.
        name: the server name clients see.

    Raises:
        InvalidInput: no scope id, or a malformed one.
        ImportError: the ``mcp`` extra is not installed.
    """
    # Long on purpose: the tools are closures over the one scope fixed here, so no
    # tool can take a scope from a client; defining them apart would pass it around.
    from memory.errors import InvalidInput

    server_class, tool_error = _sdk()
    scope_model = validate_scope(user_id, agent_id, run_id)
    if scope_model.is_unscoped:
        raise InvalidInput("the MCP server needs a scope: a user id, an agent id or a run id")
    scope = scope_model.model_dump()
    from memory import __version__

    server = server_class(
        name=name, instructions=_INSTRUCTIONS, version=__version__, log_level="WARNING"
    )

    def checked(call: Any) -> Any:
        try:
            return call()
        except ZettelmemError as exc:
            raise tool_error(str(exc)) from exc

    @server.tool()
    def save_memory(
        content: Annotated[str, Field(min_length=1, description="The text to remember.")],
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Your JSON data, returned verbatim.")
        ] = None,
    ) -> dict[str, Any]:
        """Store a memory as a note; it is linked to related notes automatically."""
        note = checked(lambda: mem.add(content, metadata=metadata, **scope))
        return {**_brief(note), "links": len(note.links)}

    @server.tool()
    def search_memory(
        query: Annotated[str, Field(min_length=1, description="What to look for.")],
        k: Annotated[int, Field(ge=1, le=50, description="How many notes.")] = 5,
    ) -> list[dict[str, Any]]:
        """Find the notes most relevant to a query (meaning and words)."""
        hits = checked(lambda: mem.search(query, k, **scope))
        return [{**_brief(h.note), "score": round(h.score, 4)} for h in hits]

    @server.tool()
    def show_note(
        note_id: Annotated[str, Field(min_length=1, description="A note id.")],
    ) -> dict[str, Any]:
        """One note with its linked notes (strongest link first) and its history length."""
        note = checked(lambda: mem.get(note_id, **scope))
        neighbours = checked(lambda: mem.neighbors(note_id, **scope))
        history = checked(lambda: mem.history(note_id, **scope))
        return {
            "note": {**_brief(note), "follows": note.follows},
            "linked": [{**_brief(n), "strength": note.links.get(n.id)} for n in neighbours],
            "history_events": len(history),
        }

    @server.tool()
    def learn_trajectory(
        task: Annotated[str, Field(min_length=1, description="The task that was attempted.")],
        steps: Annotated[list[StepInput], Field(min_length=1, description="Steps, in order.")],
        success: Annotated[bool, Field(description="Whether the task succeeded.")],
        trajectory_id: Annotated[
            str | None, Field(description="A stable id; learning it twice is a no-op.")
        ] = None,
    ) -> list[dict[str, Any]]:
        """Distil a finished task into reusable procedures and concepts."""
        trajectory: dict[str, Any] = {
            "task": task,
            "steps": [step.model_dump() for step in steps],
            "success": success,
        }
        if trajectory_id is not None:
            trajectory["id"] = trajectory_id
        notes = checked(lambda: mem.learn(trajectory, **scope))
        return [_brief(note) for note in notes]

    @server.tool()
    def recall_procedures(
        task: Annotated[str, Field(min_length=1, description="The task about to be attempted.")],
        k: Annotated[int, Field(ge=1, le=20, description="How many notes.")] = 3,
    ) -> list[dict[str, Any]]:
        """Procedures and concepts learned from earlier tasks, most useful first."""
        hits = checked(lambda: mem.recall(task, k, **scope))
        return [{**_brief(h.note), "score": round(h.score, 4)} for h in hits]

    @server.tool()
    def give_feedback(
        note_ids: Annotated[list[str], Field(min_length=1, description="Notes that were used.")],
        success: Annotated[bool, Field(description="Whether the task succeeded.")],
    ) -> list[dict[str, Any]]:
        """Record whether the recalled notes helped; unhelpful ones are pruned later."""
        notes = checked(lambda: mem.feedback(note_ids, success, **scope))
        return [
            {"id": n.id, "retrieved": n.retrieved_count, "successes": n.success_count}
            for n in notes
        ]

    @server.tool()
    def delete_note(
        note_id: Annotated[str, Field(min_length=1, description="The note to forget.")],
    ) -> dict[str, Any]:
        """Forget a note (and its links)."""
        note = checked(lambda: mem.delete(note_id, **scope))
        return {"deleted": note.id}

    return server


def serve_stdio(
    mem: AgenticMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> None:
    """Serve ``mem`` over stdin / stdout until the client disconnects."""
    build_server(mem, user_id=user_id, agent_id=agent_id, run_id=run_id).run("stdio")
