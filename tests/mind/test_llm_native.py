"""Native structured output: LangChain tool calling and LlamaIndex structured_predict.

The models here call tools (LangChain ``bind_tools`` / LlamaIndex function calling),
so the mind takes the native path first and falls to JSON in text when it fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
from llama_index.core.llms import MockLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from pydantic import PrivateAttr

from memory.mind.base import Candidate, MindDecision, NoteDraft
from memory.mind.llm import LLMMind
from memory.model import Note

DRAFT = NoteDraft(
    content="Jon: I lost my job as a banker yesterday, so I'm finally opening my dance studio.",
    timestamp=datetime(2023, 1, 20, 16, 4, tzinfo=timezone.utc),
    metadata={"speaker": "Jon"},
)
CANDIDATES = [
    Candidate(
        note=Note(
            id="id-dance",
            content="Jon: Dancing has been my passion since I was a kid.",
            keywords=["dancing", "passion"],
            tags=["hobby"],
            context="Jon talks about dance with Gina",
        ),
        similarity=0.7,
    )
]
ARGS = {
    "keywords": ["Jon", "lost job", "banker", "dance studio"],
    "tags": ["work", "dance"],
    "context": "Jon tells Gina (20 Jan 2023) he lost his banking job and will open a studio",
    "links": [{"to": "n1", "strength": 0.9, "reason": "Jon's love of dance"}],
    "updates": [{"note": "n1", "add_tags": ["career"], "reason": "dance becomes his work"}],
}


class StubMind:
    """A deterministic fallback mind."""

    name = "stub"

    def decide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return MindDecision(keywords=["stub"], tags=["stub"], context="stub", actor="heuristic")

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return self.decide(draft, candidates)


class ToolCallingChatModel(BaseChatModel):
    """A LangChain model with tool calling: dict -> tool call, str -> text, exception raised."""

    _replies: list[Any] = PrivateAttr()
    _seen: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    def __init__(self, replies: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._replies = list(replies)

    @property
    def seen(self) -> list[dict[str, Any]]:
        """Per call: the messages and whether tools were bound."""
        return self._seen

    @property
    def _llm_type(self) -> str:
        return "tool-calling-scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(tool) for tool in tools], **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.get("tools") or []
        self._seen.append(
            {"messages": [(m.type, str(m.content)) for m in messages], "tools": tools}
        )
        reply = self._replies[len(self._seen) - 1]
        if isinstance(reply, BaseException):
            raise reply
        usage = {"input_tokens": 400, "output_tokens": 60, "total_tokens": 460}
        if isinstance(reply, dict):
            name = tools[0]["function"]["name"]
            call = {"name": name, "args": reply, "id": f"call_{len(self._seen)}"}
            message = AIMessage(content="", tool_calls=[call], usage_metadata=usage)
        else:
            message = AIMessage(content=reply, usage_metadata=usage)
        return ChatResult(generations=[ChatGeneration(message=message)])


def _mind(llm: Any, **kwargs: Any) -> LLMMind:
    return LLMMind(llm=llm, fallback=StubMind(), **kwargs)


def _assert_args_applied(decision: MindDecision) -> None:
    assert decision.actor == "llm"
    assert decision.keywords == ARGS["keywords"]
    assert [(link.target_id, link.strength) for link in decision.links] == [("id-dance", 0.9)]
    assert decision.changes[0].target_id == "id-dance"
    assert decision.changes[0].add_tags == ["career"]


# --- LangChain ---------------------------------------------------------------------


def test_langchain_native_tool_call_is_used() -> None:
    model = ToolCallingChatModel([ARGS])
    decision = _mind(model).decide(DRAFT, CANDIDATES)

    _assert_args_applied(decision)
    [call] = model.seen
    assert call["tools"][0]["function"]["name"] == "NoteReply"
    system = call["messages"][0][1]
    assert "shaped like this" not in system  # the schema travels as the tool, not as text
    assert (decision.usage.calls, decision.usage.prompt_tokens) == (1, 400)
    assert decision.usage.completion_tokens == 60


def test_langchain_native_invalid_args_retry_as_text_with_the_error() -> None:
    bad = {**ARGS, "links": [{"to": "n1", "strength": "strong"}]}
    model = ToolCallingChatModel([bad, json.dumps(ARGS)])
    decision = _mind(model).decide(DRAFT, CANDIDATES)

    _assert_args_applied(decision)
    first, second = model.seen
    assert first["tools"] and not second["tools"]
    assert "shaped like this" in second["messages"][0][1]
    assert "links.0.strength" in second["messages"][-1][1]
    assert (decision.usage.calls, decision.usage.retries) == (2, 1)


def test_langchain_native_answer_in_text_is_still_parsed() -> None:
    model = ToolCallingChatModel([f"```json\n{json.dumps(ARGS)}\n```"])
    decision = _mind(model).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert decision.usage.calls == 1


def test_langchain_native_without_tool_call_falls_to_text() -> None:
    model = ToolCallingChatModel(["I'd rather chat.", json.dumps(ARGS)])
    decision = _mind(model).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert [bool(call["tools"]) for call in model.seen] == [True, False]
    assert decision.usage.retries == 1


def test_langchain_native_exception_is_retried_as_text() -> None:
    model = ToolCallingChatModel([TimeoutError("upstream"), json.dumps(ARGS)])
    decision = _mind(model).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert [bool(call["tools"]) for call in model.seen] == [True, False]


def test_native_can_be_switched_off() -> None:
    model = ToolCallingChatModel([json.dumps(ARGS)])
    decision = _mind(model, use_native_structured_output=False).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert not model.seen[0]["tools"]


@pytest.mark.parametrize("kind", ["FakeListChatModel", "GenericFakeChatModel"])
def test_langchain_model_without_tools_uses_text_without_spending_a_call(kind: str) -> None:
    replies = [json.dumps(ARGS), f"Sure! {json.dumps(ARGS)}"]
    if kind == "FakeListChatModel":
        model: Any = FakeListChatModel(responses=replies)
    else:
        model = GenericFakeChatModel(messages=iter(AIMessage(content=r) for r in replies))
    mind = _mind(model)

    for _ in range(2):  # the second request goes straight to text
        decision = mind.decide(DRAFT, CANDIDATES)
        _assert_args_applied(decision)
        assert (decision.usage.calls, decision.usage.retries) == (1, 0)
        assert decision.usage.prompt_tokens > 0  # estimated: these fakes report no usage


# --- LlamaIndex --------------------------------------------------------------------


class ToolScript:
    """A MockFunctionCallingLLM response generator: dict -> tool call, str -> text."""

    def __init__(self, replies: Sequence[Any]) -> None:
        self.replies = list(replies)
        self.seen: list[dict[str, Any]] = []

    def __call__(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        tools = kwargs.get("tools") or []
        self.seen.append({"messages": list(messages), "tools": tools})
        reply = self.replies[len(self.seen) - 1]
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, dict):
            block = ToolCallBlock(
                tool_call_id="call_1", tool_name=tools[0].metadata.name, tool_kwargs=reply
            )
            return ChatMessage(role=MessageRole.ASSISTANT, blocks=[block])
        return ChatMessage(role=MessageRole.ASSISTANT, content=reply)


def test_llamaindex_structured_predict_is_used_for_function_calling_models() -> None:
    script = ToolScript([ARGS])
    decision = _mind(MockFunctionCallingLLM(response_generator=script)).decide(DRAFT, CANDIDATES)

    _assert_args_applied(decision)
    [call] = script.seen
    assert call["tools"][0].metadata.name == "NoteReply"
    assert "shaped like this" not in (call["messages"][0].content or "")
    assert decision.usage.calls == 1
    assert decision.usage.prompt_tokens > 0 and decision.usage.completion_tokens > 0


async def test_llamaindex_astructured_predict() -> None:
    script = ToolScript([ARGS])
    llm = MockFunctionCallingLLM(response_generator=script)
    decision = await _mind(llm).adecide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert script.seen[0]["tools"]


def test_llamaindex_bad_tool_args_retry_as_text() -> None:
    script = ToolScript([{**ARGS, "keywords": {"bad": 1}}, json.dumps(ARGS)])
    decision = _mind(MockFunctionCallingLLM(response_generator=script)).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert [bool(call["tools"]) for call in script.seen] == [True, False]
    assert decision.usage.retries == 1


def test_llamaindex_without_tool_call_falls_to_text() -> None:
    script = ToolScript(["Let me think about it.", json.dumps(ARGS)])
    decision = _mind(MockFunctionCallingLLM(response_generator=script)).decide(DRAFT, CANDIDATES)
    _assert_args_applied(decision)
    assert [bool(call["tools"]) for call in script.seen] == [True, False]


def test_llamaindex_plain_model_uses_text() -> None:
    # MockLLM echoes its prompt: never valid JSON for the schema, so every attempt is
    # a text attempt that fails and the fallback decides.
    decision = _mind(MockLLM(), max_retries=1).decide(DRAFT, CANDIDATES)
    assert decision.actor == "heuristic-fallback"
    assert (decision.usage.calls, decision.usage.fallbacks) == (2, 1)
