"""Structured requests with retries, timeouts and cost accounting.

    StructuredCaller        call(system, user, schema) / acall(...) -> (object | None, Usage)
     └── _Exchange          the retry logic of one request, free of I/O (shared by both)

One request is a short conversation: native structured output first (when enabled
and supported), else JSON in text. A reply that does not parse or validate is answered
with the error and retried; an exception or timeout is retried as is; a native attempt
that fails moves the rest of the request to text JSON, which every chat model can do;
a caller stops trying native output when it raises ``NotImplementedError``, or when
``NATIVE_STRIKES`` requests in a row succeeded only after their native attempt failed.
After ``max_retries`` retries the result is ``None``: callers decide what that means
(the LLM mind falls back to the heuristic mind). Nothing here raises for a model's
failure; only invalid arguments raise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from memory.errors import InvalidInput
from memory.llm.adapters import ChatBackend, ChatReply, ChatTurn, as_chat_backend
from memory.llm.gate import CallPolicy, ClientBusy, ModelGate, gate_for
from memory.llm.parsing import MalformedReply, describe_error, parse_reply
from memory.llm.tokens import estimate_prompt_tokens, estimate_tokens
from memory.mind.base import Usage
from memory.mind.llm.prompts import clip, compact_json_schema, json_instructions, retry_message

__all__ = ["NATIVE_STRIKES", "StructuredCaller"]

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_ECHO_CHARS = 1000  # how much of a bad reply is echoed back on retry
NATIVE_STRIKES = 3
"""After this many requests in a row rescued by text JSON, a caller stops trying native output
(a model that rejects the tool schema would otherwise cost two calls per request)."""


class _Exchange(Generic[ModelT]):
    """The state of one structured request: messages, mode, attempts, usage, result."""

    def __init__(
        self, system: str, user: str, schema: type[ModelT], *, native: bool, attempts: int
    ) -> None:
        self.schema = schema
        self.native = native
        self.native_refused = False
        self.native_failed = False
        self.native_worked = False
        self.result: ModelT | None = None
        self.usage = Usage()
        self._system = system
        self._user = user
        self._left = attempts
        self._made = 0
        self._followup: list[ChatTurn] = []

    @property
    def pending(self) -> bool:
        return self.result is None and self._left > 0

    def messages(self) -> list[ChatTurn]:
        system = self._system
        if not self.native:
            system = f"{system}\n\n{json_instructions(self.schema)}"
        return [("system", system), ("user", self._user), *self._followup]

    def _count_call(self) -> None:
        self.usage.calls += 1
        if self._made:
            self.usage.retries += 1
        self._made += 1
        self._left -= 1

    def unsupported(self) -> None:
        """Native structured output is not implemented: switch to text, no call spent."""
        logger.info("native structured output unsupported; using JSON in text")
        self.native = False
        self.native_refused = True

    def give_up(self, why: str) -> None:
        """Stop trying: a new call would start while an abandoned one still runs."""
        logger.warning("no further LLM attempt (%s)", why)
        self._left = 0

    def failed(self, exc: Exception) -> None:
        """The call raised (or timed out)."""
        self._count_call()
        if isinstance(exc, ValidationError | MalformedReply):
            self._followup = [("user", retry_message(describe_error(exc)))]
        logger.warning(
            "LLM call failed (attempt %d, %s): %s: %s",
            self._made,
            "native" if self.native else "text",
            type(exc).__name__,
            clip(str(exc), 200),
        )
        self.native_failed = self.native_failed or self.native
        self.native = False

    def replied(self, reply: ChatReply, messages: list[ChatTurn], native: bool) -> None:
        """Account for a reply and parse it; on failure, prepare the retry."""
        self._count_call()
        completion = reply.text
        if reply.parsed is not None and not completion:
            completion = reply.parsed.model_dump_json()
        prompt_estimate = estimate_prompt_tokens(messages)
        if native:  # the schema travels as a tool definition
            prompt_estimate += estimate_tokens(compact_json_schema(self.schema))
        self.usage.prompt_tokens += (
            reply.prompt_tokens if reply.prompt_tokens is not None else prompt_estimate
        )
        self.usage.completion_tokens += (
            reply.completion_tokens
            if reply.completion_tokens is not None
            else estimate_tokens(completion)
        )
        if isinstance(reply.parsed, self.schema):
            self.result = reply.parsed
            self.native_worked = native
            return
        try:
            if native and reply.parsed is not None:
                self.result = self.schema.model_validate(reply.parsed.model_dump())
                self.native_worked = True
                return
            if native and not (reply.text and reply.text.strip()):
                raise MalformedReply(reply.error or "no structured output returned")
            self.result = parse_reply(reply.text, self.schema)
        except (MalformedReply, ValidationError) as exc:
            error = describe_error(exc)
            logger.info("unusable LLM reply (attempt %d): %s", self._made, clip(error, 200))
            echo: list[ChatTurn] = (
                [("assistant", clip(reply.text, _ECHO_CHARS))] if reply.text else []
            )
            self._followup = [*echo, ("user", retry_message(error))]
            self.native_failed = self.native_failed or native
            self.native = False


class StructuredCaller:
    """Ask a chat model for a pydantic object, with retries, timeouts and usage counts.

    Every call goes through the client's ``ModelGate`` (``memory.llm.gate``): a call
    that timed out keeps its slot until it really ends, and no retry or next request
    starts on a client whose slots are all taken -- after a timeout on a one-slot client
    the request gives up at once (the LLM mind then falls back), and a later request
    waits for the slot at most ``timeout`` seconds before giving up the same way.

    Args:
        llm: A LangChain chat model, a LlamaIndex LLM, or a ``ChatBackend``.
        max_retries: Retries after the first attempt (parse errors, exceptions,
            timeouts); ``None`` for the model's default (``CallPolicy.for_model``).
        timeout: Seconds to wait for each call, queueing for the client included;
            ``None`` waits forever; ``"auto"``: none for in-process models, else 60 s.
        concurrency: Calls that may be under way on this client at once, abandoned ones
            included; ``None``: 1 for in-process models, else 4.
        use_native_structured_output: Try the framework's structured output first.

    Raises:
        InvalidInput: A negative ``max_retries``, a non-positive ``timeout`` or
            ``concurrency``, or an ``llm`` of no known kind.

    Example:
        ```python
        caller = StructuredCaller(llm=chat_model, max_retries=1)
        lesson, usage = caller.call("Distil a lesson.", trajectory_text, Lesson)
        if lesson is None:
            ...  # every attempt failed; usage still says what was spent
        ```
    """

    def __init__(
        self,
        *,
        llm: Any,
        max_retries: int | None = None,
        timeout: float | None | str = "auto",
        concurrency: int | None = None,
        use_native_structured_output: bool = True,
    ) -> None:
        self.policy = CallPolicy.for_model(
            llm, timeout=timeout, max_retries=max_retries, concurrency=concurrency
        )
        self.backend: ChatBackend = as_chat_backend(llm)
        self.gate: ModelGate = gate_for(llm, self.policy.concurrency)
        self._native = use_native_structured_output and self.backend.supports_native
        self._native_strikes = 0
        self._lock = threading.Lock()
        self._usage = Usage()

    @property
    def max_retries(self) -> int:
        """Retries after the first attempt of each request."""
        return self.policy.max_retries

    @property
    def timeout(self) -> float | None:
        """Seconds to wait for each call (``None``: no limit)."""
        return self.policy.timeout

    @property
    def usage(self) -> Usage:
        """Running total of every call made through this caller (a copy)."""
        with self._lock:
            return self._usage.model_copy()

    def _start(
        self, system: str, user: str, schema: type[ModelT], max_retries: int | None
    ) -> _Exchange[ModelT]:
        retries = self.max_retries if max_retries is None else max_retries
        if retries < 0:
            raise InvalidInput(f"max_retries must be >= 0, got {retries}")
        return _Exchange(system, user, schema, native=self._native, attempts=retries + 1)

    def _finish(self, exchange: _Exchange[ModelT]) -> tuple[ModelT | None, Usage]:
        with self._lock:
            if exchange.native_refused:
                self._native = False  # remembered: later requests go straight to text
            elif exchange.native_worked:
                self._native_strikes = 0
            elif exchange.native_failed and exchange.result is not None:
                # text worked where native did not: evidence against native, not an outage
                self._native_strikes += 1
                if self._native and self._native_strikes >= NATIVE_STRIKES:
                    logger.warning(
                        "native structured output failed %d requests in a row; "
                        "using JSON in text from now on",
                        self._native_strikes,
                    )
                    self._native = False
        if exchange.result is None:
            logger.warning(
                "LLM gave no usable %s after %d attempt(s)",
                exchange.schema.__name__,
                exchange.usage.calls,
            )
        with self._lock:
            self._usage = self._usage + exchange.usage
        return exchange.result, exchange.usage

    def _after_failure(self, exchange: _Exchange[ModelT], exc: Exception) -> None:
        if isinstance(exc, ClientBusy):  # nothing was sent: no call to count
            exchange.give_up(str(exc))
            return
        exchange.failed(exc)
        if isinstance(exc, TimeoutError) and exchange.pending and self.gate.busy >= self.gate.slots:
            exchange.give_up("the timed-out call still holds the model client")

    def call(
        self,
        system: str,
        user: str,
        schema: type[ModelT],
        *,
        max_retries: int | None = None,
    ) -> tuple[ModelT | None, Usage]:
        """Ask for one ``schema`` object.

        Args:
            system: The system prompt (the JSON schema is appended in text mode).
            user: The user message.
            schema: The pydantic model the reply must validate against.
            max_retries: Overrides the caller's ``max_retries`` for this request.

        Returns:
            The validated object, or ``None`` when every attempt failed; and the usage
            of this request (calls, tokens, retries).
        """
        exchange = self._start(system, user, schema, max_retries)
        while exchange.pending:
            native, messages = exchange.native, exchange.messages()
            try:
                send: Callable[[], ChatReply] = (
                    partial(self.backend.send_structured, messages, schema)
                    if native
                    else partial(self.backend.send, messages)
                )
                reply = self.gate.run(send, self.timeout)
            except NotImplementedError:
                if not native:
                    exchange.failed(NotImplementedError("the model cannot chat"))
                    continue
                exchange.unsupported()
                continue
            except Exception as exc:  # a model failure of any kind is retried, never raised
                self._after_failure(exchange, exc)
                continue
            exchange.replied(reply, messages, native)
        return self._finish(exchange)

    async def _asend(self, native: bool, messages: list[ChatTurn], schema: type[BaseModel]) -> Any:
        if self.gate.slots == 1:
            # Not safe for concurrent calls: the blocking API in a thread the gate tracks
            # (cancelling an awaitable would not stop a framework's executor thread).
            send: Callable[[], ChatReply] = (
                partial(self.backend.send_structured, messages, schema)
                if native
                else partial(self.backend.send, messages)
            )
            return await self.gate.arun_blocking(send, self.timeout)
        if native:
            return await self.gate.arun(
                lambda: self.backend.asend_structured(messages, schema), self.timeout
            )
        return await self.gate.arun(lambda: self.backend.asend(messages), self.timeout)

    async def acall(
        self,
        system: str,
        user: str,
        schema: type[ModelT],
        *,
        max_retries: int | None = None,
    ) -> tuple[ModelT | None, Usage]:
        """Async twin of ``call`` (``ainvoke`` / ``achat`` / ``astructured_predict``).

        A timed-out call is cancelled; on a one-slot client the blocking API runs in a
        tracked thread instead, which keeps the slot until it really returns.
        """
        exchange = self._start(system, user, schema, max_retries)
        while exchange.pending:
            native, messages = exchange.native, exchange.messages()
            try:
                reply = await self._asend(native, messages, schema)
            except NotImplementedError:
                if not native:
                    exchange.failed(NotImplementedError("the model cannot chat"))
                    continue
                exchange.unsupported()
                continue
            except Exception as exc:  # a model failure of any kind is retried, never raised
                self._after_failure(exchange, exc)
                continue
            exchange.replied(reply, messages, native)
        return self._finish(exchange)
