"""The ``zettelmem`` command, on the hashing embedder so it runs in a second."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

import memory
from memory import AgenticMemory
from memory.cli import main
from memory.embed import HashingEmbedder

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "data" / "conversation.json"


@pytest.fixture(autouse=True)
def hashing_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command builds AgenticMemory() with the MiniLM default; the hashing embedder
    # exercises the same path without loading a model.
    monkeypatch.setattr(memory, "AgenticMemory", partial(AgenticMemory, embedder=HashingEmbedder()))


def test_demo_stores_the_conversation_and_answers_its_questions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert main(["demo", "--file", str(EXAMPLE), "--path", str(store), "--questions", "2"]) == 0
    out = capsys.readouterr().out
    assert "stored 29 notes" in out
    assert out.count("\nQ: ") == 2
    assert "[D" in out  # hits show their dia_id

    assert main(["stats", "--path", str(store)]) == 0
    assert '"notes": 29' in capsys.readouterr().out
    assert main(["search", "adopted a dog", "--path", str(store), "--user-id", "demo"]) == 0
    assert "Priya" in capsys.readouterr().out


def test_demo_explains_a_malformed_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"session_1": [{"speaker": "Ann", "dia_id": "D1:1"}]}', encoding="utf-8")
    assert main(["demo", "--file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a LoCoMo-layout conversation" in err and "session_1" in err
