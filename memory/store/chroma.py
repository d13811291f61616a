"""Notes, vectors, links and history in Chroma -- the source of truth.

Design (see README, "Consistency"): one Chroma record per note holds the
content, the vector, every field, and the note's own history inline. An
operation that touches several notes (a new note plus its neighbours' links
and evolution) is written as ONE ``upsert`` call, which Chroma logs as one
batch; deletions write a tombstone (the note's last state and full history)
before removing the record. ``repair()`` on open finishes what a crash
interrupted: half-done deletions are completed and one-sided or dangling links
are mended. The same design works against a Chroma server.

    ChromaNoteStore     the :class:`~memory.store.base.NoteStore` on Chroma: read cache,
                        catalog trust, the routing of each read (this module)
     ├── ChromaRecords  the collections and every Chroma call (``chroma_records``)
     └── routing        pure decisions: fan-out sizing, small-scope routing

Every read takes a :class:`~memory.model.Scope` and filters by it here, so no
caller can forget it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from memory.errors import StoreError
from memory.model import Note, Scope
from memory.store.base import NoteRecord, StoredNote, detached, note_visible
from memory.store.catalog import Catalog
from memory.store.chroma_nearest import routed_nearest
from memory.store.chroma_records import ChromaRecords
from memory.store.chroma_state import SingleWriterState
from memory.store.codec import encode_note, without_legacy_keys
from memory.store.history import History
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
        for done, (chunk, call) in enumerate(chunks):
            try:
                self._write_chunk(chunk, previous, call)
            except StoreError:
                # Chroma may or may not have applied part of it: stop trusting the
                # catalog until the next full scan (repair) rebuilds it.
                self._state.distrust()
                if done:
                    # The caller is told the write failed: take back the notes it created,
                    # or a retry would store them twice (with one-sided links).
                    self._undo_created(with_vectors, previous)
                raise

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
                note, history, previous.get(note.id), changes_only=call == "update"
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
        self._state.written(
            [note for note, _, _ in chunk],
            [vector for _, vector, _ in chunk],
            [meta["history"] for meta in metadatas],
        )

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        self.entomb_many([(note, history)])

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes in one Chroma call per batch.

        Each call costs Chroma more as the tombstones grow, so one per note made
        ``delete_all`` of 500 notes take tens of seconds.
        """
        self._records.entomb([(note.id, *encode_note(note, history)) for note, history in records])

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Rewrite records of the one-key-per-field layout in the current one.

        Content and vectors stay; only metadata is replaced, and the old keys are
        deleted. Returns how many records were rewritten.
        """
        done = 0
        batch = self._records.batch
        for start in range(0, len(ids), batch):
            found = self.fetch(ids[start : start + batch], Scope(), with_history=True)
            metadatas = [
                without_legacy_keys(encode_note(stored.note, stored.log)[1])
                for stored in found.values()
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
            out[note_id] = StoredNote(note, history, stored.vector)
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
        found = self._lookup(list(dict.fromkeys(ids)), False)
        return {
            note_id
            for note_id, stored in found.items()
            if note_visible(stored.note, scope, exact_scope, kinds, filters)
        }

    def _lookup(self, unique: list[str], with_vectors: bool) -> dict[str, StoredNote]:
        """Stored notes by id, from the cache where possible (shared objects: don't leak)."""
        found, missing = ({}, unique) if with_vectors else self._state.cached(unique)
        if missing:
            fresh = self._records.get(missing, with_vectors)
            found.update(fresh)
            if self._cache_size:
                self._state.remember(fresh)
        return found

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
            found = self._lookup(unique, False)
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
        for page in self._records.pages(with_vectors):
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
