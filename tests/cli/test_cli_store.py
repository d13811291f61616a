"""stats, graph and demo, and proof that the read commands never embed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_support import Run, output_json

import memory.embed.sentence as sentence


def test_stats_counts_kinds_scopes_links_tags_and_sizes(run: Run, store: Path) -> None:
    stats = output_json(run("stats", "--path", store, "--json"))
    assert stats["notes"] == 5
    assert stats["kinds"] == {"episodic": 5}
    assert stats["scopes"] == {"user_id=ann": 4, "user_id=bob": 1}
    assert stats["links"] >= 3 and stats["thread_steps"] == 3
    assert stats["distinct_tags"] >= 1 and sum(stats["tags"].values()) >= 5
    assert stats["index"]["vectors"] == 5 and stats["index"]["sqlite_bytes"] > 0
    assert output_json(run("stats", "--path", store, "--user", "bob", "--json"))["notes"] == 1
    table = run("stats", "--path", store)
    assert table.exit_code == 0 and "notes per kind" in table.stdout


def test_graph_writes_one_self_contained_page(run: Run, store: Path, tmp_path: Path) -> None:
    page = tmp_path / "graph.html"
    written = output_json(run("graph", "--path", store, "--output", page, "--json"))
    assert written == {"output": str(page), "notes": 5}
    html = page.read_text(encoding="utf-8")
    assert "vis-network" in html and "new vis.Network" in html
    # Nothing is fetched: no external scripts, styles or source maps.
    assert not re.search(r"""<(script|link)[^>]+(src|href)=""", html)
    assert "sourceMappingURL" not in html
    data = json.loads(re.search(r"const GRAPH = (\{.*?\});\n", html, re.S).group(1))
    assert len(data["nodes"]) == 5
    assert sum(e["type"] == "thread" for e in data["edges"]) == 3  # ann's four turns
    assert sorted(data["scopes"]) == ["user_id=ann", "user_id=bob"]
    limited = output_json(run("graph", "--path", store, "--output", page, "--limit", "2", "--json"))
    assert limited["notes"] == 2


def test_read_commands_never_load_a_model(
    run: Run, store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_model(name: str) -> None:
        raise AssertionError(f"a read command loaded the model {name}")

    monkeypatch.setattr(sentence, "_load", no_model)
    some_id = output_json(run("list", "--path", store, "--json", embedder="default"))[0]["id"]
    for args in (
        ["stats"],
        ["list"],
        ["show", some_id],
        ["export"],
        ["graph", "--output", tmp_path / "g.html"],
    ):
        result = run(*args, "--path", store, embedder="default")
        assert result.exit_code == 0, (args, result.stderr)
    # ... while a command that embeds does reach the model.
    with pytest.raises(AssertionError, match="loaded the model"):
        run("search", "greyhound", "--path", store, embedder="default")


def test_demo_runs_from_any_folder_on_the_bundled_conversation(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = output_json(run("demo", "--questions", "2", "--json"))
    assert report["stored"] == 29 and len(report["questions"]) == 2
    assert all(len(q["retrieved"]) == 3 for q in report["questions"])
    assert list(tmp_path.iterdir()) == []  # in memory: nothing written
    text = run("demo", "--questions", "1")
    assert text.exit_code == 0 and "turns retrieved" in text.stdout and "[D" in text.stdout
    kept = tmp_path / "kept"
    assert run("demo", "--questions", "0", "--keep", "--path", kept).exit_code == 0
    assert output_json(run("stats", "--path", kept, "--json"))["notes"] == 29
