"""ZettelmemAgentHooks through LlamaIndex's own agent loop (FunctionAgent + a scripted LLM)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from llama_index.core.agent.workflow import AgentStream, FunctionAgent, ToolCallResult
from llama_index.core.memory import Memory
from llama_index.core.tools import FunctionTool

from integrations.agent_recall import OPEN_TAG
from integrations.llamaindex_agent import ZettelmemAgentHooks
from memory import AgenticMemory
from tests.doubles.tool_calling import (
    BrokenMemory,
    MemorySpy,
    Move,
    Plan,
    next_move,
    scripted_function_llm,
)

FIX = "Fix the failing test in tests/test_parser.py"
FIX_AGAIN = "Fix the failing test in tests/test_lexer.py"


def run_tests(path: str) -> str:
    """Run the tests of one file and report failures."""
    return f"1 failed in {path}: AssertionError"


async def read_file(path: str) -> str:
    """Read a source file."""
    return f"def parse(text):  # contents of {path}"


def write_file(path: str, content: str) -> str:
    """Write a source file."""
    return f"wrote {len(content)} bytes to {path}"


TOOLS = [FunctionTool.from_defaults(fn) for fn in (run_tests, write_file)]
TOOLS.append(FunctionTool.from_defaults(async_fn=read_file))


def coder_policy(task: str, answered: int) -> Move:
    module = task.rsplit("test_", 1)[-1].removesuffix(".py")
    plan = Plan(
        calls=[
            ("run_tests", {"path": f"tests/test_{module}.py"}),
            ("read_file", {"path": f"src/{module}.py"}),
            ("write_file", {"path": f"src/{module}.py", "content": "fixed"}),
        ],
        answer=f"Fixed src/{module}.py; the tests pass.",
    )
    return next_move(plan, answered)


def make_agent() -> tuple[FunctionAgent, Any]:
    llm = scripted_function_llm(coder_policy)
    agent = FunctionAgent(llm=llm, tools=TOOLS, system_prompt="You are a careful coder.")
    return agent, llm


def memory_texts(llm: Any) -> list[str]:
    """The memory section of each prompt the LLM got ("" when there was none)."""
    texts = []
    for prompt in llm.prompts:
        found = [m.content or "" for m in prompt if m.role.value == "system"]
        texts.append(next((t for t in found if OPEN_TAG in t), ""))
    return texts


def procedures(mem: AgenticMemory, user: str = "alice") -> list:
    return [n for n in mem.notes(user_id=user) if n.kind == "procedure"]


async def test_the_second_run_is_shown_what_the_first_taught(mem: AgenticMemory) -> None:
    spy = MemorySpy(mem)
    hooks = ZettelmemAgentHooks(spy, judge=lambda run: True)
    agent, llm = make_agent()

    first = hooks.run(agent, FIX, user_id="alice")
    output = await first
    assert output.response.content == "Fixed src/parser.py; the tests pass."
    assert [c.name for c in first.tool_calls] == ["run_tests", "read_file", "write_file"]
    assert all(text == "" for text in memory_texts(llm))
    (procedure,) = procedures(mem)
    assert procedure.sources == [first.run_id]
    assert 'read_file {"path": "src/parser.py"}' in procedure.content
    episodic = sorted(n.content for n in mem.notes(user_id="alice") if n.kind == "episodic")
    assert episodic == [f"assistant: {output.response.content}", f"user: {FIX}"]

    llm.prompts.clear()
    recalls = spy.calls.get("arecall", 0)
    await hooks.run(agent, FIX_AGAIN, user_id="alice")
    texts = memory_texts(llm)
    assert len(texts) == 4 and all('run_tests {"path": ' in t for t in texts)
    assert spy.calls["arecall"] - recalls == 1  # one recall for the run's four LLM calls
    credited = mem.get(procedure.id)
    assert (credited.retrieved_count, credited.success_count) == (1, 1)


async def test_streamed_events_are_passed_through_and_captured(mem: AgenticMemory) -> None:
    hooks = ZettelmemAgentHooks(mem, judge=lambda run: "pass" in run.answer)
    agent, _ = make_agent()
    run = hooks.run(agent, FIX, user_id="alice")
    seen = [type(event) async for event in run.stream_events()]
    assert seen.count(ToolCallResult) == 3 and AgentStream in seen
    await run
    assert run.outcome is True and len(procedures(mem)) == 1


async def test_without_a_judge_feedback_concludes_the_run(mem: AgenticMemory) -> None:
    hooks = ZettelmemAgentHooks(mem)
    agent, _ = make_agent()
    run = hooks.run(agent, FIX, user_id="alice", learning_run_id="run-1")
    await run
    assert procedures(mem) == [] and hooks.learning.pending_runs == ["run-1"]
    assert await hooks.afeedback("run-1", success=True) is True
    assert procedures(mem)[0].sources == ["run-1"]
    assert hooks.feedback("run-1", success=True) is False


async def test_failing_runs_wear_a_procedure_down_until_prune_removes_it(
    mem: AgenticMemory,
) -> None:
    outcome = {"ok": True}
    hooks = ZettelmemAgentHooks(mem, judge=lambda run: outcome["ok"], procedures_k=1)
    agent, _ = make_agent()
    await hooks.run(agent, FIX, user_id="alice")
    (procedure,) = procedures(mem)
    outcome["ok"] = False
    for number in range(5):
        await hooks.run(
            agent, f"Fix the failing test in tests/test_mod{number}.py", user_id="alice"
        )
    assert mem.get(procedure.id).success_count == 0
    assert procedure.id in {r.note_id for r in mem.prune(user_id="alice")}


async def test_two_users_of_one_agent_run_concurrently_apart(mem: AgenticMemory) -> None:
    hooks = ZettelmemAgentHooks(mem, judge=lambda run: True, agent_id="coder")
    agent, llm = make_agent()
    await hooks.run(agent, FIX, user_id="alice")
    llm.prompts.clear()
    bob, carol = await asyncio.gather(
        hooks.run(agent, FIX_AGAIN, user_id="bob").result(),
        hooks.run(agent, FIX_AGAIN, user_id="carol").result(),
    )
    assert bob.response.content == carol.response.content
    assert all(text == "" for text in memory_texts(llm))  # alice's procedure stays hers
    assert {n.user_id for n in mem.notes()} == {"alice", "bob", "carol"}
    assert all(len(procedures(mem, user)) == 1 for user in ("alice", "bob", "carol"))


async def test_a_callers_memory_keeps_its_history_and_gains_the_block(mem: AgenticMemory) -> None:
    hooks = ZettelmemAgentHooks(mem, judge=lambda run: True)
    agent, llm = make_agent()
    chat = Memory.from_defaults(session_id="s1")
    await hooks.run(agent, FIX, user_id="alice", memory=chat)
    assert chat.memory_blocks == []  # the caller's object is not changed
    history = await chat.aget_all()
    assert [m.role.value for m in history][0] == "user" and len(history) >= 2
    llm.prompts.clear()
    await hooks.run(agent, FIX_AGAIN, user_id="alice", memory=chat)
    assert all(OPEN_TAG in text for text in memory_texts(llm))


async def test_a_failing_memory_never_breaks_the_run(caplog: pytest.LogCaptureFixture) -> None:
    hooks = ZettelmemAgentHooks(BrokenMemory(), judge=lambda run: True)
    agent, llm = make_agent()
    with caplog.at_level(logging.ERROR, logger="integrations.agent_learning"):
        output = await hooks.run(agent, FIX, user_id="alice")
    assert output.response.content == "Fixed src/parser.py; the tests pass."
    assert all(text == "" for text in memory_texts(llm))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "recall failed" in logged and "exchange failed" in logged and "learning" in logged


async def test_an_agent_workflow_learns_the_same_way(mem: AgenticMemory) -> None:
    from llama_index.core.agent.workflow import AgentWorkflow

    hooks = ZettelmemAgentHooks(mem, judge=lambda run: True)
    llm = scripted_function_llm(coder_policy)
    coder = FunctionAgent(name="coder", description="Fixes code.", llm=llm, tools=TOOLS)
    workflow = AgentWorkflow(agents=[coder], root_agent="coder")
    await hooks.run(workflow, FIX, user_id="alice")
    assert len(procedures(mem)) == 1
    llm.prompts.clear()
    run = hooks.run(workflow, FIX_AGAIN, user_id="alice")
    output = await run
    assert output.response.content == "Fixed src/lexer.py; the tests pass."
    assert [c.name for c in run.tool_calls] == ["run_tests", "read_file", "write_file"]
    assert all('run_tests {"path": ' in t for t in memory_texts(llm))
