"""Scripted chat models: LangChain and LlamaIndex doubles that replay what a test planned.

    Turn               one chat message as ``(role, text)``, roles named the OpenAI way
    Answer             a reply: its text and the token usage the model reports for it
    Planned            what one call does: wait ``delay`` seconds, then answer or raise
    Replay             the engine: ``plan()`` per call (subclasses decide), then the shared
                       mechanics -- concurrency count, the wait, raise or answer; sync and async
     └── Script        queued steps, then ``then``; records every conversation; fixed usage
    Step               what a Script plays for one call: a text, an exception, a ``Hang``,
                       or a function of the prompt (to name what the prompt really showed)
    ScriptedChatModel  a LangChain ``BaseChatModel`` around a Replay (``usage_metadata``)
    ScriptedLlamaLLM   a LlamaIndex ``CustomLLM`` around a Replay (OpenAI-style ``raw["usage"]``)
    FRAMEWORKS         framework name -> model class, for fixtures parametrised over both

The tests script replies with a ``Script``; the benchmarks' ``Replier``
(``benchmarks/scripted_llm.py``) is another ``Replay`` that writes plausible replies from
the prompt. Both frameworks hand the engine the same turns (LangChain's ``human``/``ai``
become ``user``/``assistant``), so a test reads one conversation whichever carried it.
Neither model streams, binds tools or completes: the LLM mind and the distiller chat, and
a native structured-output attempt finds no tools and falls back to JSON in text.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from llama_index.core.llms import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    CustomLLM,
    LLMMetadata,
)
from pydantic import PrivateAttr

__all__ = [
    "COMPLETION_TOKENS",
    "FRAMEWORKS",
    "PROMPT_TOKENS",
    "Answer",
    "Hang",
    "Planned",
    "Replay",
    "Script",
    "ScriptedChatModel",
    "ScriptedLlamaLLM",
    "Step",
    "Turn",
]

PROMPT_TOKENS = 250
COMPLETION_TOKENS = 40
"""The usage a ``Script`` reports per answered call unless given other ``tokens``."""

Turn = tuple[str, str]


@dataclass(frozen=True)
class Answer:
    """One reply and the usage the model reports with it."""

    text: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Planned:
    """What one call does: wait ``delay`` seconds, then return or raise ``outcome``."""

    delay: float
    outcome: Answer | BaseException


class Replay:
    """The engine behind both models: each call is planned, waited for, then delivered.

    Subclasses implement ``plan``. Everything else is shared: ``answer`` and its async
    twin ``aanswer`` (which waits without blocking the event loop, so concurrent calls
    really overlap), and ``in_flight`` / ``peak``, the number of calls under way now and
    at most (how tests see that a caller ran calls concurrently, and how many).
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()  # calls arrive from worker threads and event loops

    def plan(self, turns: list[Turn]) -> Planned:
        """Decide what the call sent ``turns`` does (and record it); thread-safe."""
        raise NotImplementedError

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    @staticmethod
    def _deliver(planned: Planned) -> Answer:
        if isinstance(planned.outcome, BaseException):
            raise planned.outcome
        return planned.outcome

    def answer(self, turns: list[Turn]) -> Answer:
        """Blocking: plan, sleep as planned, then raise or return the answer."""
        self._enter()
        try:
            planned = self.plan(turns)
            time.sleep(planned.delay)
            return self._deliver(planned)
        finally:
            self._leave()

    async def aanswer(self, turns: list[Turn]) -> Answer:
        """Async twin of ``answer``."""
        self._enter()
        try:
            planned = self.plan(turns)
            await asyncio.sleep(planned.delay)
            return self._deliver(planned)
        finally:
            self._leave()


@dataclass(frozen=True)
class Hang:
    """A step that answers ``reply`` only after ``seconds`` (to outlast a caller's timeout)."""

    seconds: float
    reply: str


Step = str | BaseException | Hang | Callable[[str], str]
"""A reply text, an exception to raise, a ``Hang``, or ``prompt -> reply text``."""


class Script(Replay):
    """Plays queued steps, one per call, then ``then``; records every conversation.

    Args:
        *steps: The first calls' steps, in order (``push`` adds more).
        then: The step for every call once the queue is empty; ``None`` makes such a
            call raise ``AssertionError`` (the model was called more often than planned).
        delay: Seconds every call takes (a ``Hang`` sets its own), so that concurrency
            or a caller's timeout can be observed.
        tokens: ``(prompt, completion)`` tokens reported for every answered call, fixed so
            tests can assert exact usage; a raised exception reports none.

    Example:
        ```python
        script = Script(ConnectionError("reset"), then='{"query": "pottery"}')
        model = ScriptedChatModel(script)  # fails once, then always answers the query
        ```
    """

    def __init__(
        self,
        *steps: Step,
        then: Step | None = None,
        delay: float = 0.0,
        tokens: tuple[int, int] = (PROMPT_TOKENS, COMPLETION_TOKENS),
    ) -> None:
        super().__init__()
        self.steps: deque[Step] = deque(steps)
        self.then = then
        self.delay = delay
        self.tokens = tokens
        self.conversations: list[list[Turn]] = []

    def push(self, *steps: Step) -> None:
        """Play ``steps`` on the next calls, one each, after those already queued."""
        with self._lock:
            self.steps.extend(steps)

    @property
    def calls(self) -> int:
        """Calls received so far (those that raised included)."""
        return len(self.conversations)

    @property
    def prompts(self) -> list[str]:
        """Each call's messages as one text, in call order."""
        return [self.prompt(call) for call in range(self.calls)]

    def prompt(self, call: int) -> str:
        """Everything the model was sent on call ``call`` (0-based), one message a line."""
        return "\n".join(text for _, text in self.conversations[call])

    def plan(self, turns: list[Turn]) -> Planned:
        """Record the conversation and take the next step (``then`` once none is queued)."""
        with self._lock:
            self.conversations.append(list(turns))
            step = self.steps.popleft() if self.steps else self.then
        if step is None:
            raise AssertionError("script exhausted: the model was called too often")
        delay = self.delay
        if isinstance(step, Hang):
            delay, step = step.seconds, step.reply
        if isinstance(step, BaseException):
            return Planned(delay, step)
        # A function of the prompt runs outside the lock: it may call back into the code
        # under test (from this worker thread) while other calls proceed.
        text = step("\n".join(text for _, text in turns)) if callable(step) else step
        return Planned(delay, Answer(text, *self.tokens))


_ROLES = {"human": "user", "ai": "assistant"}  # LangChain's message types, the OpenAI way


class ScriptedChatModel(BaseChatModel):
    """A LangChain chat model answering through a ``Replay``.

    Usage goes in ``AIMessage.usage_metadata`` as LangChain's integrations report it;
    ``report_usage=False`` leaves it out, as some providers do, so callers must estimate.
    """

    report_usage: bool = True
    _script: Replay = PrivateAttr()

    def __init__(self, script: Replay, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._script = script

    @property
    def script(self) -> Replay:
        """The engine playing this model's replies."""
        return self._script

    @property
    def _llm_type(self) -> str:
        return "scripted"

    @staticmethod
    def _turns(messages: list[BaseMessage]) -> list[Turn]:
        return [(_ROLES.get(m.type, m.type), str(m.content)) for m in messages]

    def _result(self, answer: Answer) -> ChatResult:
        usage = {
            "input_tokens": answer.prompt_tokens,
            "output_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        }
        message = AIMessage(
            content=answer.text,
            usage_metadata=usage if self.report_usage else None,  # type: ignore[arg-type]
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result(self._script.answer(self._turns(messages)))

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._result(await self._script.aanswer(self._turns(messages)))


class ScriptedLlamaLLM(CustomLLM):
    """A LlamaIndex chat LLM answering through a ``Replay``.

    Usage goes in ``ChatResponse.raw["usage"]`` the way OpenAI's integration reports it;
    ``report_usage=False`` leaves ``raw`` empty. The metadata says a chat model without
    function calling, so callers ask for JSON in the text.
    """

    report_usage: bool = True
    _script: Replay = PrivateAttr()

    def __init__(self, script: Replay, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._script = script

    @property
    def script(self) -> Replay:
        """The engine playing this model's replies."""
        return self._script

    @property
    def metadata(self) -> LLMMetadata:
        """A chat model without function calling."""
        return LLMMetadata(is_chat_model=True, model_name="scripted")

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        """Refused: the code under test should chat, and a test should notice if it did not."""
        raise AssertionError("a scripted model only chats: the caller should not complete")

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        """Streaming is not scripted."""
        raise NotImplementedError("a scripted model does not stream")

    @staticmethod
    def _turns(messages: Sequence[ChatMessage]) -> list[Turn]:
        return [(m.role.value, m.content or "") for m in messages]

    def _response(self, answer: Answer) -> ChatResponse:
        usage = {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
        }
        raw = {"usage": usage} if self.report_usage else {}
        return ChatResponse(message=ChatMessage(role="assistant", content=answer.text), raw=raw)

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Answer a chat."""
        return self._response(self._script.answer(self._turns(messages)))

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        """Async twin of ``chat``."""
        return self._response(await self._script.aanswer(self._turns(messages)))


FRAMEWORKS: dict[str, type[ScriptedChatModel] | type[ScriptedLlamaLLM]] = {
    "langchain": ScriptedChatModel,
    "llamaindex": ScriptedLlamaLLM,
}
"""Framework name -> the scripted model class; both take ``(script, report_usage=True)``."""
