"""Notes, vectors, links and history in Chroma -- the source of truth.

Design (see README, "Consistency"): one Chroma record per note holds the
content, the vector and its fields; its links and its history are records of
their own (layout 3, :mod:`~memory.store.chroma_layout`), so writers in several
processes on one server add links and events without rewriting each other's
reads. A write stores the new notes, then the link records that changed (the
difference between each note's new links and the version it replaces), then the
events appended. Deletions write a tombstone before removing the record.
``repair()`` on open finishes what a crash interrupted and upgrades stores of
earlier layouts. The same design works embedded and against a Chroma server.

    ChromaNoteStore     the :class:`~memory.store.base.NoteStore` on Chroma: read cache,
                        catalog trust, the routing of each read (this module)
     ├── ChromaRecords  the collections and every Chroma call (``chroma_records``)
     └── routing        pure decisions: fan-out sizing, small-scope routing

Every read takes a :class:`~memory.model.Scope` and filters by it here, so no
caller can forget it.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np

from memory.errors import StoreError
from memory.model import Note, Scope
from memory.store.base import NoteRecord, StoredNote, detached, note_visible
from memory.store.catalog import Catalog
from memory.store.chroma_layout import (
    HISTORY_ELSEWHERE,
    LAYOUT,
    LAYOUT_KEY,
    assembled_links,
    event_record,
    link_id,
    link_record,
)
from memory.store.chroma_nearest import routed_nearest
from memory.store.chroma_records import ChromaRecords
from memory.store.chroma_state import SingleWriterState
from memory.store.codec import encode_note, without_legacy_keys
from memory.store.history import History, decode_history
from memory.store.lock import PathLock
from memory.store.scope_vectors import ScopeVectors
from memory.store.where import build_where

__all__ = ["ChromaNoteStore", "StoredNote"]

logger = logging.getLogger(__name__)


class ChromaNoteStore:
    """The note store on any Chroma client (persistent, ephemeral or HTTP).

    Args:
        client: a ``chromadb`` client.
        prefix: collection name prefix (several memories can share one client).
        cache_size: notes kept decoded in memory. Only safe when this process is
            the store's only writer (a locked path or its own in-memory
            collections): another writer's changes would not invalidate it. The
            catalog and the in-memory scope vectors follow the same rule.
        owns_collections: drop the collections on :meth:`close` (an in-memory
            instance's private collections).
        path_lock: the lock of the folder this store has open, released on close.
    """

    def __init__(
        self,
        *,
        client: Any,
        prefix: str = "zettelmem",
        cache_size: int = 0,
        owns_collections: bool = False,
        path_lock: PathLock | None = None,
    ) -> None:
        self._records = ChromaRecords(client, prefix)
        self._state = SingleWriterState(cache_size)
        self._cache_size = cache_size
        self._writes = 0  # tells a full scan whether a write ran while it paged
        self._owns_collections = owns_collections
        self._path_lock = path_lock
        self._closed = False
        # Orders this instance's events among other writers' (see chroma_layout).
        self.writer_id = uuid.uuid4().hex[:12]
        self._seq = itertools.count()

    @property
    def client(self) -> Any:
        """The Chroma client this store talks to."""
        return self._records.client

    @property
    def _notes(self) -> Any:
        return self._records.notes

    @property
    def _catalog(self) -> Catalog | None:
        return self._state.catalog

    @property
    def _scope_vectors(self) -> ScopeVectors:
        return self._state.scope_vectors

    def reconnect(self) -> None:
        """Re-resolve the collections (after a Chroma server restart)."""
        self._records.open()

    def close(self) -> None:
        """Drop owned collections; stop the client and release the path of a folder."""
        if not self._closed:
            self._closed = True
            self._records.close(drop=self._owns_collections, path_lock=self._path_lock)

    # ---- writes -------------------------------------------------------------------------

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
        chunks = [
            (group[start : start + batch], call)
            for group, call in ((with_vectors, "upsert"), (metadata_only, "update"))
            for start in range(0, len(group), batch)
        ]
        self._writes += 1
        # Events, then links, then the notes: a crash part-way leaves at most events of
        # a note never stored and links to it, which repair() drops -- never a stored
        # note without its create event or its thread link.
        added: dict[str, dict[str, Any]] = {}
        steps = [
            partial(self._append_events, records, previous),
            partial(self._write_links, records, previous, added),
            *(partial(self._write_chunk, chunk, previous, call) for chunk, call in chunks),
        ]
        if not self._cache_size:
            steps.append(partial(self._drop_dangling, added))
        for done, step in enumerate(steps):
            try:
                step()
            except StoreError:
                # Chroma may or may not have applied part of it: stop trusting the
                # catalog until the next full scan (repair) rebuilds it.
                self._state.distrust()
                if done:
                    # The caller is told the write failed: take back the notes it created,
                    # or a retry would store them twice (with one-sided links).
                    self._undo_created(with_vectors, previous)
                raise

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

    def _append_events(self, records: Sequence[NoteRecord], previous: dict[str, Note]) -> None:
        """Store the events appended (every event of a note not stored before)."""
        self._records.append_events(self._event_records(records, previous))

    def _event_records(
        self, records: Sequence[NoteRecord], previous: dict[str, Note]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for note, _, history in records:
            events = history.added if note.id in previous else history.events()
            out.extend(event_record(event, self.writer_id, next(self._seq)) for event in events)
        return out

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
            found = self.fetch(ids[start : start + batch], Scope(), with_history=True)
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
            self._writes += 1
            self._records.update(chunk, metadatas, "layout upgrade")
            done += len(chunk)
        return done

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records (their tombstones must already be written)."""
        if ids:
            self._writes += 1
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

    # ---- reads --------------------------------------------------------------------------

    def fetch(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        with_vectors: bool = False,
        with_history: bool = False,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> dict[str, StoredNote]:
        """The notes among ``ids`` that exist, are visible in ``scope`` and pass the filters.

        Fetched by id (Chroma's ``where`` makes a lookup by id several times
        slower) and filtered here, in Python, with the same rules.
        """
        if not ids:
            return {}
        unique = list(dict.fromkeys(ids))
        found = self._lookup(unique, with_vectors)
        out: dict[str, StoredNote] = {}
        for note_id in unique:
            stored = found.get(note_id)
            if stored is None or not note_visible(stored.note, scope, exact_scope, kinds, filters):
                continue
            # Cached notes never leave: a caller mutating a returned note (its metadata,
            # links, ...) would otherwise change the cache, and the next write of it.
            note = detached(stored.note) if self._cache_size else stored.note
            history = stored.history_raw if with_history else None
            load = None
            if with_history and history is None:
                load = partial(self._records.history, note_id)
            out[note_id] = StoredNote(note, history, stored.vector, load_history=load)
        return out

    def visible_ids(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> set[str]:
        """Which of ``ids`` exist and pass the scope / kind / metadata filters (no copies)."""
        catalog = self._state.trusted_catalog()
        if filters is None and catalog is not None:
            return catalog.visible(ids, scope, kinds=kinds, exact_scope=exact_scope)
        found = self._lookup(list(dict.fromkeys(ids)), False, links=False)
        return {
            note_id
            for note_id, stored in found.items()
            if note_visible(stored.note, scope, exact_scope, kinds, filters)
        }

    def _lookup(
        self, unique: list[str], with_vectors: bool, *, links: bool = True
    ) -> dict[str, StoredNote]:
        """Stored notes by id, from the cache where possible (shared objects: don't leak).

        ``links=False``: the caller needs no links (visibility), so the link records
        are not read and what is read is not cached.
        """
        found, missing = ({}, unique) if with_vectors else self._state.cached(unique)
        if missing:
            fresh = self._records.get(missing, with_vectors)
            if links:
                self._attach_links(fresh)
            found.update(fresh)
            if self._cache_size and links:
                self._state.remember(fresh)
        return found

    def _attach_links(
        self, stored: dict[str, StoredNote], records: list[dict[str, Any]] | None = None
    ) -> None:
        """Give each note its links from the link records (plus inline ones of old layouts)."""
        if not stored:
            return
        if records is None:
            records = self._records.link_records(list(stored))
        links = assembled_links(stored, records)
        for note_id, item in stored.items():
            item.note.links = {**item.note.links, **links[note_id]}

    def nearest(
        self,
        vectors: np.ndarray,
        scope: Scope,
        n: int,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``n`` (id, cosine similarity) visible in ``scope``.

        Routed by :func:`~memory.store.chroma_nearest.routed_nearest`.
        """
        return routed_nearest(
            self._records,
            self._state if self._cache_size else None,
            self.visible_ids,
            np.asarray(vectors, dtype=np.float32),
            n,
            scope,
            kinds,
            filters,
            exact_scope,
        )

    def thread_neighbours(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, tuple[str | None, str | None]]:
        """``id -> (predecessor, successor)`` for each of ``ids`` that is visible.

        Ids that are missing or not visible under the scope, kinds and filters
        are left out; a neighbour that is not visible is ``None``, so relevance
        never flows to a note this search may not return.
        """
        unique = list(dict.fromkeys(ids))
        catalog = self._state.trusted_catalog()
        if filters is None and catalog is not None:
            shown = catalog.visible(unique, scope, kinds=kinds)
            pairs = {note_id: catalog.thread(note_id) for note_id in unique if note_id in shown}
        else:
            found = self._lookup(unique, False, links=False)
            visible = [
                note_id
                for note_id in unique
                if note_id in found
                and note_visible(found[note_id].note, scope, False, kinds, filters)
            ]
            successors = self._records.successors(visible)
            pairs = {
                note_id: (found[note_id].note.follows, successors.get(note_id))
                for note_id in visible
            }
        named = {n for pair in pairs.values() for n in pair if n is not None}
        # Neighbours among the visible ids need no second look.
        shown_ids = set(pairs) | self.visible_ids(
            list(named - set(pairs)), scope, kinds=kinds, filters=filters
        )
        return {
            note_id: (
                before if before in shown_ids else None,
                after if after in shown_ids else None,
            )
            for note_id, (before, after) in pairs.items()
        }

    def matching_ids(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> set[str]:
        """Ids of every note in ``scope`` that passes the kind and metadata filters."""
        return self._records.ids_where(build_where(scope, kinds=kinds, filters=filters))

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, page by page (for index rebuilds and repair).

        A scan that runs to the end with no write in between also rebuilds the
        catalog, which from then on answers visibility and thread questions.
        """
        fresh = Catalog() if self._state.catalog is not None else None
        writes_before = self._writes
        link_records = self._records.all_link_records()
        for page in self._records.pages(with_vectors):
            self._attach_links(page, link_records)
            for note_id, stored in page.items():
                if stored.history_raw is None:
                    stored.load_history = partial(self._records.history, note_id)
            if fresh is not None:
                fresh.record(s.note for s in page.values())
            yield from page.values()
        if fresh is not None and self._writes == writes_before:
            fresh.complete = True
            self._state.catalog = fresh

    def count(self) -> int:
        """Number of stored notes (all scopes)."""
        return self._records.count()

    def tombstone(self, note_id: str) -> StoredNote | None:
        """The deleted note's last state and history, if it was deleted."""
        return self._records.tombstone(note_id)

    def tombstone_ids(self) -> list[str]:
        """Ids of every deleted note (for the repair pass)."""
        return self._records.tombstone_ids()
