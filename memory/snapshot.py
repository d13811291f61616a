"""Whole-store snapshots: every note with its id, links, history and utility.

A snapshot is a sequence of :class:`NoteSnapshot` records, one per note, written
as JSON Lines by ``zettelmem export`` and read back by ``zettelmem import --notes``.
Vectors are not part of it: they belong to the embedder, so a restore embeds the
notes again (and a snapshot can move a memory to another embedder).

    export_snapshot(mem)          notes + histories, read through the public API
    dump_snapshot(record)         one JSON Lines line
    read_snapshot(lines)          validated records from JSON Lines
    write_snapshot(store, ...)    the write half of :meth:`AgenticMemory.restore`

Example:
    >>> records = list(export_snapshot(mem))
    >>> fresh = AgenticMemory("elsewhere")
    >>> fresh.restore(records)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ValidationError

from memory.errors import InvalidInput
from memory.model import Event, Note, Scope
from memory.retrieve.indexed import embedded_text
from memory.store.codec import validate_user_metadata
from memory.store.history import History
from memory.validate import validate_content, validate_note_id, validate_scope

if TYPE_CHECKING:
    from memory.facade import AgenticMemory
    from memory.store import NoteStore

__all__ = [
    "NoteSnapshot",
    "dump_snapshot",
    "export_snapshot",
    "read_snapshot",
    "write_snapshot",
]

RESTORE_CHUNK = 2048
"""Notes embedded and written per store write during a restore."""


class NoteSnapshot(BaseModel):
    """One note exactly as stored (links, utility, ``follows``) and its full history."""

    note: Note
    history: list[Event] = []


def export_snapshot(
    mem: AgenticMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> Iterator[NoteSnapshot]:
    """Every note visible in the scope with its history, oldest first."""
    scope: dict[str, Any] = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    for note in mem.notes(**scope):
        yield NoteSnapshot(note=note, history=mem.history(note.id, **scope))


def read_snapshot(lines: Iterable[str], *, source: str = "snapshot") -> list[NoteSnapshot]:
    """Parse and check JSON Lines records (blank lines skipped).

    Raises:
        InvalidInput: a line is not JSON or not a valid record, or an id repeats;
            the message names the line.
    """
    records: list[NoteSnapshot] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = NoteSnapshot.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{source} line {number} is not JSON: {exc.msg}") from exc
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise InvalidInput(
                f"{source} line {number} is not a note record: {where}: {first['msg']}"
            ) from exc
        try:
            _check_note(record.note)
        except InvalidInput as exc:
            raise InvalidInput(f"{source} line {number}: {exc}") from exc
        if record.note.id in seen:
            raise InvalidInput(f"{source} line {number} repeats note id {record.note.id!r}")
        seen.add(record.note.id)
        records.append(record)
    return records


def _check_note(note: Note) -> None:
    """The rules ``add`` applies, so a restored note is one ``add`` could have made."""
    validate_note_id(note.id)
    validate_content(note.content, max_chars=10_000_000)
    validate_user_metadata(note.metadata)
    validate_scope(note.user_id, note.agent_id, note.run_id)


def write_snapshot(
    store: NoteStore,
    records: Sequence[NoteSnapshot],
    embed: Callable[[Sequence[str]], np.ndarray],
) -> list[str]:
    """Write the records whose id is not stored yet; return their ids.

    Notes already present are left as they are, so an interrupted restore can
    simply be run again. Each chunk is embedded, then written in one store write.
    """
    for record in records:
        _check_note(record.note)
    written: list[str] = []
    for start in range(0, len(records), RESTORE_CHUNK):
        chunk = records[start : start + RESTORE_CHUNK]
        present = store.fetch([r.note.id for r in chunk], Scope())
        fresh = [r for r in chunk if r.note.id not in present]
        if not fresh:
            continue
        vectors = embed([embedded_text(r.note) for r in fresh])
        store.write([(r.note, vectors[i], History.of(r.history)) for i, r in enumerate(fresh)])
        written.extend(r.note.id for r in fresh)
    return written


def dump_snapshot(record: NoteSnapshot) -> str:
    """One JSON Lines line for a record."""
    data: dict[str, Any] = record.model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, sort_keys=True)
