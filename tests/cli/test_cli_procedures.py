"""learn, recall, feedback, prune through the real command group."""

from __future__ import annotations

import json
from pathlib import Path

from cli_support import Run, output_json


def _trajectory(index: int, task: str, success: bool) -> dict:
    return {
        "id": f"t{index}",
        "task": task,
        "success": success,
        "steps": [
            {"action": "open the drawer", "observation": "the drawer is open"},
            {"action": "take the key from the drawer", "observation": "you take the key"},
            {"action": "unlock the door with the key", "observation": "the door opens"},
        ],
    }


def test_learn_from_json_and_jsonl_then_recall(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "s"
    single = tmp_path / "one.json"
    single.write_text(json.dumps(_trajectory(1, "unlock the front door", True)), encoding="utf-8")
    learned = output_json(run("learn", single, "--path", path, "--agent", "a1", "--json"))
    assert learned and all("t1" in note["sources"] for note in learned)
    assert all(note["kind"] in ("procedure", "concept") for note in learned)
    lines = tmp_path / "many.jsonl"
    lines.write_text(
        "\n".join(json.dumps(_trajectory(i, "unlock the back door", True)) for i in (2, 3)),
        encoding="utf-8",
    )
    assert run("learn", lines, "--path", path, "--agent", "a1").exit_code == 0
    again = output_json(run("learn", single, "--path", path, "--agent", "a1", "--json"))
    # Learned once: the notes t1 taught come back (concepts found later by comparing
    # it with t2 and t3 list t1 too), and learning it again stores nothing new.
    assert {n["id"] for n in learned} <= {n["id"] for n in again}
    assert all("t1" in n["sources"] for n in again)
    twice = output_json(run("learn", single, "--path", path, "--agent", "a1", "--json"))
    assert [n["id"] for n in twice] == [n["id"] for n in again]
    hits = output_json(run("recall", "unlock the door", "--path", path, "--agent", "a1", "--json"))
    assert hits and hits[0]["kind"] in ("procedure", "concept")
    assert output_json(run("recall", "unlock", "--path", path, "--agent", "a2", "--json")) == []


def test_learn_rejects_malformed_trajectories(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"task": "x", "steps": []}), encoding="utf-8")
    result = run("learn", bad, "--path", tmp_path / "s")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert "step" in result.stderr
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"task": "x"}\n{nope\n', encoding="utf-8")
    result = run("learn", broken, "--path", tmp_path / "s")
    assert result.exit_code == 1 and "line 2 is not JSON" in result.stderr


def test_feedback_then_prune_dry_run_agrees_with_prune(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "s"
    trajectory = tmp_path / "t.json"
    trajectory.write_text(json.dumps(_trajectory(1, "unlock the door", True)), encoding="utf-8")
    learned = output_json(run("learn", trajectory, "--path", path, "--json"))
    note_id = learned[0]["id"]
    for _ in range(3):
        output_json(run("feedback", note_id, "--failure", "--path", path, "--json"))
    counts = output_json(run("feedback", note_id, "--success", "--path", path, "--json"))
    assert counts == [{"id": note_id, "retrieved": 4, "successes": 1}]
    plan = output_json(run("prune", "--dry-run", "--min-uses", "4", "--path", path, "--json"))
    assert plan["dry_run"] is True and [r["id"] for r in plan["removed"]] == [note_id]
    assert note_id in {n["id"] for n in output_json(run("list", "--path", path, "--json"))}
    done = output_json(run("prune", "--min-uses", "4", "--path", path, "--json"))
    assert [r["id"] for r in done["removed"]] == [note_id]
    assert note_id not in {n["id"] for n in output_json(run("list", "--path", path, "--json"))}
    missing = run("feedback", "nope", "--success", "--path", path)
    assert missing.exit_code == 1 and "no note with id" in missing.stderr
    assert run("feedback", note_id, "--path", path).exit_code == 2  # outcome is required
