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


def test_a_pool_value_is_computed_once_per_set_of_note_versions() -> None:
    from datetime import timedelta

    from memory.procedures.memo import per_pool
    from memory.procedures.recall import build_profile
    from memory.procedures.text import NO_HINTS

    first = Note(content="a", kind="procedure", when_to_use="deploy <arg1>", sources=["t1"])
    second = Note(content="b", kind="procedure", when_to_use="rotate <arg1>", sources=["t2"])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert per_pool("test-pool", [first, second], NO_HINTS, compute) == 1
    assert per_pool("test-pool", [first, second], NO_HINTS, compute) == 1
    assert per_pool("test-pool", [first], NO_HINTS, compute) == 2  # another pool
    changed = second.model_copy(update={"updated_at": second.updated_at + timedelta(seconds=1)})
    assert per_pool("test-pool", [first, changed], NO_HINTS, compute) == 3
    assert per_pool("test-pool", [first, second], Hints(), compute) == 4  # hints: never kept
    # A scope's statistics follow the same rule: shared while its notes are unchanged.
    assert build_profile([first, second]) is build_profile([first, second])
    assert build_profile([first, changed]) is not build_profile([first, second])
