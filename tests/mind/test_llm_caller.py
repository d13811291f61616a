"""StructuredCaller on its own: any schema, a user-supplied ChatBackend, usage, arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel, Field

from memory.errors import InvalidInput
from memory.llm import (
    ChatBackend,
    ChatReply,
    ChatTurn,
    LangChainBackend,
    LlamaIndexBackend,
    StructuredCaller,
    as_chat_backend,
)
from memory.llm.caller import NATIVE_STRIKES
from memory.llm.tokens import langchain_token_counts, llamaindex_token_counts
from memory.mind.base import Usage


class Lesson(BaseModel):
    """What the procedures module might ask for: a distilled lesson."""

    when_to_use: str
    steps: list[str] = Field(min_length=1)


LESSON: dict[str, Any] = {
    "when_to_use": "a flaky test fails on CI only",
    "steps": ["rerun with -p no:randomly"],
}


class ScriptedBackend:
    """A ChatBackend of our own: text replies, native replies, exceptions."""

    name = "scripted"

    def __init__(self, replies: Sequence[Any], *, native: bool = False) -> None:
        self.replies = list(replies)
        self.native = native
        self.sent: list[tuple[str, list[ChatTurn]]] = []

    @property
    def supports_native(self) -> bool:
        return self.native

    def _next(self, mode: str, messages: Sequence[ChatTurn]) -> Any:
        self.sent.append((mode, list(messages)))
        reply = self.replies[len(self.sent) - 1]
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def send(self, messages: Sequence[ChatTurn]) -> ChatReply:
        return ChatReply(text=self._next("text", messages), prompt_tokens=100, completion_tokens=10)

    async def asend(self, messages: Sequence[ChatTurn]) -> ChatReply:
        return self.send(messages)

    def send_structured(self, messages: Sequence[ChatTurn], schema: type[BaseModel]) -> ChatReply:
        reply = self._next("native", messages)
        return ChatReply(parsed=None if reply is None else schema.model_validate(reply))

    async def asend_structured(
        self, messages: Sequence[ChatTurn], schema: type[BaseModel]
    ) -> ChatReply:
        return self.send_structured(messages, schema)


def test_a_chat_backend_passes_through() -> None:
    backend = ScriptedBackend([])
    assert isinstance(backend, ChatBackend)
    assert as_chat_backend(backend) is backend


def test_call_returns_the_object_and_its_usage() -> None:
    backend = ScriptedBackend([json.dumps(LESSON)])
    caller = StructuredCaller(llm=backend)
    lesson, usage = caller.call("Distil a lesson.", "trajectory ...", Lesson)
    assert lesson == Lesson(**LESSON)
    assert usage == Usage(calls=1, prompt_tokens=100, completion_tokens=10)
    system = backend.sent[0][1][0][1]
    assert system.startswith("Distil a lesson.") and "when_to_use: string" in system


def test_schema_constraints_drive_the_retry() -> None:
    backend = ScriptedBackend([json.dumps({**LESSON, "steps": []}), json.dumps(LESSON)])
    lesson, usage = StructuredCaller(llm=backend).call("s", "u", Lesson)
    assert lesson is not None
    assert "steps" in backend.sent[1][1][-1][1]
    assert (usage.calls, usage.retries) == (2, 1)


def test_failure_returns_none_with_usage_and_never_raises() -> None:
    backend = ScriptedBackend([RuntimeError("a"), "nope", KeyError("b")])
    lesson, usage = StructuredCaller(llm=backend, max_retries=2).call("s", "u", Lesson)
    assert lesson is None
    assert usage == Usage(calls=3, prompt_tokens=100, completion_tokens=10, retries=2)


def test_max_retries_can_be_overridden_per_call() -> None:
    backend = ScriptedBackend(["nope", json.dumps(LESSON)])
    caller = StructuredCaller(llm=backend, max_retries=3)
    lesson, usage = caller.call("s", "u", Lesson, max_retries=0)
    assert lesson is None and usage.calls == 1
    with pytest.raises(InvalidInput):
        caller.call("s", "u", Lesson, max_retries=-1)


def test_native_first_then_text_when_native_returns_nothing() -> None:
    backend = ScriptedBackend([None, json.dumps(LESSON)], native=True)
    lesson, usage = StructuredCaller(llm=backend).call("s", "u", Lesson)
    assert lesson is not None
    assert [mode for mode, _ in backend.sent] == ["native", "text"]
    assert usage.retries == 1


def test_native_is_dropped_after_repeated_rescues_by_text() -> None:
    rescued = [None, json.dumps(LESSON)] * NATIVE_STRIKES
    backend = ScriptedBackend([*rescued, json.dumps(LESSON)], native=True)
    caller = StructuredCaller(llm=backend)
    for _ in range(NATIVE_STRIKES + 1):
        lesson, _ = caller.call("s", "u", Lesson)
        assert lesson is not None
    modes = [mode for mode, _ in backend.sent]
    assert modes == ["native", "text"] * NATIVE_STRIKES + ["text"]


def test_native_is_kept_when_everything_fails() -> None:
    # an outage is no evidence against native output
    backend = ScriptedBackend([ConnectionError("down")] * 6 + [LESSON], native=True)
    caller = StructuredCaller(llm=backend, max_retries=1)
    for _ in range(3):
        assert caller.call("s", "u", Lesson)[0] is None
    assert caller.call("s", "u", Lesson)[0] == Lesson(**LESSON)
    assert backend.sent[-1][0] == "native"


def test_native_success_estimates_usage_when_unreported() -> None:
    backend = ScriptedBackend([LESSON], native=True)
    lesson, usage = StructuredCaller(llm=backend).call("s", "u", Lesson)
    assert lesson is not None
    assert usage.calls == 1 and usage.prompt_tokens > 0 and usage.completion_tokens > 0


async def test_acall_matches_call() -> None:
    replies = ["```\nnot json\n```", json.dumps(LESSON)]
    sync_result = StructuredCaller(llm=ScriptedBackend(replies)).call("s", "u", Lesson)
    async_result = await StructuredCaller(llm=ScriptedBackend(replies)).acall("s", "u", Lesson)
    assert async_result == sync_result


def test_running_total_on_the_caller() -> None:
    backend = ScriptedBackend([json.dumps(LESSON), "x", json.dumps(LESSON)])
    caller = StructuredCaller(llm=backend)
    caller.call("s", "u", Lesson)
    caller.call("s", "u", Lesson)
    assert caller.usage == Usage(calls=3, prompt_tokens=300, completion_tokens=30, retries=1)


@pytest.mark.parametrize(
    "kwargs", [{"max_retries": -1}, {"timeout": 0}, {"timeout": -2.0}], ids=str
)
def test_invalid_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        StructuredCaller(llm=ScriptedBackend([]), **kwargs)


def test_unknown_llm_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="LangChain chat model"):
        as_chat_backend(object())


def test_frameworks_are_recognised() -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from llama_index.core.llms import MockLLM

    assert isinstance(as_chat_backend(FakeListChatModel(responses=["x"])), LangChainBackend)
    assert isinstance(as_chat_backend(MockLLM()), LlamaIndexBackend)


class _Obj:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (_Obj(usage_metadata={"input_tokens": 7, "output_tokens": 3}), (7, 3)),
        (
            _Obj(usage_metadata=None, response_metadata={"token_usage": {"prompt_tokens": 5}}),
            (5, 0),
        ),
        (_Obj(usage_metadata=None, response_metadata={}), None),
    ],
)
def test_langchain_token_counts(message: Any, expected: tuple[int, int] | None) -> None:
    assert langchain_token_counts(message) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_Obj(additional_kwargs={"prompt_tokens": 9, "completion_tokens": 2}, raw=None), (9, 2)),
        (_Obj(additional_kwargs={}, raw=_Obj(usage=_Obj(input_tokens=4, output_tokens=1))), (4, 1)),
        (_Obj(additional_kwargs={}, raw={"prompt_eval_count": 12, "eval_count": 6}), (12, 6)),
        (_Obj(additional_kwargs={}, raw={"content": "hi"}), None),
    ],
    ids=["openai-kwargs", "anthropic-raw", "ollama-raw", "none"],
)
def test_llamaindex_token_counts(response: Any, expected: tuple[int, int] | None) -> None:
    assert llamaindex_token_counts(response) == expected
