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
     ├── FeedFollower   keeps a shared store's memory current (``follow``)
     └── routing        pure decisions: fan-out sizing, small-scope routing

Every read takes a :class:`~memory.model.Scope` and filters by it here, so no
caller can forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import numpy as np

from memory.model import Note, Scope
from memory.store.base import NoteRecord, StoredNote, detached, note_visible, visible_thread
from memory.store.catalog import Catalog
from memory.store.chroma_layout import assembled_links
from memory.store.chroma_nearest import routed_nearest
from memory.store.chroma_records import ChromaRecords
from memory.store.chroma_state import SingleWriterState
from memory.store.chroma_writes import ChromaWriter
from memory.store.follow import REFRESH_SECONDS, FeedFollower
from memory.store.history import History
from memory.store.lock import PathLock
from memory.store.scope_vectors import ScopeVectors
from memory.store.where import build_where

__all__ = ["ChromaNoteStore", "StoredNote"]


class ChromaNoteStore:
    """The note store on any Chroma client (persistent, ephemeral or HTTP).

    Args:
        client: a ``chromadb`` client.
        prefix: collection name prefix (several memories can share one client).
        cache_size: notes kept decoded in memory (0: none, and no catalog or
            in-memory scope vectors either).
        owns_collections: drop the collections on :meth:`close` (an in-memory
            instance's private collections).
        path_lock: the lock of the folder this store has open, released on close.
        shared: other processes may write the store (a server's client). Its
            cache, catalog and scope vectors then follow the change feed
            (:mod:`~memory.store.follow`): every read polls it at most every
            0.2 s, which bounds how stale they are. Default: shared when
            nothing is cached and the collections are not this instance's own.
    """

    def __init__(
        self,
        *,
        client: Any,
        prefix: str = "zettelmem",
        cache_size: int = 0,
        owns_collections: bool = False,
        path_lock: PathLock | None = None,
        shared: bool | None = None,
    ) -> None:
        self._records = ChromaRecords(client, prefix)
        self._state = SingleWriterState(cache_size)
        self._cache_size = cache_size
        self._owns_collections = owns_collections
        self._path_lock = path_lock
        self._closed = False
        self._shared = (not cache_size and not owns_collections) if shared is None else shared
        self._writer = ChromaWriter(
            self._records, self._state, cache_size, self.fetch, shared=self._shared
        )
        # Made before the open-time scan, so nothing written meanwhile is missed.
        self._follower = self._feed() if self._shared else None
        # Whether reads must poll the feed first: what they serve from memory.
        self._follows = self._shared and bool(cache_size)

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
        """Write notes with their history and links (see :mod:`~memory.store.chroma_writes`).

        If a step fails, the notes the write created are removed again, so a
        failed write stores nothing; a crash part-way leaves at most links to a
        note never stored, which :meth:`AgenticMemory.repair` drops on open.
        ``previous`` holds the stored versions being replaced: their links are
        the difference to store, their metadata keys the ones to delete.
        """
        self._writer.write(records, previous)

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        self._writer.entomb_many([(note, history)])

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes in one Chroma call per batch."""
        self._writer.entomb_many(records)

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Rewrite records of layouts 1 and 2 in layout 3; returns how many."""
        return self._writer.upgrade_layout(ids)

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records and their link records (tombstones must be written)."""
        self._writer.remove(ids)

    @property
    def writer_id(self) -> str:
        """This instance's id among the writers of the store (orders its events)."""
        return self._writer.writer_id

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
        read_only: bool = False,
    ) -> dict[str, StoredNote]:
        """The visible notes among ``ids`` (``read_only``: the cached objects, uncopied).

        Fetched by id (Chroma's ``where`` makes a lookup by id several times slower)
        and filtered here, in Python, with the same rules.
        """
        if not ids:
            return {}
        self._catch_up_reads()
        unique = list(dict.fromkeys(ids))
        found = self._lookup(unique, with_vectors)
        out: dict[str, StoredNote] = {}
        for note_id in unique:
            stored = found.get(note_id)
            if stored is None or not note_visible(stored.note, scope, exact_scope, kinds, filters):
                continue
            # Cached notes never leave: a caller mutating a returned note (its metadata,
            # links, ...) would otherwise change the cache, and the next write of it.
            note = stored.note if read_only or not self._cache_size else detached(stored.note)
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
        self._catch_up_reads()
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
        if self._follower is not None:  # a note whose delete is under way stays hidden
            unique = self._follower.not_deleting(unique)
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

        Routed by :func:`~memory.store.chroma_nearest.routed_nearest`; a shared
        store scores a scope it holds in memory exactly there (no round trip).
        """
        self._catch_up_reads()
        return routed_nearest(
            self._records,
            self._state if self._cache_size else None,
            self._shared,
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
        self._catch_up_reads()
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
        return visible_thread(pairs, shown_ids)

    def matching_ids(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> set[str]:
        """Ids of every note in ``scope`` passing the filters (the catalog's when it can tell)."""
        where = build_where(scope, kinds=kinds, filters=filters)  # also checks the arguments
        self._catch_up_reads()
        members = self._state.members(scope, kinds) if filters is None else None
        return set(members) if members is not None else self._records.ids_where(where)

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, page by page (for index rebuilds and repair).

        A scan that runs to the end with no write in between also rebuilds the
        catalog, which from then on answers visibility and thread questions.
        """
        fresh = Catalog() if self._state.catalog is not None else None
        writes_before = self._writer.writes
        link_records = self._records.all_link_records()
        for page in self._records.pages(with_vectors):
            self._attach_links(page, link_records)
            for note_id, stored in page.items():
                if stored.history_raw is None:
                    stored.load_history = partial(self._records.history, note_id)
            if fresh is not None:
                fresh.record(s.note for s in page.values())
            yield from page.values()
        if fresh is not None and self._writer.writes == writes_before:
            fresh.complete = True
            self._state.catalog = fresh
            if self._follows and self._follower is not None:  # what others wrote meanwhile
                self._follower.catch_up(force=True)

    def count(self) -> int:
        """Number of stored notes (all scopes)."""
        return self._records.count()

    def tombstone(self, note_id: str) -> StoredNote | None:
        """The deleted note's last state and history, if it was deleted."""
        return self._records.tombstone(note_id)

    def tombstone_ids(self) -> list[str]:
        """Ids of every deleted note (for the repair pass)."""
        return self._records.tombstone_ids()

    # ---- change feed (other processes' writes) ------------------------------------------

    @property
    def shared(self) -> bool:
        """Whether other processes may write this store (a client it was handed)."""
        return self._shared

    def feed_position(self) -> int:
        """The change feed's current end (a cursor for :meth:`changes_since`)."""
        return self._records.event_count()

    def changes_since(self, position: int, limit: int = 5000) -> tuple[list[tuple[str, str]], int]:
        """``([(note id, action), ...], new position)``: events stored after ``position``."""
        changes = self._records.events_after(position, limit)
        return [(entry.note_id, entry.action) for entry in changes], position + len(changes)

    def follow(self, listener: Callable[[dict[str, StoredNote], list[str]], None]) -> None:
        """Call ``listener(changed notes, deleted ids)`` with other writers' changes."""
        if self._follower is None:
            self._follower = self._feed()
        self._follower.subscribe(listener)

    def catch_up(self, *, max_age: float = REFRESH_SECONDS, force: bool = False) -> int:
        """Apply other writers' changes if the feed was last read ``max_age`` s ago or more.

        Returns how many notes were re-read or removed (see :mod:`~memory.store.follow`).
        """
        if self._follower is None:
            return 0
        return self._follower.catch_up(max_age=max_age, force=force)

    def _catch_up_reads(self) -> None:
        if self._follows and self._follower is not None:
            self._follower.catch_up()

    def _feed(self) -> FeedFollower:
        follower = FeedFollower(self._records, self._records.current, self._writer.writer_id)
        if self._cache_size:
            follower.subscribe(self._state.followed)
        return follower
