"""The per-note memo recall uses: computed once per note version, never across versions."""

from __future__ import annotations

from memory.model import Note, utc_now
from memory.procedures.memo import per_note
from memory.procedures.text import Hints


def test_a_value_is_computed_once_per_note_version() -> None:
    calls: list[str] = []
    note = Note(content="x", kind="procedure", when_to_use="deploy <arg1>", sources=["t1"])

    def compute() -> list[str]:
        calls.append(note.id)
        return ["deploy"]

    assert per_note("test-doc", note, Hints(), compute) == ["deploy"]  # hints: never kept
    assert per_note("test-doc", note, Hints(), compute) == ["deploy"]
    assert len(calls) == 2
    from memory.procedures.text import NO_HINTS

    per_note("test-doc", note, NO_HINTS, compute)
    per_note("test-doc", note, NO_HINTS, compute)
    assert len(calls) == 3
    for changed in (
        note.model_copy(update={"updated_at": utc_now()}),
        note.model_copy(update={"sources": ["t1", "t2"]}),
        note.model_copy(update={"tags": ["avoid"]}),
    ):
        per_note("test-doc", changed, NO_HINTS, compute)
    assert len(calls) == 6
    per_note("test-other", note, NO_HINTS, compute)  # another derivation, its own entry
    assert len(calls) == 7
