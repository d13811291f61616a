"""Snapshots: export_snapshot / read_snapshot and AgenticMemory.restore."""

from __future__ import annotations

import pytest

from memory import AgenticMemory, InvalidInput
from memory.embed import HashingEmbedder
from memory.snapshot import dump_snapshot, export_snapshot, read_snapshot


def test_restore_reproduces_ids_links_history_and_utility(mem: AgenticMemory) -> None:
    notes = mem.add_many([f"Ann: hiking trip number {i} in the alps" for i in range(6)])
    mem.feedback([notes[0].id], True)
    mem.update(notes[1].id, tags=["travel"])
    lines = [dump_snapshot(record) for record in export_snapshot(mem)]
    with AgenticMemory(embedder=HashingEmbedder()) as copy:
        written = copy.restore(read_snapshot(lines))
        assert sorted(written) == sorted(n.id for n in notes)
        assert [dump_snapshot(r) for r in export_snapshot(copy)] == lines
        assert copy.get(notes[0].id).retrieved_count == 1
        assert copy.search("hiking alps", 3)  # re-embedded and re-indexed
        assert copy.restore(read_snapshot(lines)) == []  # already there: skipped


def test_links_to_notes_in_neither_place_are_dropped(mem: AgenticMemory) -> None:
    first, second = mem.add_many(["Ann: pottery class on Tuesday", "Ann: pottery glaze is blue"])
    records = [r for r in export_snapshot(mem) if r.note.id == second.id]
    assert first.id in records[0].note.links
    with AgenticMemory(embedder=HashingEmbedder()) as copy:
        copy.restore(records)
        assert copy.get(second.id).links == {}


def test_malformed_records_are_rejected_before_anything_is_written() -> None:
    with pytest.raises(InvalidInput, match="line 2 is not JSON"):
        read_snapshot(['{"note": {"content": "x"}}', "{oops"])
    with pytest.raises(InvalidInput, match="repeats note id"):
        read_snapshot(['{"note": {"id": "a", "content": "x"}}'] * 2)
    with pytest.raises(InvalidInput, match="content must not be empty"):
        read_snapshot(['{"note": {"id": "a", "content": "  "}}'])
    with AgenticMemory(embedder=HashingEmbedder()) as mem:
        with pytest.raises(InvalidInput, match="not a note snapshot record"):
            mem.restore([{"note": {"id": "a", "content": "fine"}}, {"note": {"id": "b"}}])
        assert mem.count() == 0
