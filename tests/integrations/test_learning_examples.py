"""The agent-learning examples run offline from any directory and show what the first run taught."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_example(name: str, *, fast: bool, cwd: Path) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("ZETTELMEM_EMBEDDER", None)
    env.pop("ZETTELMEM_DATA", None)  # they need no data set
    if fast:
        env["ZETTELMEM_EMBEDDER"] = "hashing"
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def check(out: str, first_step: str) -> None:
    first, second = out.split("=== run 2")
    assert "<zettelmem-memory>" not in first  # nothing learned before the first run
    section = second.split("<zettelmem-memory>")[1]
    assert "Procedures that worked for similar tasks:" in section and first_step in section
    assert "used 1x, 1 succeeded" in out  # the shown procedure got the second run's outcome


def test_langchain_agent_learning(tmp_path: Path) -> None:
    out = run_example("langchain_agent_learning", fast=True, cwd=tmp_path)
    check(out, 'run_tests {"path": ')


def test_llamaindex_agent_learning(tmp_path: Path) -> None:
    out = run_example("llamaindex_agent_learning", fast=True, cwd=tmp_path)
    check(out, 'install_package {"name": ')


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "first_step"),
    [
        ("langchain_agent_learning", 'run_tests {"path": '),
        ("llamaindex_agent_learning", 'install_package {"name": '),
    ],
)
def test_learning_examples_with_minilm(name: str, first_step: str, tmp_path: Path) -> None:
    check(run_example(name, fast=False, cwd=tmp_path), first_step)
