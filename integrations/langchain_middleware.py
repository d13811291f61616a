"""Zettelmem as LangChain agent middleware: agents that learn from their own runs.

    AgentMiddleware (langchain.agents.middleware)
    └── ZettelmemMiddleware   before_agent   marks the run (id, the user's request) and
                                             recalls for it, once (procedures + notes)
                              wrap_model_call  the recall as a delimited system section
                              after_agent    the exchange -> notes; the tool calls ->
                                             a Trajectory -> learn(); outcome -> feedback
                              tools          optional save_memory / search_memory
    ZettelmemAgentState       the run's keys in the agent state

One line to add::

    agent = create_agent(model, tools, middleware=[ZettelmemMiddleware(mem, judge=judge)],
                         context_schema=Context)
    agent.invoke({"messages": [...]}, context=Context(user_id="alice"))

The scope (``user_id`` / ``agent_id`` / ``run_id`` of the notes) comes from the
runtime context the application passes, else ``config["configurable"]``, else the
middleware's defaults; never from the model. The run's id (the trajectory id, the key
of :meth:`ZettelmemMiddleware.feedback`) is ``config["run_id"]`` when the caller sets
it, else a fresh id; it is returned in the output state as ``zettelmem_run_id``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal

from typing_extensions import NotRequired

from integrations.optional import missing_framework

try:
    from langchain.agents.middleware import (
        AgentMiddleware,
        AgentState,
        ModelRequest,
        ModelResponse,
    )
    from langchain.agents.middleware.types import OmitFromInput, PrivateStateAttr
    from langchain.tools import ToolRuntime
    from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
    from langchain_core.messages import ToolMessage as LCToolMessage
    from langchain_core.tools import BaseTool, StructuredTool
    from langgraph.config import get_config
    from langgraph.runtime import Runtime
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework(
        "integrations.langchain_middleware", "langchain", exc, extra="langchain"
    ) from exc

from integrations.agent_learning import AgentLearning
from integrations.agent_recall import Recall, TokenCounter, inject_into_system
from integrations.agent_runs import AgentRun, Judge, ToolCall, new_run_id, scope_from
from integrations.toolset import TOOL_DESCRIPTIONS, ScopedMemoryTools
from memory.model import Scope

__all__ = ["ZettelmemAgentState", "ZettelmemMiddleware"]

logger = logging.getLogger(__name__)

_MEMORY_TOOLS = ("save_memory", "search_memory")


class ZettelmemAgentState(AgentState[Any]):
    """The agent state keys of :class:`ZettelmemMiddleware`.

    ``zettelmem_run_id`` is in the output (pass it to ``feedback``); the others are
    private to the middleware.
    """

    zettelmem_run_id: NotRequired[Annotated[str, OmitFromInput]]
    zettelmem_task: NotRequired[Annotated[dict[str, Any], PrivateStateAttr]]
    zettelmem_recall: NotRequired[Annotated[dict[str, Any], PrivateStateAttr]]


def _recall_state(run_id: str, recall: Recall) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "text": recall.text,
        "procedure_ids": list(recall.procedure_ids),
        "note_ids": list(recall.note_ids),
        "tokens": recall.tokens,
    }


def _recall_of(state: Any) -> Recall:
    stored = state.get("zettelmem_recall") if isinstance(state, dict) else None
    if not stored or stored.get("run_id") != state.get("zettelmem_run_id"):
        return Recall()
    return Recall(
        text=stored["text"],
        procedure_ids=tuple(stored["procedure_ids"]),
        note_ids=tuple(stored["note_ids"]),
        tokens=stored["tokens"],
    )


def _with_section(system: SystemMessage | None, recall: Recall) -> SystemMessage:
    """The system message with the recall section appended as its last text."""
    if system is None:
        return SystemMessage(content=recall.text)
    if isinstance(system.content, str):
        return system.model_copy(update={"content": inject_into_system(system.content, recall)})
    blocks = [*system.content, {"type": "text", "text": recall.text}]
    return system.model_copy(update={"content": blocks})


def _configurable() -> dict[str, Any]:
    try:
        return dict(get_config().get("configurable") or {})
    except RuntimeError:  # called outside a runnable context
        return {}


class ZettelmemMiddleware(AgentMiddleware[ZettelmemAgentState, Any]):
    """Memory for a LangChain agent: recall before the model, learning after the run.

    When a run starts (before its first model call), the procedures recalled for the
    user's request and the notes searched for it are rendered as one ``<zettelmem-memory>``
    section of at most ``token_budget`` tokens and appended to the system message;
    later model calls of the run reuse it (one recall per run). After the run, the
    request and the final answer become notes, the tool calls a ``Trajectory``
    (action = tool name and JSON arguments, observation = the tool's result, clipped)
    that is learned, and the best-ranked procedure it was shown (``credit="all"``: every
    one) receives the run's outcome as feedback, so utility and ``prune()`` work without
    tracking ids. The outcome comes from ``judge(run)``, or later from :meth:`feedback`.

    A failing memory never breaks the agent: each memory call is guarded, the error
    is logged and the run goes on without memory.

    Args:
        memory: the ``AgenticMemory``.
        user_id: default scope when the context and config name none (likewise
            ``agent_id``, ``run_id``).
        notes_k: notes searched per run (0: none).
        procedures_k: procedures recalled per run (0: none).
        token_budget: the most tokens the recall section adds to a prompt.
        token_counter: counts tokens for the budget (default cl100k_base, else ~4 chars).
        remember_exchange: store the request and final answer as notes.
        learn: learn procedures from runs with tool calls.
        judge: ``judge(AgentRun) -> bool | None``; ``None`` waits for :meth:`feedback`.
        memory_tools: also give the agent ``save_memory`` and ``search_memory``.
        max_action_chars: clip of a step's action.
        max_observation_chars: clip of a tool result in a step.
        credit: ``"top"``: only the best-ranked shown procedure gets the run's outcome
            (default); ``"all"``: every shown procedure does.
        background: store, judge and learn after the run in a worker thread, so the
            agent returns without waiting for the writes (:meth:`flush` waits for them).

    Example:
        >>> middleware = ZettelmemMiddleware(mem, judge=lambda run: "passed" in run.answer)
        >>> agent = create_agent(model, tools, middleware=[middleware])
        >>> out = agent.invoke({"messages": [("user", "Fix the failing test")]},
        ...                    config={"configurable": {"user_id": "alice"}})
        >>> middleware.feedback(out["zettelmem_run_id"], success=True)  # without a judge
    """

    state_schema = ZettelmemAgentState

    def __init__(
        self,
        memory: Any,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        notes_k: int = 3,
        procedures_k: int = 2,
        token_budget: int = 500,
        token_counter: TokenCounter | None = None,
        remember_exchange: bool = True,
        learn: bool = True,
        judge: Judge | None = None,
        memory_tools: bool = False,
        max_action_chars: int = 300,
        max_observation_chars: int = 500,
        credit: Literal["top", "all"] = "top",
        background: bool = False,
    ) -> None:
        super().__init__()
        self.memory = memory
        self.default_scope = Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)
        self.learning = AgentLearning(
            memory,
            notes_k=notes_k,
            procedures_k=procedures_k,
            token_budget=token_budget,
            token_counter=token_counter,
            remember_exchange=remember_exchange,
            learn=learn,
            judge=judge,
            max_action_chars=max_action_chars,
            max_observation_chars=max_observation_chars,
            credit=credit,
            background=background,
        )
        self.tools: Sequence[BaseTool] = self._memory_tools() if memory_tools else []

    # ---- scope and run ------------------------------------------------------------------------

    def scope(self, context: Any = None, configurable: dict[str, Any] | None = None) -> Scope:
        """The notes' scope: the runtime context, then ``configurable``, then the defaults."""
        return scope_from([context, configurable], self.default_scope)

    def _run_scope(self, runtime: Runtime[Any]) -> Scope:
        return self.scope(getattr(runtime, "context", None), _configurable())

    def _run_marks(self, state: ZettelmemAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        info = getattr(runtime, "execution_info", None)
        run_id = str(getattr(info, "run_id", None) or new_run_id())
        task: dict[str, Any] = {"id": None, "text": ""}
        for message in reversed(state["messages"]):
            if isinstance(message, HumanMessage):
                task = {"id": message.id, "text": message.text}
                break
        return {"zettelmem_run_id": run_id, "zettelmem_task": task}

    # The recall happens here, once per run, rather than in a before_model hook: a
    # hook there is one more graph step before every model call of the run, which
    # costs more than the recall it would guard.
    def before_agent(self, state: ZettelmemAgentState, runtime: Runtime[Any]) -> dict[str, Any]:
        """Mark the run (its id and the user's request) and recall for the request."""
        marks = self._run_marks(state, runtime)
        recall = self.learning.recall(marks["zettelmem_task"]["text"], self._run_scope(runtime))
        return {**marks, "zettelmem_recall": _recall_state(marks["zettelmem_run_id"], recall)}

    async def abefore_agent(
        self, state: ZettelmemAgentState, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Async :meth:`before_agent`."""
        marks = self._run_marks(state, runtime)
        recall = await self.learning.arecall(
            marks["zettelmem_task"]["text"], self._run_scope(runtime)
        )
        return {**marks, "zettelmem_recall": _recall_state(marks["zettelmem_run_id"], recall)}

    # ---- recall -----------------------------------------------------------------------------

    def _with_recall(self, request: ModelRequest[Any]) -> ModelRequest[Any]:
        recall = _recall_of(request.state)
        if recall.empty:
            return request
        return request.override(system_message=_with_section(request.system_message, recall))

    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResponse[Any]:
        """Call the model with the run's recall section in its system message."""
        return handler(self._with_recall(request))

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResponse[Any]:
        """Async :meth:`wrap_model_call`."""
        return await handler(self._with_recall(request))

    # ---- after the run ----------------------------------------------------------------------

    def _finished_run(self, state: ZettelmemAgentState, runtime: Runtime[Any]) -> AgentRun:
        task = state.get("zettelmem_task") or {}
        messages: list[AnyMessage] = list(state["messages"])
        start = next(
            (i + 1 for i, m in enumerate(messages) if task.get("id") and m.id == task["id"]),
            None,
        )
        if start is None:  # the request was edited away (e.g. summarised): from the last one
            humans = [i for i, m in enumerate(messages) if isinstance(m, HumanMessage)]
            start = humans[-1] + 1 if humans else 0
        own = messages[start:]
        results = {m.tool_call_id: m.text for m in own if isinstance(m, LCToolMessage)}
        calls = [
            ToolCall(
                name=c["name"], arguments=dict(c["args"]), result=results.get(c["id"] or "", "")
            )
            for m in own
            if isinstance(m, AIMessage)
            for c in m.tool_calls
            if c["name"] not in _MEMORY_TOOLS or not self.tools
        ]
        answers = [m.text for m in own if isinstance(m, AIMessage) and not m.tool_calls]
        return AgentRun(
            run_id=str(state.get("zettelmem_run_id") or new_run_id()),
            task=str(task.get("text") or ""),
            answer=answers[-1] if answers else "",
            tool_calls=tuple(calls),
            scope=self._run_scope(runtime),
            recall=_recall_of(state),
        )

    def after_agent(self, state: ZettelmemAgentState, runtime: Runtime[Any]) -> None:
        """Remember the exchange; learn from the run and credit its procedures."""
        try:
            run = self._finished_run(state, runtime)
        except Exception:
            logger.exception("reading the finished run failed; nothing is learned from it")
            return None
        self.learning.finish(run)
        return None

    async def aafter_agent(self, state: ZettelmemAgentState, runtime: Runtime[Any]) -> None:
        """Async :meth:`after_agent`."""
        try:
            run = self._finished_run(state, runtime)
        except Exception:
            logger.exception("reading the finished run failed; nothing is learned from it")
            return None
        await self.learning.afinish(run)
        return None

    # ---- feedback ---------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the after-run work handed to the background worker (``background=True``)."""
        self.learning.flush(timeout)

    def feedback(self, run_id: str, success: bool) -> bool:
        """The outcome of a run the judge left open (``out["zettelmem_run_id"]``).

        The run is learned with this outcome and the procedures it was shown are
        credited. Returns False if the run was not waiting for feedback.
        """
        return self.learning.feedback(run_id, success)

    async def afeedback(self, run_id: str, success: bool) -> bool:
        """Async :meth:`feedback`."""
        return await self.learning.afeedback(run_id, success)

    # ---- tools ------------------------------------------------------------------------------

    def _memory_tools(self) -> list[BaseTool]:
        """``save_memory`` and ``search_memory``, scoped per call by the run's context."""

        def bound(runtime: ToolRuntime) -> ScopedMemoryTools:
            configurable = dict((runtime.config or {}).get("configurable") or {})
            scope = self.scope(runtime.context, configurable)
            return ScopedMemoryTools(self.memory, **scope.model_dump())

        def save_memory(content: str, runtime: ToolRuntime) -> str:
            try:
                return bound(runtime).save_memory(content)[0]
            except Exception as exc:
                logger.exception("save_memory failed")
                return f"Memory is unavailable, nothing was saved ({type(exc).__name__})."

        async def asave_memory(content: str, runtime: ToolRuntime) -> str:
            try:
                return (await bound(runtime).asave_memory(content))[0]
            except Exception as exc:
                logger.exception("save_memory failed")
                return f"Memory is unavailable, nothing was saved ({type(exc).__name__})."

        def search_memory(query: str, runtime: ToolRuntime, k: int = 5) -> str:
            try:
                return bound(runtime).search_memory(query, k=max(1, min(k, 50)))[0]
            except Exception as exc:
                logger.exception("search_memory failed")
                return f"Memory is unavailable, nothing was found ({type(exc).__name__})."

        async def asearch_memory(query: str, runtime: ToolRuntime, k: int = 5) -> str:
            try:
                return (await bound(runtime).asearch_memory(query, k=max(1, min(k, 50))))[0]
            except Exception as exc:
                logger.exception("search_memory failed")
                return f"Memory is unavailable, nothing was found ({type(exc).__name__})."

        return [
            StructuredTool.from_function(
                func=save_memory,
                coroutine=asave_memory,
                name="save_memory",
                description=TOOL_DESCRIPTIONS["save_memory"],
            ),
            StructuredTool.from_function(
                func=search_memory,
                coroutine=asearch_memory,
                name="search_memory",
                description=TOOL_DESCRIPTIONS["search_memory"],
            ),
        ]
