"""ZettelmemMiddleware through LangChain's own agent loop (create_agent + a scripted model)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from langchain.agents import create_agent
from langchain.tools import ToolRuntime
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from integrations.agent_recall import OPEN_TAG, default_token_counter
from integrations.langchain_middleware import ZettelmemMiddleware
from integrations.langgraph_store import ZettelmemStore
from memory import AgenticMemory
from tests.doubles.tool_calling import (
    BrokenMemory,
    MemorySpy,
    Move,
    Plan,
    ScriptedToolChatModel,
    next_move,
)

FIX = "Fix the failing test in tests/test_parser.py"
FIX_AGAIN = "Fix the failing test in tests/test_lexer.py"


@tool
def run_tests(path: str) -> str:
    """Run the tests of one file and report failures."""
    return f"1 failed in {path}: AssertionError"


@tool
def read_file(path: str) -> str:
    """Read a source file."""
    return f"def parse(text):  # contents of {path}\n    return text"


@tool
def write_file(path: str, content: str) -> str:
    """Write a source file."""
    return f"wrote {len(content)} bytes to {path}"


TOOLS = [run_tests, read_file, write_file]


def fix_plan(task: str) -> Plan:
    module = task.rsplit("test_", 1)[-1].removesuffix(".py")
    return Plan(
        calls=[
            ("run_tests", {"path": f"tests/test_{module}.py"}),
            ("read_file", {"path": f"src/{module}.py"}),
            ("write_file", {"path": f"src/{module}.py", "content": "fixed"}),
        ],
        answer=f"Fixed src/{module}.py; the tests pass.",
    )


def coder_policy(task: str, answered: int) -> Move:
    return next_move(fix_plan(task), answered)


@dataclass
class Context:
    user_id: str


def make_agent(middleware: ZettelmemMiddleware, **kwargs: object):  # type: ignore[no-untyped-def]
    model = ScriptedToolChatModel(policy=coder_policy)
    agent = create_agent(
        model, TOOLS, system_prompt="You are a careful coder.", middleware=[middleware], **kwargs
    )
    return agent, model


def ask(text: str) -> dict:
    return {"messages": [{"role": "user", "content": text}]}


def alice(**extra: object) -> dict:
    return {"configurable": {"user_id": "alice"}, **extra}


def learned(mem: AgenticMemory, user: str = "alice") -> list:
    return [n for n in mem.notes(user_id=user) if n.kind == "procedure"]


def test_the_second_run_is_shown_what_the_first_taught(mem: AgenticMemory) -> None:
    spy = MemorySpy(mem)
    middleware = ZettelmemMiddleware(spy, judge=lambda run: True)
    agent, model = make_agent(middleware)

    first = agent.invoke(ask(FIX), config=alice())
    assert first["messages"][-1].content == "Fixed src/parser.py; the tests pass."
    assert all(OPEN_TAG not in text for text in model.system_texts())  # nothing learned yet

    (procedure,) = learned(mem)
    assert procedure.sources == [first["zettelmem_run_id"]]
    assert 'run_tests {"path": ' in procedure.content
    assert "write_file" in procedure.content
    exchange = sorted(n.content for n in mem.notes(user_id="alice") if n.kind == "episodic")
    assert exchange == [f"assistant: {first['messages'][-1].content}", f"user: {FIX}"]

    model.prompts.clear()
    calls_before = dict(spy.calls)
    agent.invoke(ask(FIX_AGAIN), config=alice())
    systems = model.system_texts()
    assert len(systems) == 4  # three tool calls, then the answer
    for text in systems:
        assert text.startswith("You are a careful coder.")
        assert OPEN_TAG in text and 'run_tests {"path": ' in text
    # one recall for the whole run, however many model calls it made
    assert spy.calls["recall"] - calls_before["recall"] == 1
    assert spy.calls["search"] - calls_before["search"] == 1
    # the shown procedure was credited with the run's success
    credited = mem.get(procedure.id)
    assert (credited.retrieved_count, credited.success_count) == (1, 1)


def test_without_a_judge_the_run_waits_for_feedback(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, procedures_k=2)
    agent, _ = make_agent(middleware)
    run_id = "8f1d1f0e-0d3c-4a55-9d3e-111111111111"
    out = agent.invoke(ask(FIX), config=alice(run_id=run_id))
    assert out["zettelmem_run_id"] == run_id  # the caller's LangChain run id
    assert learned(mem) == [] and middleware.learning.pending_runs == [run_id]

    assert middleware.feedback(run_id, success=True) is True
    (procedure,) = learned(mem)
    assert procedure.sources == [run_id]
    assert middleware.feedback(run_id, success=True) is False  # concluded once
    assert middleware.feedback("never-ran", success=False) is False


def test_failing_runs_wear_a_procedure_down_until_prune_removes_it(mem: AgenticMemory) -> None:
    outcome = {"ok": True}
    middleware = ZettelmemMiddleware(mem, judge=lambda run: outcome["ok"], procedures_k=1)
    agent, _ = make_agent(middleware)
    agent.invoke(ask(FIX), config=alice())
    (procedure,) = learned(mem)

    outcome["ok"] = False
    for number in range(5):
        agent.invoke(ask(f"Fix the failing test in tests/test_mod{number}.py"), config=alice())
    worn = mem.get(procedure.id)
    assert worn.retrieved_count >= 5 and worn.success_count == 0
    removed = mem.prune(user_id="alice")
    assert procedure.id in {r.note_id for r in removed}


async def test_async_and_streaming_runs_learn_the_same_way(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, judge=lambda run: True)
    agent, model = make_agent(middleware)
    out = await agent.ainvoke(ask(FIX), config=alice())
    assert out["messages"][-1].content.startswith("Fixed src/parser.py")
    (procedure,) = learned(mem)

    model.prompts.clear()
    tokens: list[str] = []
    async for chunk, _meta in agent.astream(ask(FIX_AGAIN), config=alice(), stream_mode="messages"):
        if chunk.type == "AIMessageChunk" and isinstance(chunk.content, str):
            tokens.append(chunk.content)
    assert "".join(tokens).endswith("Fixed src/lexer.py; the tests pass.")
    assert all(OPEN_TAG in text for text in model.system_texts())
    # The second run is of the same kind: it merges into the first run's procedure.
    (merged,) = learned(mem)
    assert merged.id == procedure.id and len(merged.sources) == 2


def test_sync_streaming_run(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, judge=lambda run: True)
    agent, _ = make_agent(middleware)
    updates = list(agent.stream(ask(FIX), config=alice(), stream_mode="updates"))
    assert any("tools" in update for update in updates)
    assert len(learned(mem)) == 1


def test_two_users_of_one_agent_never_see_each_other(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, judge=lambda run: True, agent_id="coder")
    agent, model = make_agent(middleware, context_schema=Context)
    agent.invoke(ask(FIX), context=Context(user_id="alice"))
    model.prompts.clear()
    agent.invoke(ask(FIX_AGAIN), context=Context(user_id="bob"))
    assert all(OPEN_TAG not in text for text in model.system_texts())  # alice's stays hers
    assert {n.user_id for n in mem.notes(agent_id="coder")} == {"alice", "bob"}
    assert all(n.agent_id == "coder" for n in mem.notes())
    assert len(learned(mem, "alice")) == 1 and len(learned(mem, "bob")) == 1

    model.prompts.clear()
    agent.invoke(ask(FIX_AGAIN), context=Context(user_id="alice"))
    assert all("tests/test_parser.py" in text for text in model.system_texts())
    assert all(
        "tests/test_lexer.py" not in text.split(OPEN_TAG)[1] for text in model.system_texts()
    )


@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_failing_memory_never_breaks_the_run(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    middleware = ZettelmemMiddleware(BrokenMemory(), judge=lambda run: True, memory_tools=True)
    agent, model = make_agent(middleware)
    with caplog.at_level(logging.ERROR, logger="integrations.agent_learning"):
        if mode == "sync":
            out = agent.invoke(ask(FIX), config=alice())
        else:
            out = await agent.ainvoke(ask(FIX), config=alice())
    assert out["messages"][-1].content == "Fixed src/parser.py; the tests pass."
    assert all(OPEN_TAG not in text for text in model.system_texts())
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "recall failed" in logged and "exchange failed" in logged and "learning" in logged


def test_the_section_stays_within_the_token_budget(mem: AgenticMemory) -> None:
    counter = default_token_counter()
    filler = " ".join(f"detail{i}" for i in range(400))
    mem.add(f"user: the parser test needs care, {filler}", user_id="alice")
    mem.add("user: the parser lives in src/parser.py", user_id="alice")
    middleware = ZettelmemMiddleware(mem, token_budget=80, judge=lambda run: True)
    agent, model = make_agent(middleware)
    agent.invoke(ask(FIX), config=alice())
    section = model.system_texts()[0].split("\n\n", 1)[1]
    assert section.startswith(OPEN_TAG) and 0 < counter(section) <= 80


def test_memory_tools_are_scoped_by_the_context_and_stay_out_of_trajectories(
    mem: AgenticMemory,
) -> None:
    def policy(task: str, answered: int) -> Move:
        plan = Plan(
            calls=[("save_memory", {"content": "Alice prefers pytest -x."}), *fix_plan(task).calls],
            answer="Done.",
        )
        return next_move(plan, answered)

    middleware = ZettelmemMiddleware(mem, judge=lambda run: True, memory_tools=True)
    model = ScriptedToolChatModel(policy=policy)
    agent = create_agent(model, TOOLS, middleware=[middleware], context_schema=Context)
    agent.invoke(ask(FIX), context=Context(user_id="alice"))
    saved = [n for n in mem.notes() if n.metadata.get("source") == "save_memory"]
    assert [(n.content, n.user_id) for n in saved] == [("Alice prefers pytest -x.", "alice")]
    (procedure,) = learned(mem)
    assert "save_memory" not in procedure.content and "run_tests" in procedure.content


def test_each_run_of_a_thread_learns_only_its_own_tool_calls(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, judge=lambda run: True, procedures_k=0, notes_k=0)
    agent, _ = make_agent(middleware, checkpointer=InMemorySaver())
    config = alice()
    config["configurable"]["thread_id"] = "t1"
    agent.invoke(ask(FIX), config=config)
    agent.invoke(ask(FIX_AGAIN), config=config)
    # Both runs are one kind, merged into one procedure; each run's own tool calls
    # are a source of their own (the second run's steps hold no first-run call).
    (procedure,) = learned(mem)
    assert len(procedure.sources) == 2
    tasks = procedure.metadata["distilled"]["tasks"]
    assert len(tasks) == 2 and "lexer" in tasks[1] and "parser" not in tasks[1]


def test_create_agent_with_a_zettelmem_store(mem: AgenticMemory) -> None:
    @tool
    def remember(fact: str, runtime: ToolRuntime) -> str:
        """Remember a fact about the user."""
        user = runtime.context.user_id
        runtime.store.put(("memories", user), "fact", {"text": fact})
        hits = runtime.store.search(("memories", user), query=fact)
        return f"stored; {len(hits)} memories match"

    plan = Plan(calls=[("remember", {"fact": "Alice's tests run with pytest"})], answer="Noted.")
    model = ScriptedToolChatModel(policy=lambda task, answered: next_move(plan, answered))
    store = ZettelmemStore(mem, scope_keys=(None, "user_id"), index_fields=["text"])
    agent = create_agent(model, [remember], store=store, context_schema=Context)
    out = agent.invoke(ask("remember this"), context=Context(user_id="alice"))
    assert out["messages"][-2].content == "stored; 1 memories match"
    item = store.get(("memories", "alice"), "fact")
    assert item is not None and item.value == {"text": "Alice's tests run with pytest"}
    assert [n.user_id for n in mem.notes()] == ["alice"]
    assert store.search(("memories", "bob"), query="pytest") == []


async def test_background_learning_is_done_after_flush(mem: AgenticMemory) -> None:
    middleware = ZettelmemMiddleware(mem, judge=lambda run: True, background=True)
    agent, model = make_agent(middleware)
    out = agent.invoke(ask(FIX), config=alice())
    assert out["messages"][-1].content.startswith("Fixed")
    middleware.flush()
    (procedure,) = learned(mem)
    assert procedure.sources == [out["zettelmem_run_id"]]
    model.prompts.clear()
    await agent.ainvoke(ask(FIX_AGAIN), config=alice())
    middleware.flush()
    assert all(OPEN_TAG in text for text in model.system_texts())
    # The second run was shown the procedure, succeeded, and merged into it.
    (merged,) = learned(mem)
    assert merged.id == procedure.id and len(merged.sources) == 2
    assert merged.success_count == 1
    middleware.learning.close()


def test_memory_tools_answer_with_an_error_text_when_memory_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def policy(task: str, answered: int) -> Move:
        plan = Plan(calls=[("search_memory", {"query": "test habits"})], answer="Done anyway.")
        return next_move(plan, answered)

    middleware = ZettelmemMiddleware(BrokenMemory(), memory_tools=True)
    model = ScriptedToolChatModel(policy=policy)
    agent = create_agent(model, TOOLS, middleware=[middleware])
    with caplog.at_level(logging.ERROR):
        out = agent.invoke(ask(FIX), config=alice())
    tool_reply = out["messages"][-2]
    assert tool_reply.type == "tool" and tool_reply.content.startswith("Memory is unavailable")
    assert out["messages"][-1].content == "Done anyway."
    assert "search_memory failed" in " ".join(r.getMessage() for r in caplog.records)


def test_a_system_prompt_of_content_blocks_gains_a_text_block(mem: AgenticMemory) -> None:
    from langchain_core.messages import SystemMessage

    middleware = ZettelmemMiddleware(mem, judge=lambda run: True)
    model = ScriptedToolChatModel(policy=coder_policy)
    system = SystemMessage(content=[{"type": "text", "text": "You are a careful coder."}])
    agent = create_agent(model, TOOLS, system_prompt=system, middleware=[middleware])
    agent.invoke(ask(FIX), config=alice())
    model.prompts.clear()
    agent.invoke(ask(FIX_AGAIN), config=alice())
    first = [m for m in model.prompts[0] if m.type == "system"][0]
    assert isinstance(first.content, list) and len(first.content) == 2
    assert first.content[0] == {"type": "text", "text": "You are a careful coder."}
    assert first.content[1]["text"].startswith(OPEN_TAG)
