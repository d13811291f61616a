"""Smoke tests: every example runs offline as ``python examples/X.py`` and prints its recall.

The fast runs use the hashing embedder (``ZETTELMEM_EMBEDDER=hashing``); the slow
ones run the examples exactly as a user would, with the default MiniLM embedder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("ZETTELMEM_DATA", ROOT.parent / "shared" / "data"))

needs_locomo = pytest.mark.skipif(
    not (DATA / "locomo" / "26.json").exists(), reason=f"no LoCoMo data under {DATA}"
)
needs_alfworld = pytest.mark.skipif(
    not (DATA / "alfworld" / "gold_trajectories.json").exists(),
    reason=f"no ALFWorld data under {DATA}",
)


def run_example(name: str, *args: str, fast: bool) -> str:
    env = {**os.environ, "ZETTELMEM_DATA": str(DATA), "HF_HUB_OFFLINE": "1"}
    env.pop("ZETTELMEM_EMBEDDER", None)
    if fast:
        env["ZETTELMEM_EMBEDDER"] = "hashing"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), *args],
        cwd=ROOT.parent,  # not the repository: the example must find its own imports
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def check_langchain_agent(out: str) -> None:
    later = out.split("=== session 2")[1]
    assert "tool search_memory" in later and "Alice is allergic to peanuts." in later
    assert "search as bob -> []" in out


def check_llamaindex_chat(out: str) -> None:
    later = out.split("=== session thursday ===")[1]
    assert "Relevant memories" in later and "Porto" in later


def check_standalone(out: str) -> None:
    assert re.search(r"\d+ turns from 26\.json stored", out)
    assert "* " in out  # at least one shown hit is annotated evidence
    assert re.search(r"evidence recall@5 over \d+ questions: [01]\.\d{3}", out)


def check_procedural(out: str) -> int:
    assert "a procedure, as stored:" in out and "Lessons from past tasks" in out
    matched = re.search(r"own type for (\d)/6 tasks", out)
    assert matched is not None
    return int(matched.group(1))


def test_langchain_agent() -> None:
    check_langchain_agent(run_example("langchain_agent", fast=True))


def test_llamaindex_chat() -> None:
    check_llamaindex_chat(run_example("llamaindex_chat", fast=True))


@needs_locomo
def test_standalone() -> None:
    check_standalone(run_example("standalone", "--sessions", "3", "--questions", "2", fast=True))


@needs_alfworld
def test_procedural() -> None:
    check_procedural(run_example("procedural", fast=True))


@pytest.mark.slow
def test_langchain_agent_with_minilm() -> None:
    check_langchain_agent(run_example("langchain_agent", fast=False))


@pytest.mark.slow
def test_llamaindex_chat_with_minilm() -> None:
    check_llamaindex_chat(run_example("llamaindex_chat", fast=False))


@pytest.mark.slow
@needs_locomo
def test_standalone_with_minilm() -> None:
    check_standalone(run_example("standalone", fast=False))


@pytest.mark.slow
@needs_alfworld
def test_procedural_with_minilm() -> None:
    assert check_procedural(run_example("procedural", fast=False)) >= 5
