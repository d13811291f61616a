"""The framework-free agent pieces: the recall section's budget, trajectories, pending runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.agent_learning import AgentLearning
from integrations.agent_recall import (
    CLOSE_TAG,
    OPEN_TAG,
    default_token_counter,
    inject_into_system,
    render_recall,
)
from integrations.agent_runs import AgentRun, ToolCall, trajectory_of
from memory import AgenticMemory, Note, Scope, SearchResult

ROOT = Path(__file__).resolve().parents[2]


def hit(content: str, kind: str = "episodic") -> SearchResult:
    return SearchResult(note=Note(content=content, kind=kind), score=1.0)  # type: ignore[arg-type]


def count_words(text: str) -> int:
    return len(text.split())


def test_procedures_come_first_and_memories_go_first_when_over_budget() -> None:
    procedures = [hit("When to use: fix a test\nSteps:\n1. run_tests", "procedure")]
    memories = [hit("user: the parser is in src"), hit("user: tests use pytest and tox")]
    full = render_recall(procedures, memories, budget=10_000, count_tokens=count_words)
    assert full.text.startswith(OPEN_TAG) and full.text.endswith(CLOSE_TAG)
    assert full.text.index("(procedure)") < full.text.index("parser is in src")
    assert len(full.note_ids) == 2 and len(full.procedure_ids) == 1

    tight = render_recall(procedures, memories, budget=full.tokens - 3, count_tokens=count_words)
    assert tight.tokens <= full.tokens - 3
    assert tight.procedure_ids == full.procedure_ids and len(tight.note_ids) == 1


def test_one_long_note_is_cut_to_fit_and_a_tiny_budget_shows_nothing() -> None:
    long = hit(" ".join(f"step{i}" for i in range(500)), "procedure")
    cut = render_recall([long], [], budget=60, count_tokens=count_words)
    assert 0 < cut.tokens <= 60 and cut.text.removesuffix(CLOSE_TAG).rstrip().endswith("...")
    assert render_recall([long], [], budget=5, count_tokens=count_words).empty
    assert render_recall([long], [], budget=0, count_tokens=count_words).empty
    assert render_recall([], [], budget=500, count_tokens=count_words).empty


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(min_size=1, max_size=300).filter(str.strip), max_size=6),
    budget=st.integers(min_value=0, max_value=400),
)
def test_the_section_never_exceeds_the_budget(texts: list[str], budget: int) -> None:
    counter = default_token_counter()
    hits = [hit(t, "procedure" if i % 2 else "episodic") for i, t in enumerate(texts)]
    recall = render_recall(hits[1::2], hits[::2], budget=budget, count_tokens=counter)
    assert counter(recall.text) <= budget
    assert recall.tokens == (counter(recall.text) if recall.text else 0)


def test_the_section_is_appended_to_the_system_prompt() -> None:
    recall = render_recall([hit("do X", "procedure")], [], budget=500, count_tokens=count_words)
    assert inject_into_system("Be brief.", recall).startswith("Be brief.\n\n" + OPEN_TAG)
    assert inject_into_system(None, recall) == recall.text
    assert inject_into_system("Be brief.", render_recall([], [], budget=9, count_tokens=len)) == (
        "Be brief."
    )


def test_a_run_becomes_a_trajectory_with_clipped_steps() -> None:
    run = AgentRun(
        run_id="r1",
        task="Fix the test",
        answer="done",
        tool_calls=(
            ToolCall("read_file", {"path": "a.py"}, "x" * 2000),
            ToolCall("list_files", {}, "a.py b.py"),
        ),
    )
    trajectory = trajectory_of(run, True, max_observation_chars=100)
    assert trajectory is not None and trajectory.id == "r1" and trajectory.success is True
    first, second = trajectory.steps
    assert first.action == 'read_file {"path": "a.py"}' and len(first.observation) == 100
    assert second.action == "list_files"
    assert trajectory_of(AgentRun(run_id="r2", task="t", answer="a"), True) is None


def test_pending_runs_are_bounded(mem: AgenticMemory) -> None:
    learning = AgentLearning(mem, max_pending=2, remember_exchange=False)
    for number in range(3):
        call = ToolCall("run_tests", {"path": f"t{number}.py"}, "ok")
        learning.finish(
            AgentRun(
                run_id=f"r{number}",
                task="Run the tests",
                answer="ok",
                tool_calls=(call,),
                scope=Scope(user_id="u"),
            )
        )
    assert learning.pending_runs == ["r1", "r2"]
    assert learning.feedback("r0", True) is False and learning.feedback("r2", True) is True
    assert [n.sources for n in mem.notes(user_id="u")] == [["r2"]]


def test_bad_settings_are_refused(mem: AgenticMemory) -> None:
    with pytest.raises(ValueError):
        AgentLearning(mem, notes_k=-1)


def test_the_framework_free_pieces_import_no_framework() -> None:
    code = """
import sys, json
from integrations import agent_learning, agent_recall, agent_runs
loaded = sorted({m.split('.')[0] for m in sys.modules} & {"langchain", "langchain_core",
                 "langgraph", "llama_index"})
print(json.dumps(loaded))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("module", "blocked", "hint"),
    [
        ("integrations.langchain_middleware", "langchain", "zettelmem[langchain]"),
        ("integrations.llamaindex_agent", "llama_index", "pip install llama-index-core"),
    ],
)
def test_a_missing_framework_says_what_to_install(module: str, blocked: str, hint: str) -> None:
    code = f"""
import sys
sys.modules[{blocked!r}] = None
try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("imported without " + {blocked!r})
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert hint in result.stdout


@pytest.mark.parametrize(("credit", "expected"), [("top", [1, 0]), ("all", [1, 1])])
def test_the_outcome_goes_to_the_shown_procedures(
    mem: AgenticMemory, credit: str, expected: list[int]
) -> None:
    from integrations.agent_recall import Recall
    from memory import Step, Trajectory

    ids = []
    for task in ("Run the test suite", "Publish the docs"):
        step = Step(action=f"tool {task}", observation="ok")
        (note,) = mem.learn(Trajectory(task=task, steps=[step], success=True), user_id="u")
        ids.append(note.id)
    learning = AgentLearning(mem, judge=lambda run: False, credit=credit)  # type: ignore[arg-type]
    shown = Recall(text="...", procedure_ids=tuple(ids))
    learning.finish(
        AgentRun(run_id="r", task="t", answer="a", scope=Scope(user_id="u"), recall=shown)
    )
    assert [mem.get(i).retrieved_count for i in ids] == expected
    assert all(mem.get(i).success_count == 0 for i in ids)
