"""User errors: one line on stderr, a non-zero status, no traceback, nothing created."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from cli_support import Run

from memory import AgenticMemory
from memory.cli import cli
from memory.embed import HashingEmbedder

READ_COMMANDS = [
    ["search", "coffee"],
    ["stats"],
    ["show", "someid"],
    ["list"],
    ["export"],
    ["graph", "--output", "{tmp}/g.html"],
    ["recall", "make coffee"],
]


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: c[0])
def test_read_commands_refuse_a_path_without_a_store_and_create_nothing(
    run: Run, tmp_path: Path, command: list[str]
) -> None:
    missing = tmp_path / "does_not_exist"
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    line = _one_line_error(run(*args, "--path", missing))
    assert "no Zettelmem store" in line and str(missing) in line
    assert not missing.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    _one_line_error(run(*args, "--path", empty))
    assert list(empty.iterdir()) == []


def test_a_path_that_is_a_file_is_refused(run: Run, tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text('{"content": "x"}', encoding="utf-8")
    for args in (["add", "hello"], ["stats"], ["import", str(file)]):
        assert "is a file, not a store folder" in _one_line_error(run(*args, "--path", file))
    assert file.read_text(encoding="utf-8") == '{"content": "x"}'


def test_bad_values_are_one_line_errors(run: Run, store: Path, tmp_path: Path) -> None:
    assert "k must be between" in _one_line_error(run("search", "x", "--k", "0", "--path", store))
    assert "content must not be empty" in _one_line_error(run("add", "   ", "--path", store))
    assert "no note with id" in _one_line_error(run("show", "nope", "--path", store))
    assert "--metadata is not valid JSON" in _one_line_error(
        run("add", "x", "--metadata", "{oops", "--path", store)
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"content": "fine"}\n{not json\n', encoding="utf-8")
    assert "line 2 is not JSON" in _one_line_error(run("import", bad, "--path", store))
    assert "no file at" in _one_line_error(run("import", tmp_path / "nope.jsonl", "--path", store))
    assert "HOST:PORT" in _one_line_error(run("stats", "--server", "nohost"))


def test_usage_errors_exit_with_2(run: Run, store: Path) -> None:
    result = run("search", "--path", store)
    assert result.exit_code == 2 and "Missing argument" in result.stderr
    assert run("list", "--kind", "nonsense", "--path", store).exit_code == 2


def test_a_locked_store_is_a_one_line_error_before_any_model_loads(
    run: Run, store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import memory.embed.sentence as sentence

    def no_model(name: str) -> None:
        raise AssertionError("the model was loaded before the lock was checked")

    monkeypatch.setattr(sentence, "_load", no_model)
    holder = AgenticMemory(store, embedder=HashingEmbedder())
    try:
        for args in (["stats"], ["add", "more"], ["search", "greyhound"]):
            result = run(*args, "--path", store, embedder="default")
            # The holder lives in this process, so the lock names it as such.
            assert "already open in this process" in _one_line_error(result)
    finally:
        holder.close()
    assert run("stats", "--path", store).exit_code == 0


def test_unreachable_server_is_a_one_line_error(run: Run) -> None:
    line = _one_line_error(run("stats", "--server", "127.0.0.1:9"))
    assert "cannot reach a Chroma server at 127.0.0.1:9" in line


def test_every_option_has_help_and_no_help_shows_rest_markup() -> None:
    commands = [cli, *cli.commands.values()]
    for command in commands:
        texts = [command.help or ""]
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts} has no help text"
                texts.append(param.help)
        for text in texts:
            assert "``" not in text and ":class:" not in text and ":meth:" not in text


def test_version_and_errors_through_the_console_entry_point(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "memory.cli"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("zettelmem ")
    missing = tmp_path / "does_not_exist"
    result = subprocess.run(
        [*command, "search", "coffee", "--path", str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"Error: no Zettelmem store at {missing} (create one with 'zettelmem add' or "
        "'zettelmem import', or pass --path)"
    ]
    assert not missing.exists()
