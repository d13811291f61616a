"""LlamaIndex ZettelmemRetriever and memory_tools: nodes, query engine, JSON tool calls, scope."""

from __future__ import annotations

import pytest
from integration_data import ALICE_NOTES, BOB_NOTES, requires_procedural
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode
from llama_index.core.tools import FunctionTool
from pydantic import ValidationError

from integrations.llamaindex import ZettelmemRetriever, memory_tools
from memory import AgenticMemory


def test_retrieve_returns_scored_text_nodes(seeded: AgenticMemory) -> None:
    nodes = ZettelmemRetriever(seeded, k=3, user_id="alice").retrieve("beagle called Rex")
    assert len(nodes) == 3
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, TextNode) for n in nodes)
    top = nodes[0]
    note = seeded.get(top.node.node_id)
    assert top.node.get_content() == note.content == ALICE_NOTES[1]
    assert top.score == pytest.approx(top.node.metadata["score"])
    assert top.node.metadata["n"] == 1 and top.node.metadata["keywords"] == note.keywords
    for_llm = top.node.get_content(metadata_mode=MetadataMode.LLM)
    assert note.id not in for_llm and "keywords" in for_llm


async def test_aretrieve_matches_retrieve(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(seeded, k=2, user_id="alice")
    sync = retriever.retrieve("tennis sister")
    nodes = await retriever.aretrieve("tennis sister")
    assert [n.node.node_id for n in nodes] == [n.node.node_id for n in sync]
    assert await retriever.aretrieve("  ") == []


def test_retriever_scope_kinds_and_filters(seeded: AgenticMemory) -> None:
    bob = ZettelmemRetriever(seeded, k=10, user_id="bob")
    for query in [*ALICE_NOTES, "allergic"]:
        assert {n.node.get_content() for n in bob.retrieve(query)} <= set(BOB_NOTES)
    only = ZettelmemRetriever(seeded, user_id="alice", filters={"n": 2})
    assert [n.node.get_content() for n in only.retrieve("Alice")] == [ALICE_NOTES[2]]
    assert ZettelmemRetriever(seeded, user_id="alice", kinds=["concept"]).retrieve("Alice") == []


def test_in_a_query_engine(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(seeded, k=2, user_id="alice")
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
    response = engine.query("What is Alice allergic to?")
    assert response.source_nodes[0].node.get_content() == ALICE_NOTES[0]
    assert all(n.node.metadata["user_id"] == "alice" for n in response.source_nodes)


def by_name(tools: list[FunctionTool]) -> dict[str, FunctionTool]:
    return {tool.metadata.get_name(): tool for tool in tools}


def test_tools_mirror_the_langchain_ones(mem: AgenticMemory) -> None:
    tools = memory_tools(mem, user_id="alice")
    names = [tool.metadata.name for tool in tools]
    assert names == ["save_memory", "search_memory", "record_trajectory", "recall_procedures"]
    for tool in tools:
        schema = tool.metadata.get_parameters_dict()
        assert tool.metadata.description
        assert all(field.get("description") for field in schema["properties"].values())


def test_save_and_search_with_json_arguments(seeded: AgenticMemory) -> None:
    tools = by_name(memory_tools(seeded, user_id="alice"))
    saved = tools["save_memory"].call(content="Alice booked a trip to Kyoto.")
    assert saved.content == "Saved to memory: Alice booked a trip to Kyoto."
    found = tools["search_memory"].call(query="Kyoto trip", k=1)
    assert "Alice booked a trip to Kyoto." in found.content
    text, hits = found.raw_output
    assert text == found.content and hits[0].note.user_id == "alice"
    default_k = tools["search_memory"].call(query="Alice")
    assert len(default_k.raw_output[1]) == 5


async def test_async_tool_calls_are_scoped(seeded: AgenticMemory) -> None:
    bob = by_name(memory_tools(seeded, user_id="bob"))
    await bob["save_memory"].acall(content="Bob is learning Portuguese.")
    for query in [*ALICE_NOTES, "Portuguese"]:
        output = await bob["search_memory"].acall(query=query, k=20)
        assert {hit.note.user_id for hit in output.raw_output[1]} == {"bob"}


def test_bad_arguments_raise_validation_errors(mem: AgenticMemory) -> None:
    tools = by_name(memory_tools(mem, user_id="alice"))
    with pytest.raises(ValidationError):
        tools["search_memory"].call(query="x", k=0)
    with pytest.raises(ValidationError):
        tools["record_trajectory"].call(task="t", steps=[], success=True)
    assert mem.count() == 0


@requires_procedural
async def test_record_and_recall_procedures(mem: AgenticMemory) -> None:
    tools = by_name(memory_tools(mem, user_id="alice"))
    steps = [
        {"action": "go to fridge 1", "observation": "The fridge 1 is closed."},
        {"action": "open fridge 1", "observation": "You open the fridge 1. You see an apple 1."},
        {"action": "take apple 1 from fridge 1", "observation": "You pick up the apple 1."},
        {"action": "go to microwave 1", "observation": "The microwave 1 is closed."},
        {"action": "heat apple 1 with microwave 1", "observation": "You heat the apple 1."},
        {"action": "go to diningtable 1", "observation": "On the diningtable 1, you see a fork."},
        {"action": "put apple 1 in/on diningtable 1", "observation": "You put the apple 1."},
    ]
    learned = await tools["record_trajectory"].acall(
        task="heat some apple and put it in diningtable.", steps=steps, success=True
    )
    assert learned.raw_output[1]
    recalled = tools["recall_procedures"].call(task="heat some potato and put it in diningtable.")
    assert recalled.raw_output[1] and "No procedures" not in recalled.content
