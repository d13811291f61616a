"""import (messages, conversations, snapshots) and export, through the real command group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Run, output_json

from memory import AgenticMemory

EXAMPLE = Path(__file__).resolve().parents[2] / "memory" / "cli" / "data" / "conversation.json"


def _messages(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "messages.jsonl"
    lines = [
        json.dumps({"role": "user", "content": f"message number {i} about topic {i % 3}"})
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_of_messages_is_resumable_without_duplicates(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, messages = tmp_path / "s", _messages(tmp_path, 10)
    real = AgenticMemory.add_many
    calls = {"n": 0}

    def interrupted(self, items, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(self, items, **kwargs)

    monkeypatch.setattr(AgenticMemory, "add_many", interrupted)
    first = run("import", messages, "--path", path, "--batch", "2", "--user", "u")
    assert first.exit_code != 0  # Ctrl-C after two batches
    assert len(output_json(run("list", "--path", path, "--json"))) == 4
    monkeypatch.setattr(AgenticMemory, "add_many", real)
    second = output_json(run("import", messages, "--path", path, "--user", "u", "--json"))
    assert second == {"read": 10, "stored": 6, "skipped": 4}
    notes = output_json(run("list", "--path", path, "--json"))
    contents = sorted(n["content"] for n in notes)
    assert contents == sorted(f"user: message number {i} about topic {i % 3}" for i in range(10))
    again = output_json(run("import", messages, "--path", path, "--user", "u", "--json"))
    assert again == {"read": 10, "stored": 0, "skipped": 10}


def test_import_of_a_conversation_and_from_stdin(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "s"
    result = output_json(run("import", EXAMPLE, "--path", path, "--user", "demo", "--json"))
    assert result["stored"] == result["read"] == 29
    first = output_json(run("list", "--path", path, "--json", "--limit", "1"))[0]
    assert first["content"].startswith("Priya: Hey Tom!")
    piped = run(
        "import",
        "-",
        "--path",
        path,
        "--user",
        "other",
        "--format",
        "messages",
        input='{"speaker": "Kim", "text": "hello from stdin"}\n',
    )
    assert piped.exit_code == 0, piped.stderr
    assert [
        n["content"] for n in output_json(run("list", "--path", path, "--user", "other", "--json"))
    ] == ["Kim: hello from stdin"]
    bad = tmp_path / "bad.json"
    bad.write_text('{"session_1": [{"speaker": "Ann"}]}', encoding="utf-8")
    failed = run("import", bad, "--path", path, "--format", "conversation")
    assert failed.exit_code == 1 and "not a LoCoMo-layout conversation" in failed.stderr


def test_export_then_import_notes_round_trip_is_equal(
    run: Run, store: Path, tmp_path: Path
) -> None:
    trajectory = tmp_path / "t.json"
    trajectory.write_text(
        json.dumps(
            {
                "id": "t1",
                "task": "water the plants",
                "success": True,
                "steps": [
                    {"action": "fill the can", "observation": "full"},
                    {"action": "water the plants", "observation": "done"},
                ],
            }
        ),
        encoding="utf-8",
    )
    learned = output_json(run("learn", trajectory, "--path", store, "--user", "ann", "--json"))
    output_json(run("feedback", learned[0]["id"], "--success", "--path", store, "--json"))
    ann_note = output_json(run("list", "--path", store, "--user", "ann", "--json"))[0]["id"]
    run("update", ann_note, "--context", "edited by hand", "--path", store)

    exported = tmp_path / "notes.jsonl"
    assert run("export", "--path", store, "--output", exported).exit_code == 0
    records = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    total = 5 + len(learned)
    assert len(records) == total and all(r["history"] for r in records)
    assert any(r["note"]["retrieved_count"] == 1 for r in records)

    copy = tmp_path / "copy"
    restored = output_json(run("import", exported, "--notes", "--path", copy, "--json"))
    assert restored == {"read": total, "stored": total, "skipped": 0}
    stdout_export = run("export", "--path", copy)
    assert stdout_export.exit_code == 0
    assert stdout_export.stdout == exported.read_text(encoding="utf-8")
    again = output_json(run("import", exported, "--notes", "--path", copy, "--json"))
    assert again == {"read": total, "stored": 0, "skipped": total}


def test_import_notes_rejects_a_bad_snapshot_and_writes_nothing(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "s"
    bad = tmp_path / "bad.jsonl"
    good = {"note": {"id": "a1", "content": "fine"}, "history": []}
    bad.write_text(json.dumps(good) + '\n{"note": {"id": "b2"}}\n', encoding="utf-8")
    result = run("import", bad, "--notes", "--path", path)
    assert result.exit_code == 1 and "line 2 is not a note record" in result.stderr
    assert not (path / "chroma.sqlite3").exists()
