"""The MCP server: every tool called through the official client, in-process and over stdio."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters  # noqa: E402

from integrations.mcp_server import TOOL_NAMES, build_server  # noqa: E402
from memory import AgenticMemory, InvalidInput  # noqa: E402
from memory.embed import HashingEmbedder  # noqa: E402

STEPS = [
    {"action": "open the cupboard", "observation": "you see a mug"},
    {"action": "take the mug from the cupboard", "observation": "you take the mug"},
    {"action": "put the mug in the sink", "observation": "done"},
]


def _data(result: Any) -> Any:
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    return data["result"] if isinstance(data, dict) and set(data) == {"result"} else data


def _error(result: Any) -> str:
    assert result.is_error
    return str(result.content[0].text)


@pytest.fixture
def shared() -> AgenticMemory:
    """One memory holding a note of another user, which no tool may reach."""
    memory = AgenticMemory(embedder=HashingEmbedder(), link_threshold=0.3)
    memory.add("Bob: my bank PIN is 1234", user_id="bob")
    yield memory
    memory.close()


async def _exercise(client: Client, bob_note: str) -> None:
    """Call every tool, check the results, and the error paths, through one client."""
    listed = await client.list_tools()
    assert sorted(t.name for t in listed.tools) == sorted(TOOL_NAMES)
    for tool in listed.tools:
        assert tool.description
        assert not {"user_id", "agent_id", "run_id"} & set(tool.input_schema.get("properties", {}))

    saved = _data(await client.call_tool("save_memory", {"content": "Ann: I drink oat milk tea"}))
    second = _data(
        await client.call_tool(
            "save_memory", {"content": "Ann: oat milk tea every morning", "metadata": {"n": 2}}
        )
    )
    hits = _data(await client.call_tool("search_memory", {"query": "oat milk tea", "k": 5}))
    assert {h["id"] for h in hits} == {saved["id"], second["id"]}
    assert all("PIN" not in h["content"] for h in hits)
    shown = _data(await client.call_tool("show_note", {"note_id": second["id"]}))
    assert shown["note"]["id"] == second["id"] and shown["history_events"] >= 1
    assert saved["id"] in {n["id"] for n in shown["linked"]}

    learned = _data(
        await client.call_tool(
            "learn_trajectory",
            {
                "task": "put a clean mug in the sink",
                "steps": STEPS,
                "success": True,
                "trajectory_id": "t1",
            },
        )
    )
    assert learned and learned[0]["kind"] in ("procedure", "concept")
    recalled = _data(await client.call_tool("recall_procedures", {"task": "put a mug in the sink"}))
    assert recalled and recalled[0]["id"] in {n["id"] for n in learned}
    counts = _data(
        await client.call_tool("give_feedback", {"note_ids": [learned[0]["id"]], "success": True})
    )
    assert counts == [{"id": learned[0]["id"], "retrieved": 1, "successes": 1}]
    assert _data(await client.call_tool("delete_note", {"note_id": saved["id"]})) == {
        "deleted": saved["id"]
    }
    assert "no note with id" in _error(
        await client.call_tool("show_note", {"note_id": saved["id"]})
    )

    # Another scope's note is out of reach of every tool that takes an id.
    for tool, arguments in (
        ("show_note", {"note_id": bob_note}),
        ("delete_note", {"note_id": bob_note}),
        ("give_feedback", {"note_ids": [bob_note], "success": False}),
    ):
        assert "no note with id" in _error(await client.call_tool(tool, arguments))
    # Bad input is a tool error that names the problem; the server keeps serving.
    assert "content must not be empty" in _error(
        await client.call_tool("save_memory", {"content": "   "})
    )
    assert "k" in _error(await client.call_tool("search_memory", {"query": "x", "k": 0}))
    assert "steps" in _error(
        await client.call_tool("learn_trajectory", {"task": "x", "steps": [], "success": True})
    )
    # A scope smuggled in as an extra argument changes nothing: still only ann's notes.
    smuggled = await client.call_tool("search_memory", {"query": "bank PIN", "user_id": "bob"})
    assert not smuggled.is_error
    assert all("PIN" not in h["content"] for h in _data(smuggled))


async def test_every_tool_in_process(shared: AgenticMemory) -> None:
    bob_note = shared.notes(user_id="bob")[0].id
    async with Client(build_server(shared, user_id="ann")) as client:
        await _exercise(client, bob_note)
    assert shared.get(bob_note, user_id="bob").content == "Bob: my bank PIN is 1234"
    assert len(shared.notes(user_id="ann", kinds=["episodic"])) == 1


def test_a_server_needs_a_scope(shared: AgenticMemory) -> None:
    with pytest.raises(InvalidInput, match="needs a scope"):
        build_server(shared)


async def test_every_tool_over_stdio_through_the_cli(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with AgenticMemory(store, embedder=HashingEmbedder()) as mem:
        bob_note = mem.add("Bob: my bank PIN is 1234", user_id="bob").id
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "ZETTELMEM_EMBEDDER": "hashing",
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "memory.cli", "mcp", "--path", str(store), "--user", "ann"],
        env=env,
    )
    async with Client(params) as client:
        await _exercise(client, bob_note)
    with AgenticMemory(store, embedder=HashingEmbedder()) as mem:
        assert mem.get(bob_note).content == "Bob: my bank PIN is 1234"
        assert {n.user_id for n in mem.notes()} == {"ann", "bob"}


def test_without_the_sdk_the_error_names_the_extra(
    shared: AgenticMemory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mcp.server.mcpserver", None)
    with pytest.raises(ImportError, match=r"zettelmem\[mcp\]"):
        build_server(shared, user_id="ann")


def test_the_mcp_command_needs_a_scope(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from memory.cli import cli

    result = CliRunner().invoke(cli, ["mcp", "--path", str(tmp_path / "s")])
    assert result.exit_code == 1 and "needs a scope" in result.stderr
    assert not (tmp_path / "s").exists()
