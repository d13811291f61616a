"""Fixtures of the CLI tests: the real command group, run on the model-free hashing embedder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run
from click.testing import CliRunner, Result

from memory.cli import cli


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run(*args, input=None)``: invoke ``zettelmem`` in-process (stdout and stderr apart)."""
    monkeypatch.delenv("ZETTELMEM_PATH", raising=False)
    runner = CliRunner()

    def invoke(*args: Any, input: str | None = None, embedder: str = "hashing") -> Result:
        return runner.invoke(
            cli,
            [str(a) for a in args],
            input=input,
            env={"ZETTELMEM_EMBEDDER": embedder},
            catch_exceptions=False,
        )

    return invoke


@pytest.fixture
def store(run: Run, tmp_path: Path) -> Path:
    """A store with a short conversation of user ann (a thread) and one note of user bob."""
    path = tmp_path / "store"
    lines = [
        {"speaker": "Ann", "content": "I adopted a greyhound called Biscuit from the shelter."},
        {"speaker": "Bob", "content": "A greyhound! Do you take Biscuit running?"},
        {"speaker": "Ann", "content": "Every morning, Biscuit loves running in the park."},
        {"speaker": "Ann", "content": "I also started a pottery class on Tuesdays."},
    ]
    messages = tmp_path / "messages.jsonl"
    messages.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = run("import", messages, "--path", path, "--user", "ann", "--quiet")
    assert result.exit_code == 0, result.stderr
    result = run("add", "Bob: my sister visits in June", "--path", path, "--user", "bob")
    assert result.exit_code == 0, result.stderr
    return path
