"""The ``zettelmem`` console script's entry point (``memory.cli:main``) and its package data."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from memory.cli import main


@pytest.fixture(autouse=True)
def hashing_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    # The model-free embedder runs the same code paths without loading MiniLM.
    monkeypatch.setenv("ZETTELMEM_EMBEDDER", "hashing")
    monkeypatch.delenv("ZETTELMEM_PATH", raising=False)


def test_main_returns_the_exit_status(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = tmp_path / "store"
    assert main(["add", "Priya: I adopted a dog", "--path", str(store), "--user", "u"]) == 0
    capsys.readouterr()
    assert main(["stats", "--path", str(store), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notes"] == 1
    assert main(["show", "missing-id", "--path", str(store)]) == 1
    assert "no note with id 'missing-id'" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert main(["no-such-command"]) == 2


def test_zettelmem_path_environment_variable_names_the_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "from-env"
    monkeypatch.setenv("ZETTELMEM_PATH", str(store))
    assert main(["add", "a note kept where the variable says", "--json"]) == 0
    capsys.readouterr()
    assert (store / "chroma.sqlite3").is_file()
    assert main(["list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1


def test_default_store_is_a_per_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_data_dir

    from memory.cli.target import default_store_path

    assert default_store_path() == Path(user_data_dir("zettelmem", appauthor=False)) / "store"


def test_the_demo_conversation_and_graph_library_ship_as_package_data() -> None:
    conversation = resources.files("memory.cli") / "data" / "conversation.json"
    assert "session_1" in json.loads(conversation.read_text(encoding="utf-8"))
    static = resources.files("memory.graph") / "static"
    for name in (
        "vis-network.min.js",
        "vis-network.LICENSE-MIT",
        "vis-network.LICENSE-APACHE-2.0",
        "page.html",
    ):
        assert (static / name).is_file(), name
