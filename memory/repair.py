"""The open-time repair pass: finish what a crash interrupted, rebuild what lives in memory.

Completes half-done deletions, drops links to missing notes, restores the missing
side of one-sided links, makes current again a note whose ``superseded_by`` names a
missing note (or one of another scope), upgrades records of the old layout, and
rebuilds the lexical index and the scopes' tails from the store.
"""

from __future__ import annotations

import logging

from memory.ingest.tails import Tails
from memory.model import Note, Scope
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore
from memory.writer import NoteWriter

__all__ = ["repair_store"]

logger = logging.getLogger(__name__)


def repair_store(
    store: NoteStore, writer: NoteWriter, index: LexicalIndex, tails: Tails
) -> dict[str, int]:
    """Repair ``store`` and rebuild ``index`` and ``tails``; returns counts of what was done."""
    report = {
        "deletions_completed": 0,
        "links_dropped": 0,
        "links_restored": 0,
        "records_upgraded": 0,
        "supersessions_cleared": 0,
    }
    legacy: list[str] = []
    notes: dict[str, Note] = {}
    for stored in store.scan():
        notes[stored.note.id] = stored.note
        if stored.legacy:
            legacy.append(stored.note.id)
    if legacy:
        report["records_upgraded"] = store.upgrade_layout(legacy)
    unfinished = set(store.tombstone_ids()) & set(notes)
    for note_id in unfinished:
        writer.unlink_and_remove(notes[note_id])
        del notes[note_id]
        report["deletions_completed"] += 1
    if unfinished:  # their neighbours (links, successors) changed: read them again
        notes = {stored.note.id: stored.note for stored in store.scan()}
    # A note another process is writing right now may have its links stored before
    # its record (a shared server): look again for the missing ends after the scan.
    missing = {
        t
        for n in notes.values()
        for t in (*n.links, n.follows, n.superseded_by)
        if t and t not in notes
    }
    arrived = store.visible_ids(sorted(missing), Scope()) if missing else set()
    fixes: dict[str, dict[str, float | None]] = {}
    for note in notes.values():
        for target, strength in note.links.items():
            other = notes.get(target)
            if target in arrived:
                continue
            if other is None or other.scope != note.scope:
                fixes.setdefault(note.id, {})[target] = None
                report["links_dropped"] += 1
            elif note.id not in other.links:
                fixes.setdefault(target, {})[note.id] = strength
                report["links_restored"] += 1
        if note.follows and note.follows not in notes and note.follows not in arrived:
            # Its predecessor was deleted by a writer that could not see this note yet.
            fixes.setdefault(note.id, {})[note.follows] = None
            report["links_dropped"] += 1
    if fixes:
        writer.fix_links(fixes)
        notes.update((k, v.note) for k, v in store.fetch(list(fixes), Scope()).items())
    dangling = [
        note.id
        for note in notes.values()
        if note.superseded_by is not None
        and note.superseded_by not in arrived
        and ((successor := notes.get(note.superseded_by)) is None or successor.scope != note.scope)
    ]
    if dangling:
        found = store.fetch(dangling, Scope(), with_history=True)
        writer.make_current(
            list(found.values()),
            reason="repair: the note that updated it is gone (or of another scope)",
            action="repair",
            actor="repair",
        )
        notes.update((k, v.note) for k, v in store.fetch(list(found), Scope()).items())
        report["supersessions_cleared"] = len(found)
    index.clear()
    index.upsert_notes(notes.values())
    tails.rebuild(notes.values())
    if any(report.values()):
        logger.warning("repaired the store on open: %s", report)
    return report
