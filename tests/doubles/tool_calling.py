"""Scripted tool-calling chat models: a LangChain one and a LlamaIndex one.

    Plan                    a task's tool calls in order, then the final answer
    next_move()             the conversation so far -> the plan's next tool call or answer
    ScriptedToolChatModel   a LangChain ``BaseChatModel`` that plays a ``policy`` (binds
                            any tools, streams its replies in chunks, records every prompt)
    scripted_function_llm() a LlamaIndex ``MockFunctionCallingLLM`` that plays a ``policy``

The policy reads only the messages it is sent (the calls already answered since the
user's last message), so one model serves concurrent runs and two users at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field, PrivateAttr

__all__ = [
    "BrokenMemory",
    "MemorySpy",
    "Move",
    "Plan",
    "ScriptedToolChatModel",
    "next_move",
    "scripted_function_llm",
]


@dataclass(frozen=True)
class Move:
    """What the model does next: a tool call (``tool`` set) or the final ``answer``."""

    tool: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    answer: str = ""


@dataclass(frozen=True)
class Plan:
    """A task's tool calls in order, then its answer."""

    calls: Sequence[tuple[str, dict[str, Any]]]
    answer: str


def next_move(plan: Plan, answered: int) -> Move:
    """The plan's move after ``answered`` tool results."""
    if answered < len(plan.calls):
        name, args = plan.calls[answered]
        return Move(tool=name, args=dict(args))
    return Move(answer=plan.answer)


def _answered_since_user(messages: Sequence[BaseMessage]) -> tuple[str, int]:
    task, answered = "", 0
    for message in messages:
        if isinstance(message, HumanMessage):
            task, answered = message.text, 0
        elif isinstance(message, ToolMessage):
            answered += 1
    return task, answered


class ScriptedToolChatModel(BaseChatModel):
    """Plays ``policy(task, answered)``: the user's last request and the tool results since.

    Every prompt it is sent is kept in ``prompts`` (the system message included), so
    a test can read exactly what the agent's model saw.
    """

    policy: Callable[[str, int], Move]
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "scripted-tool-calling"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ScriptedToolChatModel:  # type: ignore[override]
        return self

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        with self._lock:
            self.prompts.append(list(messages))
            self._calls += 1
            number = self._calls
        task, answered = _answered_since_user(messages)
        move = self.policy(task, answered)
        if move.tool is None:
            return AIMessage(content=move.answer)
        call = {"name": move.tool, "args": move.args, "id": f"call-{number}", "type": "tool_call"}
        return AIMessage(content="", tool_calls=[call])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._reply(messages)
        if reply.tool_calls:
            import json

            chunks = [
                {
                    "name": c["name"],
                    "args": json.dumps(c["args"]),
                    "id": c["id"],
                    "index": i,
                    "type": "tool_call_chunk",
                }
                for i, c in enumerate(reply.tool_calls)
            ]
            yield ChatGenerationChunk(message=AIMessageChunk(content="", tool_call_chunks=chunks))
            return
        words = str(reply.content).split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else f" {word}"
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager is not None:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk

    def system_texts(self) -> list[str]:
        """The system message text of every prompt, in order ("" when there was none)."""
        texts = []
        for prompt in self.prompts:
            system = [m.text for m in prompt if m.type == "system"]
            texts.append(system[0] if system else "")
        return texts


def scripted_function_llm(policy: Callable[[str, int], Move]) -> Any:
    """A LlamaIndex function-calling LLM that plays ``policy`` and keeps every prompt.

    Returns:
        A ``MockFunctionCallingLLM`` whose ``prompts`` attribute lists the chat
        messages of each call.
    """
    from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    prompts: list[list[Any]] = []
    counter = iter(range(1, 1_000_000))

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        prompts.append(list(messages))
        task, answered = "", 0
        for message in messages:
            if message.role == MessageRole.USER:
                task, answered = message.content or "", 0
            elif message.role == MessageRole.TOOL:
                answered += 1
        move = policy(task, answered)
        if move.tool is None:
            return ChatMessage(role=MessageRole.ASSISTANT, content=move.answer)
        block = ToolCallBlock(
            tool_call_id=f"call-{next(counter)}", tool_name=move.tool, tool_kwargs=move.args
        )
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])

    llm = MockFunctionCallingLLM(response_generator=respond, is_chat_model=True)
    object.__setattr__(llm, "prompts", prompts)
    return llm


class MemorySpy:
    """An ``AgenticMemory`` seen through its public methods, counting the calls to each."""

    def __init__(self, memory: Any) -> None:
        self.memory = memory
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.memory, name)
        if not callable(target):
            return target

        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] = self.calls.get(name, 0) + 1
            return target(*args, **kwargs)

        return counted


class BrokenMemory:
    """A memory whose store is down: every method raises ``StoreUnavailable``."""

    def __getattr__(self, name: str) -> Any:
        from memory.errors import StoreUnavailable

        def down(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable(f"store is down ({name})")

        return down
