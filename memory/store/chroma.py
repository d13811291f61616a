"""Notes, vectors, links and history in Chroma -- the source of truth.

Design (see README, "Consistency"): one Chroma record per note holds the
content, the vector, every field, and the note's own history inline. An
operation that touches several notes (a new note plus its neighbours' links
and evolution) is written as ONE ``upsert`` call, which Chroma logs as one
batch; deletions write a tombstone (the note's last state and full history)
before removing the record. ``repair()`` on open finishes what a crash
interrupted: half-done deletions are completed and one-sided or dangling links
are mended. The same design works against a Chroma server.

Every read takes a :class:`~memory.model.Scope` and filters by it here, so no
caller can forget it.
"""

from __future__ import annotations

import copy
import logging
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np

from memory.errors import StoreError, StoreUnavailable
from memory.model import Event, Note, Scope
from memory.store.catalog import Catalog
from memory.store.codec import decode_note, encode_note, is_legacy, without_legacy_keys
from memory.store.history import History, decode_history
from memory.store.scope_vectors import EXACT_SCAN_MAX, ScopeVectors
from memory.store.where import build_where, filters_match

__all__ = ["ChromaNoteStore", "StoredNote"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SCAN_PAGE = 2000


@dataclass
class StoredNote:
    """A note as read from the store, with its raw inline history and vector."""

    note: Note
    history_raw: str | None = None
    vector: np.ndarray | None = None
    legacy: bool = False  # written in the one-key-per-field layout (see codec)

    @property
    def history(self) -> list[Event]:
        """Every event, decoded (for reading; writes append to :attr:`log`)."""
        return decode_history(self.history_raw)

    @property
    def log(self) -> History:
        """The history to append new events to, left encoded."""
        return History(self.history_raw)


def _is_connection_error(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {
        "ConnectError",
        "ConnectTimeout",
        "RemoteProtocolError",
        "ReadError",
        "ConnectionError",
        "TransportError",
        "ReadTimeout",
        "WriteError",
    }:
        return True
    text = str(exc).lower()
    return "could not connect" in text or "connection refused" in text


def _translated(action: str, call: Callable[[], T]) -> T:
    """Run a Chroma call, turning its failures into our error hierarchy."""
    try:
        return call()
    except (StoreError, ValueError) as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"Chroma rejected {action}: {exc}") from exc
    except Exception as exc:
        if _is_connection_error(exc):
            raise StoreUnavailable(f"Chroma is unreachable during {action}: {exc}") from exc
        raise StoreError(f"Chroma failed during {action}: {exc}") from exc


def _visible(
    note: Note,
    scope: Scope,
    exact: bool,
    kinds: Sequence[str] | None,
    filters: dict[str, Any] | None,
) -> bool:
    if exact and note.scope != scope:
        return False
    if not scope.admits(note.scope):
        return False
    if kinds is not None and note.kind not in kinds:
        return False
    return filters_match(filters, note.metadata)


def _detached(note: Note) -> Note:
    """A copy sharing nothing mutable with ``note`` (much cheaper than a deep copy)."""
    return note.model_copy(
        update={
            "metadata": copy.deepcopy(note.metadata),
            "links": dict(note.links),
            "keywords": list(note.keywords),
            "tags": list(note.tags),
            "sources": list(note.sources),
        }
    )


class ChromaNoteStore:
    """The note store on any Chroma client (persistent, ephemeral or HTTP).

    Args:
        client: a ``chromadb`` client.
        prefix: collection name prefix (several memories can share one client).
    """

    def __init__(self, *, client: Any, prefix: str = "zettelmem", cache_size: int = 0) -> None:
        self._client = client
        self._prefix = prefix
        # Only safe when this process is the only writer (a locked path or an
        # in-memory client): another writer's changes would not invalidate it.
        self._cache: OrderedDict[str, StoredNote] = OrderedDict()
        self._cache_size = cache_size
        # Same condition as the cache: only a single writer can trust what it remembers.
        self._catalog: Catalog | None = Catalog() if cache_size else None
        self._scope_vectors = ScopeVectors()  # used only with a trusted catalog
        self._writes = 0  # tells a full scan whether a write ran while it paged
        self._open_collections()
        self._batch = int(_translated("get_max_batch_size", client.get_max_batch_size))

    def _open_collections(self) -> None:
        def open_both() -> tuple[Any, Any]:
            notes = self._client.get_or_create_collection(
                f"{self._prefix}_notes",
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_search": 128}},
            )
            tombstones = self._client.get_or_create_collection(
                f"{self._prefix}_tombstones", embedding_function=None
            )
            return notes, tombstones

        self._notes, self._tombstones = _translated("opening collections", open_both)

    def reconnect(self) -> None:
        """Re-resolve the collections (after a Chroma server restart)."""
        self._open_collections()

    # ---- writes -------------------------------------------------------------------------

    def write(
        self,
        records: Sequence[tuple[Note, np.ndarray | None, History]],
        previous: dict[str, Note] | None = None,
    ) -> None:
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
        with_vectors = [r for r in records if r[1] is not None]
        metadata_only = [r for r in records if r[1] is None]
        chunks = [
            (group[start : start + self._batch], call)
            for group, call in ((with_vectors, "upsert"), (metadata_only, "update"))
            for start in range(0, len(group), self._batch)
        ]
        self._writes += 1
        for done, (chunk, call) in enumerate(chunks):
            try:
                self._write_chunk(chunk, previous, call)
            except StoreError:
                # Chroma may or may not have applied part of it: stop trusting the
                # catalog until the next full scan (repair) rebuilds it.
                self._distrust_catalog()
                if done:
                    # The caller is told the write failed: take back the notes it created,
                    # or a retry would store them twice (with one-sided links).
                    self._undo_created(with_vectors, previous)
                raise

    def _undo_created(
        self, written: Sequence[tuple[Note, Any, History]], previous: dict[str, Note]
    ) -> None:
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
        self,
        chunk: Sequence[tuple[Note, np.ndarray | None, History]],
        previous: dict[str, Note],
        call: str,
    ) -> None:
        ids, documents, metadatas = [], [], []
        for note, _, history in chunk:
            document, meta = encode_note(
                note, history, previous.get(note.id), changes_only=call == "update"
            )
            ids.append(note.id)
            documents.append(document)
            metadatas.append(meta)
            self._cache.pop(note.id, None)
        if call == "upsert":
            vectors = np.stack([np.asarray(r[1], dtype=np.float32) for r in chunk])
            _translated(
                "upsert",
                lambda: self._notes.upsert(
                    ids=ids, embeddings=vectors, documents=documents, metadatas=metadatas
                ),
            )
        else:
            _translated(
                "update",
                # Content is unchanged on this path; sending documents would make
                # Chroma try to re-embed them.
                lambda: self._notes.update(ids=ids, metadatas=metadatas),
            )
        if self._catalog is not None:
            self._catalog.record(note for note, _, _ in chunk)
        if call == "upsert":
            self._scope_vectors.record(
                (note.id, note.scope, vector) for note, vector, _ in chunk if vector is not None
            )
        if self._cache_size:
            # Write-through: a search right after an import reads the new notes from
            # memory. Copies, because the caller keeps (and may change) the notes.
            self._remember(
                {
                    note.id: StoredNote(_detached(note), meta["history"])
                    for (note, _, _), meta in zip(chunk, metadatas, strict=True)
                }
            )

    def _remember(self, fresh: dict[str, StoredNote]) -> None:
        for note_id, stored in fresh.items():
            self._cache[note_id] = StoredNote(stored.note, stored.history_raw)
            self._cache.move_to_end(note_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _trusted_catalog(self) -> Catalog | None:
        """The catalog, when it is complete and in step with the store (else ``None``)."""
        catalog = self._catalog
        return catalog if catalog is not None and catalog.complete else None

    def _distrust_catalog(self) -> None:
        if self._catalog is not None:
            self._catalog.complete = False
        self._scope_vectors.clear()

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        self.entomb_many([(note, history)])

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes in one Chroma call per batch.

        Each call costs Chroma more as the tombstones grow, so one per note made
        ``delete_all`` of 500 notes take tens of seconds.
        """
        encoded = [(note.id, *encode_note(note, history)) for note, history in records]
        for start in range(0, len(encoded), self._batch):
            chunk = encoded[start : start + self._batch]
            _translated(
                "tombstone upsert",
                partial(
                    self._tombstones.upsert,
                    ids=[note_id for note_id, _, _ in chunk],
                    embeddings=[[1.0]] * len(chunk),
                    documents=[document for _, document, _ in chunk],
                    metadatas=[meta for _, _, meta in chunk],
                ),
            )

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Rewrite records of the one-key-per-field layout in the current one.

        Content and vectors stay; only metadata is replaced, and the old keys are
        deleted. Returns how many records were rewritten.
        """
        done = 0
        for start in range(0, len(ids), self._batch):
            found = self.fetch(ids[start : start + self._batch], Scope(), with_history=True)
            metadatas = [
                without_legacy_keys(encode_note(stored.note, stored.log)[1])
                for stored in found.values()
            ]
            chunk = list(found)
            for note_id in chunk:
                self._cache.pop(note_id, None)
            self._writes += 1
            _translated(
                "layout upgrade",
                partial(self._notes.update, ids=chunk, metadatas=metadatas),
            )
            done += len(chunk)
        return done

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records (their tombstones must already be written)."""
        if ids:
            self._writes += 1
            for note_id in ids:
                self._cache.pop(note_id, None)
            try:
                _translated("delete", lambda: self._notes.delete(ids=list(ids)))
            except StoreError:
                self._distrust_catalog()
                raise
            if self._catalog is not None:
                self._catalog.forget(ids)
            self._scope_vectors.forget(ids)

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
            if stored is None or not _visible(stored.note, scope, exact_scope, kinds, filters):
                continue
            # Cached notes never leave: a caller mutating a returned note (its metadata,
            # links, ...) would otherwise change the cache, and the next write of it.
            note = _detached(stored.note) if self._cache_size else stored.note
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
        catalog = self._trusted_catalog()
        if filters is None and catalog is not None:
            return catalog.visible(ids, scope, kinds=kinds, exact_scope=exact_scope)
        found = self._lookup(list(dict.fromkeys(ids)), False)
        return {
            note_id
            for note_id, stored in found.items()
            if _visible(stored.note, scope, exact_scope, kinds, filters)
        }

    def _lookup(self, unique: list[str], with_vectors: bool) -> dict[str, StoredNote]:
        """Stored notes by id, from the cache where possible (shared objects: don't leak)."""
        found: dict[str, StoredNote] = {}
        missing = unique
        if self._cache_size and not with_vectors:
            missing = []
            for note_id in unique:
                hit = self._cache.get(note_id)
                if hit is None:
                    missing.append(note_id)
                else:
                    self._cache.move_to_end(note_id)
                    found[note_id] = hit
        if missing:
            include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
            result = _translated("get", lambda: self._notes.get(ids=missing, include=include))
            fresh = self._stored(result, with_vectors, True)
            found.update(fresh)
            if self._cache_size:
                self._remember(fresh)
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

        Chroma's ``where`` makes an HNSW query 5-25x slower (measured: 2 ms without,
        12-54 ms with, at 10k notes), so when this store may cache (it is the only
        writer) the query runs unfiltered, asking for enough hits that ``n`` of them
        are likely visible, and the hits are filtered here. The catalog's count of
        what the scope sees sizes that fan-out (exactly ``n`` when the scope sees
        everything); a row still short of ``n``, or a scope seeing too small a share
        of the store, is asked with ``where``.
        """
        if n <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        where = build_where(scope, kinds=kinds, filters=filters, exact=exact_scope)
        queries = np.asarray(vectors, dtype=np.float32)
        if where is None or not self._cache_size:
            return self._query(queries, n, where)
        fanout, total = self._fanout(n, scope, kinds, filters, exact_scope)
        if fanout == 0:
            return [[] for _ in range(len(queries))]
        if fanout < 0:
            return self._small_scope_nearest(queries, n, scope, kinds, filters, exact_scope, where)
        rows = self._query(queries, fanout, None)
        seen = {note_id for row in rows for note_id, _ in row}
        visible = self.visible_ids(
            list(seen), scope, kinds=kinds, filters=filters, exact_scope=exact_scope
        )
        out: list[list[tuple[str, float]]] = []
        for index, row in enumerate(rows):
            kept = [(note_id, sim) for note_id, sim in row if note_id in visible][:n]
            if len(kept) < n and fanout < total:
                kept = self._query(queries[index : index + 1], n, where)[0]
            out.append(kept)
        return out

    def _small_scope_nearest(
        self,
        queries: np.ndarray,
        n: int,
        scope: Scope,
        kinds: Sequence[str] | None,
        filters: dict[str, Any] | None,
        exact_scope: bool,
        where: dict[str, Any] | None,
    ) -> list[list[tuple[str, float]]]:
        """Nearest notes of a scope that sees a small share of the store.

        Searched exactly in memory (see :mod:`memory.store.scope_vectors`) when the
        catalog can list the scope's notes and they are few enough; otherwise with
        Chroma's filtered query.
        """
        catalog = self._trusted_catalog()
        if catalog is None or filters is not None:
            return self._query(queries, n, where)
        members = catalog.members(scope, kinds=kinds, exact_scope=exact_scope)
        if members is None or len(members) > EXACT_SCAN_MAX:
            return self._query(queries, n, where)
        return self._scope_vectors.nearest(
            queries, n, members, scope_of=catalog.scope_of, fetch=self._vectors_of
        )

    def _vectors_of(self, ids: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), self._batch):
            chunk = ids[start : start + self._batch]
            result = _translated(
                "get vectors", partial(self._notes.get, ids=chunk, include=["embeddings"])
            )
            for note_id, vector in zip(result["ids"], result["embeddings"], strict=True):
                found[note_id] = np.asarray(vector, dtype=np.float32)
        return found

    def _fanout(
        self,
        n: int,
        scope: Scope,
        kinds: Sequence[str] | None,
        filters: dict[str, Any] | None,
        exact_scope: bool,
    ) -> tuple[int, int]:
        """``(hits to ask unfiltered, notes stored)``; 0: nothing to find, -1: use ``where``."""
        catalog = self._trusted_catalog()
        total = len(catalog) if catalog is not None else self.count()
        if total == 0:
            return 0, 0
        seen = None
        if catalog is not None and filters is None:
            seen = catalog.count_visible(scope, kinds=kinds, exact_scope=exact_scope)
        if seen is None:
            # Unknown share: 4x covers a scope holding most notes. (A fixed floor would
            # make link-candidate queries, n=8, read 25x too much.)
            return min(total, 4 * n), total
        if seen == 0:
            return 0, total
        if seen == total:
            return min(total, n), total
        # 1.5x margin over the expected share; past 8x the filtered query is cheaper.
        fanout = math.ceil(1.5 * n * total / seen)
        return (min(total, fanout) if fanout <= 8 * n else -1), total

    def _query(
        self, queries: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[list[tuple[str, float]]]:
        result = _translated(
            "query",
            lambda: self._notes.query(
                query_embeddings=queries, n_results=n, where=where, include=["distances"]
            ),
        )
        return [
            [(note_id, 1.0 - float(distance)) for note_id, distance in zip(ids, dists, strict=True)]
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]

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
        catalog = self._trusted_catalog()
        if filters is None and catalog is not None:
            shown = catalog.visible(unique, scope, kinds=kinds)
            pairs = {note_id: catalog.thread(note_id) for note_id in unique if note_id in shown}
        else:
            pairs = self._visible_thread_pairs(unique, scope, kinds, filters)
        named = {n for pair in pairs.values() for n in pair if n is not None}
        # Neighbours among the visible ids need no second look.
        visible = set(pairs) | self.visible_ids(
            list(named - set(pairs)), scope, kinds=kinds, filters=filters
        )
        return {
            note_id: (
                before if before in visible else None,
                after if after in visible else None,
            )
            for note_id, (before, after) in pairs.items()
        }

    def _visible_thread_pairs(
        self,
        ids: list[str],
        scope: Scope,
        kinds: Sequence[str] | None,
        filters: dict[str, Any] | None,
    ) -> dict[str, tuple[str | None, str | None]]:
        """:meth:`thread_neighbours`'s pairs from Chroma records (no catalog to ask)."""
        found = self._lookup(ids, False)
        shown = [
            note_id
            for note_id in ids
            if note_id in found and _visible(found[note_id].note, scope, False, kinds, filters)
        ]
        successors: dict[str, str] = {}
        for start in range(0, len(shown), self._batch):
            chunk = shown[start : start + self._batch]
            page: dict[str, Any] = _translated(
                "get successors",
                partial(self._notes.get, where={"follows": {"$in": chunk}}, include=["metadatas"]),
            )
            for note_id, meta in zip(page["ids"], page["metadatas"], strict=True):
                successors[str(meta["follows"])] = note_id
        return {
            note_id: (found[note_id].note.follows, successors.get(note_id)) for note_id in shown
        }

    def matching_ids(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> set[str]:
        """Ids of every note in ``scope`` that passes the kind and metadata filters."""
        where = build_where(scope, kinds=kinds, filters=filters)
        found: set[str] = set()
        offset = 0
        while True:
            page: dict[str, Any] = _translated(
                "get ids",
                partial(self._notes.get, where=where, include=[], limit=_SCAN_PAGE, offset=offset),
            )
            found.update(page["ids"])
            if len(page["ids"]) < _SCAN_PAGE:
                return found
            offset += _SCAN_PAGE

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, page by page (for index rebuilds and repair).

        A scan that runs to the end with no write in between also rebuilds the
        catalog, which from then on answers visibility and thread questions.
        """
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        fresh = Catalog() if self._catalog is not None else None
        writes_before = self._writes
        offset = 0
        while True:
            page: dict[str, Any] = _translated(
                "scan",
                partial(self._notes.get, include=include, limit=_SCAN_PAGE, offset=offset),
            )
            stored = self._stored(page, with_vectors, True)
            if fresh is not None:
                fresh.record(s.note for s in stored.values())
            yield from stored.values()
            if len(page["ids"]) < _SCAN_PAGE:
                break
            offset += _SCAN_PAGE
        if fresh is not None and self._writes == writes_before:
            fresh.complete = True
            self._catalog = fresh

    def count(self) -> int:
        """Number of stored notes (all scopes)."""
        return int(_translated("count", self._notes.count))

    def tombstone(self, note_id: str) -> StoredNote | None:
        """The deleted note's last state and history, if it was deleted."""
        result = _translated(
            "tombstone get",
            lambda: self._tombstones.get(ids=[note_id], include=["documents", "metadatas"]),
        )
        stored = self._stored(result, False, True)
        return stored.get(note_id)

    def tombstone_ids(self) -> list[str]:
        """Ids of every deleted note (for the repair pass)."""
        result = _translated("tombstone ids", lambda: self._tombstones.get(include=[]))
        return list(result["ids"])

    @staticmethod
    def _stored(
        result: dict[str, Any], with_vectors: bool, with_history: bool
    ) -> dict[str, StoredNote]:
        stored: dict[str, StoredNote] = {}
        embeddings = result.get("embeddings")
        for index, note_id in enumerate(result["ids"]):
            meta = result["metadatas"][index]
            stored[note_id] = StoredNote(
                note=decode_note(note_id, result["documents"][index], meta),
                history_raw=meta.get("history") if with_history else None,
                legacy=is_legacy(meta),
                vector=(
                    np.asarray(embeddings[index], dtype=np.float32)
                    if with_vectors and embeddings is not None
                    else None
                ),
            )
        return stored
