"""The write path of the Chroma note store (layout 3): notes, link records, event records.

:class:`~memory.store.chroma.ChromaNoteStore` delegates every write here. A write
appends the events first, then the link records that changed, then the note
records, so a crash part-way leaves at most events and links of a note never
stored (``repair()`` drops those links) -- never a stored note without its create
event. See :mod:`~memory.store.chroma_layout` for why links and history are
records of their own.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from memory.errors import StoreError
from memory.model import Note, Scope
from memory.store.base import NoteRecord, StoredNote
from memory.store.chroma_layout import (
    HISTORY_ELSEWHERE,
    LAYOUT,
    LAYOUT_KEY,
    event_record,
    link_id,
    link_record,
)
from memory.store.chroma_records import ChromaRecords
from memory.store.chroma_state import SingleWriterState
from memory.store.codec import encode_note, without_legacy_keys
from memory.store.history import History, decode_history

__all__ = ["ChromaWriter"]

logger = logging.getLogger(__name__)

Fetch = Callable[..., dict[str, StoredNote]]


class ChromaWriter:
    """Every write of one :class:`~memory.store.chroma.ChromaNoteStore`.

    Args:
        records: the store's collections.
        state: its single-writer state (cache, catalog), kept in step.
        cache_size: notes the store keeps decoded (0: none).
        fetch: the store's ``fetch`` (the layout upgrade reads through it).
        shared: other processes may write the same store (a server).
    """

    def __init__(
        self,
        records: ChromaRecords,
        state: SingleWriterState,
        cache_size: int,
        fetch: Fetch,
        *,
        shared: bool,
    ) -> None:
        self._records = records
        self._state = state
        self._cache_size = cache_size
        self._shared = shared
        self._fetch = fetch
        self.writes = 0  # tells a full scan whether a write ran while it paged
        # Orders this instance's events among other writers' (see chroma_layout).
        self.writer_id = uuid.uuid4().hex[:12]
        self._seq = itertools.count()
        self._marks = WriteMarks()

    def write(self, records: Sequence[NoteRecord], previous: dict[str, Note] | None = None) -> None:
        """Write notes with their full history: new vectors first, then metadata-only.

        Records with a vector are upserted (new notes, changed content); records
        without one (neighbours gaining a link or evolving) only get their
        metadata replaced, which is several times cheaper in Chroma than
        re-sending the vector. If the second call fails, the notes the first one
        created are removed again, so a failed write stores nothing; a crash
        between the two leaves at most one-sided links, which
        :meth:`AgenticMemory.repair` restores on open. ``previous``
        holds the stored versions being replaced, so metadata keys they had and
        the new versions lack are deleted.
        """
        if not records:
            return
        previous = previous or {}
        batch = self._records.batch
        with_vectors = [r for r in records if r[1] is not None]
        metadata_only = [r for r in records if r[1] is None]
        # A neighbour whose only change is a link keeps its record: the link is a
        # link record (and its event an event record), so nothing else is sent.
        link_only = [r for r in metadata_only if _only_links_changed(r[0], previous)]
        metadata_only = [r for r in metadata_only if not _only_links_changed(r[0], previous)]
        bases = previous
        if self._shared and metadata_only:
            metadata_only, bases = self._rebased(metadata_only, previous)
        chunks = [
            (group[start : start + batch], call)
            for group, call in ((with_vectors, "upsert"), (metadata_only, "update"))
            for start in range(0, len(group), batch)
        ]
        self.writes += 1
        # Events, then links, then the notes: a crash part-way leaves at most events of
        # a note never stored and links to it, which repair() drops -- never a stored
        # note without its create event or its thread link.
        added: dict[str, dict[str, Any]] = {}
        number = self._marks.start()
        steps = [
            partial(self._append_events, records, previous, number),
            partial(self._write_links, records, previous, added),
            *(partial(self._write_chunk, chunk, bases, call) for chunk, call in chunks),
        ]
        if link_only and self._cache_size:
            steps.append(partial(self._remember_linked, link_only, previous))
        if self._shared:
            steps.append(partial(self._drop_dangling, added))
        try:
            for done, step in enumerate(steps):
                try:
                    step()
                except StoreError:
                    # Chroma may or may not have applied part of it: stop trusting the
                    # catalog until the next full scan (repair) rebuilds it.
                    self._state.distrust()
                    if done:
                        # The caller is told the write failed: take back the notes it
                        # created, or a retry would store them twice (one-sided links).
                        self._undo_created(with_vectors, previous)
                    raise
        finally:
            self._marks.finish(number)

    def _remember_linked(self, records: Sequence[NoteRecord], previous: dict[str, Note]) -> None:
        """Cache link-only changes as stored: new links, the record's ``updated_at``."""
        notes = [
            note.model_copy(update={"updated_at": previous[note.id].updated_at})
            for note, _, _ in records
        ]
        self._state.invalidate([note.id for note in notes])
        self._state.written(notes, [None] * len(notes))

    def _rebased(
        self, records: Sequence[NoteRecord], previous: dict[str, Note]
    ) -> tuple[list[NoteRecord], dict[str, Note]]:
        """Metadata-only records re-applied onto the notes as stored now (shared store).

        Another process may have changed a neighbour since it was read; sending the
        whole stale version would undo that. Only the fields this write changed
        are put onto a fresh read, and a record whose only change is its links
        (stored as link records) or ``updated_at`` is not rewritten at all. This
        narrows the race on a note's own fields to one round trip; it does not
        close it (Chroma has no conditional write) -- links and history, the
        records concurrent writers add, are not exposed to it.
        """
        fresh = self._records.get([note.id for note, _, _ in records], False)
        kept: list[NoteRecord] = []
        bases = dict(previous)
        for note, vector, history in records:
            before = previous.get(note.id)
            if before is None:
                kept.append((note, vector, history))
                continue
            changed = {
                name
                for name in type(note).model_fields
                if name not in ("links", "updated_at")
                and getattr(note, name) != getattr(before, name)
            }
            current = fresh.get(note.id)
            if not changed or current is None:
                continue  # nothing of its own to write, or deleted meanwhile
            update = {name: getattr(note, name) for name in changed}
            rebased = current.note.model_copy(update={**update, "updated_at": note.updated_at})
            kept.append((rebased, vector, history))
            bases[note.id] = current.note
        return kept, bases

    def _write_links(
        self,
        records: Sequence[NoteRecord],
        previous: dict[str, Note],
        added: dict[str, dict[str, Any]],
    ) -> None:
        """Store the links that changed, as link records (commutes with other writers).

        ``added`` receives the link records upserted.
        """
        upserts: dict[str, dict[str, Any]] = {}
        drops: set[str] = set()
        for note, _, _ in records:
            old = previous[note.id].links if note.id in previous else {}
            for other, strength in note.links.items():
                if old.get(other) != strength:
                    record, meta = link_record(note.id, other, strength)
                    upserts[record] = {**upserts.get(record, {}), **meta}
            drops.update(link_id(note.id, other) for other in old if other not in note.links)
        upserts = {record: meta for record, meta in upserts.items() if record not in drops}
        if drops:
            self._records.drop_links(sorted(drops))
        if not upserts:
            return
        self._records.set_links(list(upserts.items()))
        added.update(upserts)

    def _drop_dangling(self, added: dict[str, dict[str, Any]]) -> None:
        """Drop the links just added whose end another process has deleted meanwhile.

        Its deleter drops the links it finds after removing the note, and we look
        for the note after writing our link, so one of the two always sees the other.
        """
        if not added:
            return
        ends = {str(meta[side]) for meta in added.values() for side in ("lo", "hi")}
        alive = self._records.existing(sorted(ends))
        dangling = [
            record
            for record, meta in added.items()
            if meta["lo"] not in alive or meta["hi"] not in alive
        ]
        if dangling:
            self._records.drop_links(dangling)

    def _append_events(
        self, records: Sequence[NoteRecord], previous: dict[str, Note], number: int
    ) -> None:
        """Store the events appended (every event of a note not stored before)."""
        marks = self._marks.marks(number)
        out: list[tuple[str, str, dict[str, Any]]] = []
        for note, _, history in records:
            events = history.added if note.id in previous else history.events()
            out.extend(
                event_record(event, self.writer_id, next(self._seq), marks) for event in events
            )
        self._records.append_events(out)

    def _undo_created(self, written: Sequence[NoteRecord], previous: dict[str, Note]) -> None:
        created = [note.id for note, _, _ in written if note.id not in previous]
        if not created:
            return
        try:
            self.remove(created)
        except StoreError:
            logger.warning(
                "could not take back %d new notes after a failed write; repair() on the "
                "next open restores their links",
                len(created),
            )

    def _write_chunk(
        self, chunk: Sequence[NoteRecord], previous: dict[str, Note], call: str
    ) -> None:
        ids, documents, metadatas = [], [], []
        for note, _, history in chunk:
            document, meta = encode_note(
                note,
                history,
                previous.get(note.id),
                changes_only=call == "update",
                records_elsewhere=True,
            )
            ids.append(note.id)
            documents.append(document)
            metadatas.append(meta)
        self._state.invalidate(ids)
        if call == "upsert":
            vectors = np.stack([np.asarray(r[1], dtype=np.float32) for r in chunk])
            self._records.upsert(ids, vectors, documents, metadatas)
        else:
            self._records.update(ids, metadatas)
        self._state.written([note for note, _, _ in chunk], [vector for _, vector, _ in chunk])

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        self.entomb_many([(note, history)])

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes in one Chroma call per batch.

        Each call costs Chroma more as the tombstones grow, so one per note made
        ``delete_all`` of 500 notes take tens of seconds. The tombstone keeps the
        note's last state (links inline); its history stays in the event records,
        to which the events appended here are added first.
        """
        self._records.append_events(
            [
                event_record(event, self.writer_id, next(self._seq))
                for _, history in records
                for event in (history.events() if history.stored else history.added)
            ]
        )
        encoded = []
        for note, _ in records:
            document, meta = encode_note(note, History())
            encoded.append((note.id, document, {**meta, "history": HISTORY_ELSEWHERE}))
            encoded[-1][2][LAYOUT_KEY] = LAYOUT
        self._records.entomb(encoded)

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Rewrite records of layouts 1 and 2 in layout 3.

        Inline links become link records and inline history event records first
        (both idempotent, so an upgrade a crash interrupted is simply redone),
        then the record's metadata is replaced and the old keys are deleted.
        Content and vectors stay. Returns how many records were rewritten.
        """
        done = 0
        batch = self._records.batch
        for start in range(0, len(ids), batch):
            found = self._fetch(ids[start : start + batch], Scope(), with_history=True)
            links: dict[str, dict[str, Any]] = {}
            events = []
            for stored in found.values():
                for other, strength in stored.note.links.items():
                    record, meta = link_record(stored.note.id, other, strength)
                    links[record] = {**links.get(record, {}), **meta}
                for seq, event in enumerate(decode_history(stored.history_raw)):
                    events.append(event_record(event, "", seq))
            self._records.set_links(list(links.items()))
            self._records.append_events(events)
            metadatas = [
                without_legacy_keys(encode_note(s.note, History(), records_elsewhere=True)[1])
                for s in found.values()
            ]
            chunk = list(found)
            self._state.invalidate(chunk)
            self.writes += 1
            self._records.update(chunk, metadatas, "layout upgrade")
            done += len(chunk)
        return done

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records (their tombstones must already be written)."""
        if ids:
            self.writes += 1
            self._state.invalidate(ids)
            try:
                self._records.delete(ids)
                # After the record is gone: a writer that links to it from now on
                # sees it missing and drops its own link (see _write_links).
                touching = self._records.link_records(ids)
                self._records.drop_links(sorted({link_id(m["lo"], m["hi"]) for m in touching}))
            except StoreError:
                self._state.distrust()
                raise
            self._state.forget(ids)


class WriteMarks:
    """Numbers a writer's writes and knows the lowest one not finished yet.

    Its events carry both (:func:`~memory.store.chroma_layout.event_record`), so a
    follower that has seen ``done`` past a write's number knows that write has
    stored (or given up on) all its records.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = 0
        self._open: set[int] = set()

    def start(self) -> int:
        """A new write's number."""
        with self._lock:
            number = self._next
            self._next += 1
            self._open.add(number)
            return number

    def finish(self, number: int) -> None:
        """The write ``number`` has ended (stored or failed)."""
        with self._lock:
            self._open.discard(number)

    def marks(self, number: int) -> tuple[int, int]:
        """``(write, done)`` for the events of write ``number``."""
        with self._lock:
            return number, min(self._open, default=self._next)


def _only_links_changed(note: Note, previous: dict[str, Note]) -> bool:
    """Whether ``note`` differs from the version it replaces in its links alone."""
    before = previous.get(note.id)
    if before is None or note.links == before.links:
        return False
    return all(
        getattr(note, name) == getattr(before, name)
        for name in type(note).model_fields
        if name not in ("links", "updated_at")
    )
