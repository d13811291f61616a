"""Reopening a path in the same process (notebooks), and paths that cannot be a store."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from memory import AgenticMemory, InvalidInput, StoreLocked
from memory.embed import HashingEmbedder


def test_the_refusal_names_the_holder_and_how_to_close_it(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    first = AgenticMemory(tmp_path, embedder=embedder)
    try:
        with pytest.raises(StoreLocked) as refused:
            AgenticMemory(tmp_path, embedder=embedder)
        message = str(refused.value)
        assert f"AgenticMemory at 0x{id(first):x}" in message
        assert f"{Path(__file__).name}:" in message, "where the holder was opened"
        assert "close()" in message and "with AgenticMemory(path) as mem" in message
    finally:
        first.close()


def test_after_close_the_path_reopens_with_its_notes(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    first = AgenticMemory(tmp_path, embedder=embedder)
    note = first.add("kept across a reopen")
    first.close()
    with AgenticMemory(tmp_path, embedder=embedder) as second:
        assert second.get(note.id).content == "kept across a reopen"


def test_an_unreachable_holder_does_not_block_a_reopen(
    tmp_path: Path, embedder: HashingEmbedder
) -> None:
    # A notebook re-run: the old instance is unreachable but kept alive by a cycle.
    first = AgenticMemory(tmp_path, embedder=embedder)
    note = first.add("written by an instance nobody holds any more")
    first.cycle = first  # type: ignore[attr-defined]
    gc.disable()
    try:
        del first
        with AgenticMemory(tmp_path, embedder=embedder) as second:
            assert second.get(note.id).content.startswith("written by")
    finally:
        gc.enable()


def test_a_file_as_path_is_invalid_input(tmp_path: Path, embedder: HashingEmbedder) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a store")
    for path in (a_file, a_file / "below"):
        with pytest.raises(InvalidInput, match="is a file"):
            AgenticMemory(path, embedder=embedder)
    assert a_file.read_text() == "not a store"
