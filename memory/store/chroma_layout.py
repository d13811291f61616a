"""Layout 3 of a Chroma store: links and history as records of their own, so writes commute.

Two processes writing the same scope through one Chroma server used to rewrite a
shared neighbour's record from what each had read (its links and its history
were fields of that record), so the later write erased the earlier one's link.
In layout 3 nothing a concurrent writer adds is a field of a shared record:

    {prefix}_links     one record per linked pair, id ``"<lo>~<hi>"`` (the two note
                       ids in order), metadata ``lo``, ``hi`` and each side's
                       strength (``s_lo``, ``s_hi``). Two writers adding the same
                       link upsert the same record (Chroma merges metadata), a
                       removal deletes it; a note's links are assembled on read.
    {prefix}_events    one record per history event, id = the event's own id, so
                       re-writing an event is idempotent; metadata ``note_id``,
                       ``at`` (epoch seconds), ``writer`` (a random id per store
                       instance) and ``seq`` (its counter). History is read in
                       ``(at, writer, seq)`` order, and appending costs one small
                       record whatever the note's history holds. The events are
                       also the change feed other processes catch up from
                       (:meth:`~memory.store.chroma.ChromaNoteStore.changes_since`);
                       an event appended by a write also carries ``write`` and
                       ``done`` (see :func:`event_record`).

The note record keeps its content, vector and fields; its ``links`` field and its
``history`` key hold :data:`LINKS_ELSEWHERE` / :data:`HISTORY_ELSEWHERE`, so a
release that only knows layout 2 fails on them (the links do not validate, the
history is not JSON) instead of silently reading a note without links. The
events collection records the layout version; a store of a later version is
refused (:func:`check_layout`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from memory.errors import StoreError
from memory.model import Event

__all__ = [
    "HISTORY_ELSEWHERE",
    "LAYOUT",
    "LAYOUT_KEY",
    "LINKS_ELSEWHERE",
    "assembled_links",
    "check_layout",
    "event_record",
    "events_in_order",
    "link_id",
    "link_record",
]

LAYOUT = 3
"""The record layout this release writes (1: a key per field, 2: history inline)."""
LAYOUT_KEY = "layout"
LINKS_ELSEWHERE = "layout 3: links are link records; this release is too old to read them"
HISTORY_ELSEWHERE = "layout 3: history is event records; this release is too old to read it"


def check_layout(found: Any, where: str) -> None:
    """Refuse a layout this release does not know.

    Raises:
        StoreError: the store (or a record) was written by a later release.
    """
    if isinstance(found, int | float) and found > LAYOUT:
        raise StoreError(
            f"{where} was written in record layout {int(found)}; this release of Zettelmem "
            f"reads layouts up to {LAYOUT}: upgrade zettelmem to open it"
        )


def link_id(a: str, b: str) -> str:
    """The id of the link record of a pair (the same from either side)."""
    lo, hi = (a, b) if a < b else (b, a)
    return f"{lo}~{hi}"


def link_record(note_id: str, other: str, strength: float | None) -> tuple[str, dict[str, Any]]:
    """``(id, metadata)`` setting ``note_id``'s side of its link to ``other``.

    Only that side's strength is sent: Chroma merges metadata on upsert, so the
    other side's strength, written by anyone, stays.
    """
    lo, hi = (note_id, other) if note_id < other else (other, note_id)
    side = "s_lo" if note_id == lo else "s_hi"
    meta: dict[str, Any] = {"lo": lo, "hi": hi}
    if strength is not None:
        meta[side] = float(strength)
    return link_id(lo, hi), meta


def assembled_links(ids: Iterable[str], records: Iterable[Mapping[str, Any]]) -> dict[str, dict]:
    """``note id -> {other: strength}`` for ``ids`` from link records' metadata.

    A pair record links both notes (links are symmetric by construction); a side
    without a strength of its own takes the other side's.
    """
    wanted = set(ids)
    links: dict[str, dict[str, float]] = {note_id: {} for note_id in wanted}
    for meta in records:
        lo, hi = str(meta["lo"]), str(meta["hi"])
        s_lo, s_hi = meta.get("s_lo"), meta.get("s_hi")
        if lo in wanted:
            links[lo][hi] = float(s_lo if s_lo is not None else s_hi or 0.0)
        if hi in wanted:
            links[hi][lo] = float(s_hi if s_hi is not None else s_lo or 0.0)
    return links


def event_record(
    event: Event, writer: str, seq: int, marks: tuple[int, int] | None = None
) -> tuple[str, str, dict[str, Any]]:
    """``(id, document, metadata)`` of one history event.

    ``marks`` is ``(write, done)``: the number of the writer's write that appends
    the event, and the lowest number among its writes not finished yet (every
    earlier one has stored all its records), which tells followers when a change
    they saw has landed (:mod:`~memory.store.follow`).
    """
    document = json.dumps(event.model_dump(mode="json"), ensure_ascii=False)
    meta: dict[str, Any] = {
        "note_id": event.note_id,
        "at": event.at.timestamp(),
        "writer": writer,
        "seq": seq,
    }
    if marks is not None:
        meta["write"], meta["done"] = marks
    return event.id, document, meta


def events_in_order(documents: Iterable[str], metadatas: Iterable[Mapping[str, Any]]) -> str:
    """Event records as one JSON array, in ``(at, writer, seq)`` order."""
    keyed = sorted(
        (
            (float(meta["at"]), str(meta.get("writer", "")), int(meta.get("seq", 0)), document)
            for document, meta in zip(documents, metadatas, strict=True)
        ),
        key=lambda item: item[:3],
    )
    return "[" + ", ".join(document for *_, document in keyed) + "]"
