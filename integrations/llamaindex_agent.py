"""Zettelmem hooks for LlamaIndex agents: runs that recall, remember and learn.

    ZettelmemAgentHooks     hooks.run(agent, "task", user_id=...) instead of agent.run(...)
    LearningRun             the run's handle: stream_events() (as the WorkflowHandler's),
                            await it for the agent's output; tool calls are captured from
                            the ToolCallResult events and the run is learned at the end
    RunRecallBlock          a ZettelmemMemoryBlock that recalls once per run (procedures
                            and notes in a token budget) and is reused by every LLM call

Tested with ``FunctionAgent`` and ``AgentWorkflow``; meant for any agent whose
``run(user_msg=..., memory=...)`` returns a ``WorkflowHandler`` streaming
``ToolCallResult`` events. LlamaIndex agents are async only. One line to add::

    hooks = ZettelmemAgentHooks(mem, judge=lambda run: "passed" in run.answer)
    result = await hooks.run(agent, "Fix the failing test", user_id="alice")

The scope comes from the ``run`` call (the application), never from the model. A
failing memory never breaks the run: recall gives nothing, learning is skipped, the
error is logged.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Generator
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from integrations.optional import missing_framework

try:
    from llama_index.core.agent.workflow import AgentOutput, ToolCallResult
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.memory import Memory
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework("integrations.llamaindex_agent", "llama-index-core", exc) from exc

from integrations.agent_learning import AgentLearning
from integrations.agent_recall import Recall, TokenCounter
from integrations.agent_runs import AgentRun, Judge, ToolCall, new_run_id
from integrations.llamaindex import ZettelmemMemoryBlock
from memory.model import Scope

__all__ = ["LearningRun", "RunRecallBlock", "ZettelmemAgentHooks"]

logger = logging.getLogger(__name__)


class RunRecallBlock(ZettelmemMemoryBlock):
    """A memory block for one agent run: one recall for the run's task, reused.

    ``Memory`` reads its blocks before every LLM call of the run; this block
    recalls (procedures, then notes, within the hooks' token budget) the first
    time and returns the same section afterwards. The run's exchange is stored by
    the hooks when the run ends, so flushed messages are not written again here.
    Priority 0: ``Memory`` never truncates it (it is already within its budget).
    """

    priority: int = Field(default=0, description="0: Memory never truncates this block.")
    remember_roles: list[str] | None = Field(
        default_factory=list, description="Nothing: the hooks store the run's exchange."
    )
    memory: Any = Field(  # type: ignore[assignment]
        default=None, exclude=True, description="Unused: the block reads through `learning`."
    )
    task: str = Field(description="The run's request, the recall query.")
    run_scope: Scope = Field(default_factory=Scope, description="The scope recalled from.")
    learning: AgentLearning = Field(exclude=True, description="Recall settings and budget.")
    _recall: Recall | None = PrivateAttr(default=None)

    model_config = {"arbitrary_types_allowed": True}

    @property
    def recall(self) -> Recall:
        """What the block has shown this run (empty before the first LLM call)."""
        return self._recall or Recall()

    async def _aget(
        self,
        messages: list[ChatMessage] | None = None,
        session_id: str | None = None,
        **block_kwargs: Any,
    ) -> str:
        if self._recall is None:
            self._recall = await self.learning.arecall(self.task, self.run_scope)
        return self._recall.text


class LearningRun:
    """A running agent with the hooks attached; await it for the agent's output.

    Attributes:
        run_id: the run's id (the trajectory id; pass it to ``hooks.feedback``).
        handler: the framework's ``WorkflowHandler``.
        block: the run's recall block.
    """

    def __init__(
        self,
        hooks: ZettelmemAgentHooks,
        handler: Any,
        *,
        run_id: str,
        task: str,
        scope: Scope,
        block: RunRecallBlock,
    ) -> None:
        self.hooks = hooks
        self.handler = handler
        self.run_id = run_id
        self.task = task
        self.scope = scope
        self.block = block
        self.tool_calls: list[ToolCall] = []
        self._streamed = False
        self._finished = False
        self.outcome: bool | None = None

    def _observe(self, event: Any) -> None:
        if isinstance(event, ToolCallResult):
            output = event.tool_output
            result = output.content if output is not None else ""
            self.tool_calls.append(
                ToolCall(name=event.tool_name, arguments=dict(event.tool_kwargs), result=result)
            )

    async def stream_events(self, expose_internal: bool = False) -> AsyncIterator[Any]:
        """The handler's events, as ``handler.stream_events()`` gives them (once per run)."""
        self._streamed = True
        async for event in self.handler.stream_events(expose_internal=expose_internal):
            self._observe(event)
            yield event

    async def result(self) -> Any:
        """Wait for the agent's output, then remember and learn from the run."""
        if not self._streamed:
            async for _ in self.stream_events():
                pass
        output = await self.handler
        if not self._finished:
            self._finished = True
            self.outcome = await self.hooks.learning.afinish(self._run(output))
        return output

    def __await__(self) -> Generator[Any, None, Any]:
        return self.result().__await__()

    def _run(self, output: Any) -> AgentRun:
        answer = ""
        if isinstance(output, AgentOutput):
            answer = output.response.content or ""
        elif output is not None:
            answer = str(output)
        return AgentRun(
            run_id=self.run_id,
            task=self.task,
            answer=answer,
            tool_calls=tuple(self.tool_calls),
            scope=self.scope,
            recall=self.block.recall,
        )


class ZettelmemAgentHooks:
    """Recall, remembering and learning for LlamaIndex agent runs.

    ``run`` starts the agent with a ``Memory`` holding a :class:`RunRecallBlock`
    (added to a copy of the caller's ``memory`` if one is given), captures the tool
    calls from the run's ``ToolCallResult`` events, and when the run ends stores the
    request and answer as notes, learns the run as a ``Trajectory`` and credits
    the procedures the run was shown, with the outcome from ``judge`` or later
    from :meth:`feedback`.

    Args:
        memory: the ``AgenticMemory``.
        user_id: default scope (likewise ``agent_id``, ``run_id``); ``run`` overrides.
        notes_k, procedures_k, token_budget, token_counter, remember_exchange, learn,
        judge, max_action_chars, max_observation_chars, credit, background: as
            :class:`integrations.agent_learning.AgentLearning`.

    Example:
        >>> hooks = ZettelmemAgentHooks(mem, agent_id="coder")
        >>> run = hooks.run(agent, "Fix the failing test", user_id="alice")
        >>> async for event in run.stream_events(): ...
        >>> output = await run
        >>> await hooks.afeedback(run.run_id, success=True)   # without a judge
    """

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
        max_action_chars: int = 300,
        max_observation_chars: int = 500,
        credit: Literal["top", "all"] = "top",
        background: bool = False,
    ) -> None:
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

    def recall_block(self, task: str, scope: Scope) -> RunRecallBlock:
        """A fresh recall block for one run of ``task`` in ``scope``."""
        return RunRecallBlock(task=task, run_scope=scope, learning=self.learning)

    def run(
        self,
        agent: Any,
        user_msg: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        memory: Memory | None = None,
        learning_run_id: str | None = None,
        **run_kwargs: Any,
    ) -> LearningRun:
        """Start ``agent`` on ``user_msg`` with recall, and learn from the run.

        Args:
            agent: a LlamaIndex agent or ``AgentWorkflow``.
            user_msg: the user's request (also the recall query and the trajectory's task).
            user_id: the scope of this run's notes (likewise ``agent_id``, ``run_id``);
                unset ids fall back to the hooks' defaults.
            memory: the chat ``Memory`` to use; a copy with the recall block added is
                passed to the agent (default: a fresh ``Memory`` for the run).
            learning_run_id: the run's id (default a fresh one).
            **run_kwargs: passed to ``agent.run`` (``ctx``, ``max_iterations``, ...).

        Returns:
            The run's handle: ``await`` it, or iterate ``stream_events()`` first.
        """
        defaults = self.default_scope
        scope = Scope(
            user_id=user_id if user_id is not None else defaults.user_id,
            agent_id=agent_id if agent_id is not None else defaults.agent_id,
            run_id=run_id if run_id is not None else defaults.run_id,
        )
        key = learning_run_id or new_run_id()
        block = self.recall_block(user_msg, scope)
        if memory is None:
            chat_memory = Memory.from_defaults(session_id=key, memory_blocks=[block])
        else:
            chat_memory = memory.model_copy(
                update={"memory_blocks": [*memory.memory_blocks, block]}
            )
        handler = agent.run(user_msg=user_msg, memory=chat_memory, **run_kwargs)
        return LearningRun(self, handler, run_id=key, task=user_msg, scope=scope, block=block)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for the after-run work handed to the background worker (``background=True``)."""
        self.learning.flush(timeout)

    def feedback(self, run_id: str, success: bool) -> bool:
        """The outcome of a run the judge left open (``run.run_id``); see ``AgentLearning``."""
        return self.learning.feedback(run_id, success)

    async def afeedback(self, run_id: str, success: bool) -> bool:
        """Async :meth:`feedback`."""
        return await self.learning.afeedback(run_id, success)
