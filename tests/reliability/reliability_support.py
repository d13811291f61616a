"""Shared machinery of the reliability suites: store snapshots, invariants, counters.

The invariant checks read the store itself (``AgenticMemory._store``), not only the
public API, because what they guard -- a note without its vector, a one-sided link, a
history without its ``create`` event -- is exactly what the public API would paper over.

Counters (kill points survived, operations run, examples, inputs tried, data lost,
cross-scope leaks) are collected in :data:`COUNTERS` and written as JSON at the end of
the session when ``ZETTELMEM_RELIABILITY_REPORT`` names a file; the benchmark script
``benchmarks/reliability_table.py`` prints them as the README table.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from memory import AgenticMemory, Note
from memory.store import StoredNote

__all__ = [
    "COUNTERS",
    "Counters",
    "checked_invariants",
    "invariant_violations",
    "note_state",
    "raw_notes",
    "scale",
    "snapshot",
]

REPORT_ENV = "ZETTELMEM_RELIABILITY_REPORT"
SCALE_ENV = "ZETTELMEM_RELIABILITY_SCALE"


def scale(default: int, *, minimum: int = 1) -> int:
    """``default`` times the factor in ``ZETTELMEM_RELIABILITY_SCALE`` (1 when unset)."""
    factor = float(os.environ.get(SCALE_ENV, "1") or "1")
    return max(minimum, round(default * factor))


class Counters:
    """Thread-safe tallies per suite: ``runs`` (the suite's unit), ``data_lost``, ``leaks``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._suites: dict[str, dict[str, int]] = {}

    def add(self, suite: str, **counts: int) -> None:
        """Add ``counts`` (e.g. ``runs=1, data_lost=0``) to ``suite``'s tallies."""
        with self._lock:
            tally = self._suites.setdefault(suite, {})
            for name, value in counts.items():
                tally[name] = tally.get(name, 0) + value

    def as_dict(self) -> dict[str, dict[str, int]]:
        """A copy of every suite's tallies."""
        with self._lock:
            return {suite: dict(tally) for suite, tally in self._suites.items()}

    def dump(self) -> None:
        """Write the tallies to the file named by ``ZETTELMEM_RELIABILITY_REPORT``, if set."""
        target = os.environ.get(REPORT_ENV)
        if target:
            Path(target).write_text(json.dumps(self.as_dict(), indent=2, sort_keys=True))


COUNTERS = Counters()


def raw_notes(mem: AgenticMemory, *, with_vectors: bool = True) -> dict[str, StoredNote]:
    """Every stored record, straight from the note store (all scopes)."""
    return {s.note.id: s for s in mem._store.scan(with_vectors=with_vectors)}


def note_state(note: Note) -> dict[str, Any]:
    """The fields of a note that a test compares (JSON form)."""
    return note.model_dump(mode="json")


def snapshot(mem: AgenticMemory) -> dict[str, Any]:
    """Everything the store holds: notes with raw history and vectors, and tombstones."""
    notes = {}
    for note_id, stored in raw_notes(mem).items():
        vector = None if stored.vector is None else np.round(stored.vector, 6).tolist()
        history = [event.model_dump(mode="json") for event in stored.history]
        notes[note_id] = (note_state(stored.note), history, vector)
    tombstones = {}
    for note_id in mem._store.tombstone_ids():
        tomb = mem._store.tombstone(note_id)
        tombstones[note_id] = None if tomb is None else tomb.history_raw
    return {"notes": notes, "tombstones": tombstones}


def _note_violations(stored: StoredNote, notes: dict[str, StoredNote], dim: int) -> Iterator[str]:
    note = stored.note
    if stored.vector is None or stored.vector.shape != (dim,):
        yield f"{note.id}: no vector of dimension {dim}"
    elif not np.all(np.isfinite(stored.vector)):
        yield f"{note.id}: vector has non-finite values"
    for target, strength in note.links.items():
        other = notes.get(target)
        if other is None:
            yield f"{note.id}: dangling link to {target}"
        elif other.note.scope != note.scope:
            yield f"{note.id}: link crosses scopes to {target}"
        elif note.id not in other.note.links:
            yield f"{note.id}: one-sided link to {target}"
        elif not 0.0 < strength <= 1.0:
            yield f"{note.id}: link strength {strength} outside (0, 1]"
    if note.follows is not None and (
        note.follows not in notes or notes[note.follows].note.scope != note.scope
    ):
        yield f"{note.id}: follows {note.follows}, not a note of its scope"
    history = stored.history
    if not history or history[0].action != "create":
        yield f"{note.id}: history does not start with 'create'"
    elif history[0].after.get("content") != note.content and not any(
        e.action == "update" and "content" in e.after for e in history
    ):
        yield f"{note.id}: content differs from its create event with no update recorded"
    if any(e.note_id != note.id for e in history):
        yield f"{note.id}: history holds another note's events"
    if sum(e.action == "create" for e in history) != 1:
        yield f"{note.id}: history has {sum(e.action == 'create' for e in history)} creates"


def checked_invariants(mem: AgenticMemory, suite: str) -> list[str]:
    """:func:`invariant_violations`, counting links that cross scopes as ``suite`` leaks."""
    problems = invariant_violations(mem)
    COUNTERS.add(suite, leaks=sum("crosses scopes" in p for p in problems), invariant_checks=1)
    return problems


def invariant_violations(mem: AgenticMemory) -> list[str]:
    """Every broken store invariant (empty when the store is consistent).

    Checked: each note has a finite vector of the embedder's dimension; links point
    to existing notes of exactly the same scope, are symmetric and in (0, 1]; a
    ``follows`` pointer names a note of the same scope; history starts with the one ``create`` event
    and holds only the note's own events; no deleted (tombstoned) note is still
    stored; the store's count matches its records.
    """
    notes = raw_notes(mem)
    dim = mem.embedder.dim
    problems = [p for stored in notes.values() for p in _note_violations(stored, notes, dim)]
    for note_id in set(mem._store.tombstone_ids()) & set(notes):
        problems.append(f"{note_id}: deleted (tombstoned) but still stored")
    if mem._store.count() != len(notes):
        problems.append(f"count() says {mem._store.count()}, scan finds {len(notes)}")
    return problems
