"""memory_tools (LangChain): schemas an LLM can fill, JSON tool calls, scope, errors, async."""

from __future__ import annotations

from typing import Any

from integration_data import ALICE_NOTES, requires_procedural
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from integrations.langchain import memory_tools
from memory import AgenticMemory, SearchResult

NAMES = ["save_memory", "search_memory", "record_trajectory", "recall_procedures"]


def by_name(tools: list[StructuredTool]) -> dict[str, StructuredTool]:
    return {tool.name: tool for tool in tools}


def call(tool: StructuredTool, args: dict[str, Any], call_id: str = "call-1") -> ToolMessage:
    message = tool.invoke({"type": "tool_call", "name": tool.name, "args": args, "id": call_id})
    assert isinstance(message, ToolMessage)
    return message


def described(schema: dict[str, Any], defs: dict[str, Any]) -> None:
    for name, field in schema["properties"].items():
        if "$ref" in field:
            field = defs[field["$ref"].split("/")[-1]]
        assert field.get("description"), f"{name} has no description"
        if field.get("type") == "array" and "$ref" in field["items"]:
            described(defs[field["items"]["$ref"].split("/")[-1]], defs)


def test_every_argument_is_described_for_the_model(mem: AgenticMemory) -> None:
    tools = memory_tools(mem, user_id="alice")
    assert [tool.name for tool in tools] == NAMES
    for tool in tools:
        spec = convert_to_openai_tool(tool)["function"]
        assert spec["description"]
        params = spec["parameters"]
        described(params, params.get("$defs", {}))
    steps = convert_to_openai_tool(tools[2])["function"]["parameters"]["properties"]["steps"]
    assert steps["type"] == "array"


def test_save_then_search_with_json_arguments(mem: AgenticMemory) -> None:
    tools = by_name(memory_tools(mem, user_id="alice"))
    saved = tools["save_memory"].invoke({"content": ALICE_NOTES[0]})
    assert ALICE_NOTES[0] in saved
    note = mem.notes(user_id="alice")[0]
    assert note.content == ALICE_NOTES[0] and note.metadata == {"source": "save_memory"}
    text = tools["search_memory"].invoke({"query": "peanut allergy", "k": 3})
    assert ALICE_NOTES[0] in text


def test_tool_calls_return_the_hits_as_artifact(seeded: AgenticMemory) -> None:
    tools = by_name(memory_tools(seeded, user_id="alice"))
    message = call(tools["search_memory"], {"query": "beagle called Rex", "k": 2})
    assert message.tool_call_id == "call-1"
    assert len(message.artifact) == 2
    assert all(isinstance(hit, SearchResult) for hit in message.artifact)
    assert message.artifact[0].note.content == ALICE_NOTES[1]
    assert ALICE_NOTES[1] in message.content


def test_tools_are_scoped_to_their_user(seeded: AgenticMemory) -> None:
    bob = by_name(memory_tools(seeded, user_id="bob"))
    bob["save_memory"].invoke({"content": "Bob's password hint is 'blue'."})
    for query in [*ALICE_NOTES, "allergic", "password hint"]:
        hits = call(bob["search_memory"], {"query": query, "k": 20}).artifact
        assert {hit.note.user_id for hit in hits} == {"bob"}
    alice = by_name(memory_tools(seeded, user_id="alice"))
    hits = call(alice["search_memory"], {"query": "password hint", "k": 20}).artifact
    assert all(hit.note.user_id == "alice" for hit in hits)


def test_bad_arguments_come_back_to_the_model(mem: AgenticMemory) -> None:
    tools = by_name(memory_tools(mem, user_id="alice"))
    assert "Invalid tool arguments" in tools["search_memory"].invoke({"query": "x", "k": 0})
    assert "Invalid tool arguments" in tools["save_memory"].invoke({"content": ""})
    message = call(tools["save_memory"], {"content": "nul \x00 byte"})
    assert message.status == "error" and "NUL" in message.content
    assert mem.count() == 0


async def test_async_tool_calls(seeded: AgenticMemory) -> None:
    tools = by_name(memory_tools(seeded, user_id="alice"))
    await tools["save_memory"].ainvoke({"content": "Alice booked a trip to Kyoto."})
    text = await tools["search_memory"].ainvoke({"query": "Kyoto trip", "k": 1})
    assert "Alice booked a trip to Kyoto." in text


STEPS = [
    ("go to countertop 1", "On the countertop 1, you see a mug 1."),
    ("take mug 1 from countertop 1", "You pick up the mug 1 from the countertop 1."),
    ("go to sinkbasin 1", "On the sinkbasin 1, you see nothing."),
    ("clean mug 1 with sinkbasin 1", "You clean the mug 1 using the sinkbasin 1."),
    ("go to coffeemachine 1", "On the coffeemachine 1, you see nothing."),
    ("put mug 1 in/on coffeemachine 1", "You put the mug 1 in/on the coffeemachine 1."),
]
STEP_ARGS: list[dict[str, str]] = [{"action": a, "observation": o} for a, o in STEPS]
STEP_ARGS[0]["thought"] = "A mug is likely on the countertop."
TRAJECTORY = {"task": "put a clean mug in coffeemachine.", "steps": STEP_ARGS, "success": True}


@requires_procedural
def test_record_a_trajectory_then_recall_it(mem: AgenticMemory) -> None:
    alice = by_name(memory_tools(mem, user_id="alice"))
    learned = call(alice["record_trajectory"], TRAJECTORY)
    assert learned.status != "error", learned.content
    assert learned.artifact and all(note.user_id == "alice" for note in learned.artifact)
    recalled = call(alice["recall_procedures"], {"task": "put a clean cup in the coffeemachine."})
    assert recalled.artifact and recalled.artifact[0].note.kind in {"procedure", "concept"}
    bob = by_name(memory_tools(mem, user_id="bob"))
    assert call(bob["recall_procedures"], {"task": TRAJECTORY["task"]}).artifact == []


def test_a_trajectory_without_steps_is_refused(mem: AgenticMemory) -> None:
    tools = by_name(memory_tools(mem, user_id="alice"))
    text = tools["record_trajectory"].invoke({"task": "t", "steps": [], "success": True})
    assert "Invalid tool arguments" in text
