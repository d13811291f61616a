"""Chroma I/O for the note store: collections, calls, error translation, decoding.

Nothing here caches or decides; :class:`~memory.store.chroma.ChromaNoteStore`
does both on top of :class:`ChromaRecords`. Chroma's own failures leave this
module as :class:`~memory.errors.StoreError` (``StoreUnavailable`` when the
server cannot be reached).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from memory.errors import StoreError, StoreUnavailable
from memory.store.base import StoredNote
from memory.store.chroma_collections import open_collections
from memory.store.chroma_errors import translated
from memory.store.chroma_layout import assembled_links, check_layout, events_in_order
from memory.store.codec import decode_note, history_inline, is_legacy
from memory.store.lock import PathLock

__all__ = ["ChromaRecords", "FeedEntry", "translated"]

logger = logging.getLogger(__name__)

_SCAN_PAGE = 2000


class FeedEntry(NamedTuple):
    """One event of the change feed: whose note, what happened, which writer wrote it,
    and its write marks (``None`` when the event has none; see ``event_record``)."""

    note_id: str
    action: str
    writer: str
    write: int | None = None
    done: int | None = None


def decoded(result: dict[str, Any], with_vectors: bool) -> dict[str, StoredNote]:
    """A Chroma ``get`` result as stored notes (history kept raw)."""
    stored: dict[str, StoredNote] = {}
    embeddings = result.get("embeddings")
    for index, note_id in enumerate(result["ids"]):
        meta = result["metadatas"][index]
        stored[note_id] = StoredNote(
            note=decode_note(note_id, result["documents"][index], meta),
            history_raw=history_inline(meta),
            legacy=is_legacy(meta),
            vector=(
                np.asarray(embeddings[index], dtype=np.float32)
                if with_vectors and embeddings is not None
                else None
            ),
        )
    return stored


_SUFFIXES = ("notes", "tombstones", "links", "events")


class ChromaRecords:
    """The notes, tombstones, links and events collections of one prefix on a Chroma client.

    Args:
        client: a ``chromadb`` client.
        prefix: collection name prefix (several memories can share one client).
    """

    def __init__(self, client: Any, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self.open()
        self.batch = int(translated("get_max_batch_size", client.get_max_batch_size))

    def open(self) -> None:
        """Resolve (creating if needed) the collections; refuse a later layout.

        Raises:
            StoreError: the store was written in a layout this release does not know.
        """
        self.notes, self.tombstones, self.links, self.events = translated(
            "opening collections", partial(open_collections, self.client, self.prefix)
        )
        check_layout((self.events.metadata or {}).get("layout"), f"store {self.prefix!r}")

    def close(self, *, drop: bool, path_lock: PathLock | None) -> None:
        """Drop the collections (``drop``); stop the client and release ``path_lock``."""
        if drop:
            for suffix in _SUFFIXES:
                try:
                    self.client.delete_collection(f"{self.prefix}_{suffix}")
                except Exception:  # already gone: nothing to free
                    logger.debug("collection %s_%s already gone", self.prefix, suffix)
        if path_lock is not None:
            # Chroma caches one System per path for the whole process; stop ours, or a
            # later reopen here would read stale state that another process has since
            # changed (e.g. "hnsw segment reader: Nothing found on disk").
            close_client = getattr(self.client, "close", None)
            if close_client is not None:
                try:
                    close_client()
                except Exception:  # closing is best effort; the path is released anyway
                    logger.warning("could not close the Chroma client", exc_info=True)
            path_lock.release()

    def upsert(
        self, ids: list[str], vectors: np.ndarray, documents: list[str], metadatas: list[Any]
    ) -> None:
        """Insert or replace records, vectors included."""
        translated(
            "upsert",
            lambda: self.notes.upsert(
                ids=ids, embeddings=vectors, documents=documents, metadatas=metadatas
            ),
        )

    def update(self, ids: list[str], metadatas: list[Any], action: str = "update") -> None:
        """Merge new metadata into existing records (content and vector stay)."""
        # Content is unchanged on this path; sending documents would make Chroma try
        # to re-embed them.
        translated(action, lambda: self.notes.update(ids=ids, metadatas=metadatas))

    def delete(self, ids: Sequence[str]) -> None:
        """Delete note records."""
        translated("delete", lambda: self.notes.delete(ids=list(ids)))

    def get(self, ids: list[str], with_vectors: bool) -> dict[str, StoredNote]:
        """The records of ``ids`` that exist (see :meth:`vectors` for a vector left out)."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        try:
            result = translated("get", lambda: self.notes.get(ids=ids, include=include))
        except StoreUnavailable:
            raise
        except StoreError:
            if not with_vectors:
                raise
            found = self.get(ids, False)
            for note_id, vector in self.vectors(list(found)).items():
                found[note_id].vector = vector
            return found
        return decoded(result, with_vectors)

    def current(self, ids: list[str]) -> dict[str, StoredNote]:
        """The records of ``ids`` that exist, with their vectors and links, in batches."""
        found: dict[str, StoredNote] = {}
        for start in range(0, len(ids), self.batch):
            chunk = self.get(ids[start : start + self.batch], True)
            links = assembled_links(chunk, self.link_records(list(chunk)) if chunk else [])
            for note_id, item in chunk.items():
                item.note.links = {**item.note.links, **links[note_id]}
            found.update(chunk)
        return found

    def existing(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` have a note record."""
        found: set[str] = set()
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            page = translated("get ids", partial(self.notes.get, ids=chunk, include=[]))
            found.update(page["ids"])
        return found

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids``, in batches (one being deleted may be left out:
        a server can fail to find its vector meanwhile, "Error finding id")."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            try:
                result = translated(
                    "get vectors", partial(self.notes.get, ids=chunk, include=["embeddings"])
                )
            except StoreUnavailable:
                raise
            except StoreError:
                if len(chunk) > 1:  # find the one(s) going away; keep the others
                    for note_id in chunk:
                        found.update(self.vectors([note_id]))
                continue
            for note_id, vector in zip(result["ids"], result["embeddings"], strict=True):
                found[note_id] = np.asarray(vector, dtype=np.float32)
        return found

    def query(
        self, queries: np.ndarray, n: int, where: dict[str, Any] | None
    ) -> list[list[tuple[str, float]]]:
        """HNSW nearest neighbours as ``(id, cosine similarity)`` rows."""
        result = translated(
            "query",
            lambda: self.notes.query(
                query_embeddings=queries, n_results=n, where=where, include=["distances"]
            ),
        )
        return [
            [(note_id, 1.0 - float(distance)) for note_id, distance in zip(ids, dists, strict=True)]
            for ids, dists in zip(result["ids"], result["distances"], strict=True)
        ]

    def successors(self, ids: list[str]) -> dict[str, str]:
        """``id -> the note that follows it`` for those of ``ids`` that have one."""
        found: dict[str, str] = {}
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            page: dict[str, Any] = translated(
                "get successors",
                partial(self.notes.get, where={"follows": {"$in": chunk}}, include=["metadatas"]),
            )
            for note_id, meta in zip(page["ids"], page["metadatas"], strict=True):
                found[str(meta["follows"])] = note_id
        return found

    def ids_where(self, where: dict[str, Any] | None) -> set[str]:
        """Ids of every record matching ``where``, page by page."""
        found: set[str] = set()
        offset = 0
        while True:
            page: dict[str, Any] = translated(
                "get ids",
                partial(self.notes.get, where=where, include=[], limit=_SCAN_PAGE, offset=offset),
            )
            found.update(page["ids"])
            if len(page["ids"]) < _SCAN_PAGE:
                return found
            offset += _SCAN_PAGE

    def pages(self, with_vectors: bool) -> Iterator[dict[str, StoredNote]]:
        """Every record, a page at a time."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            page: dict[str, Any] = translated(
                "scan",
                partial(self.notes.get, include=include, limit=_SCAN_PAGE, offset=offset),
            )
            yield decoded(page, with_vectors)
            if len(page["ids"]) < _SCAN_PAGE:
                return
            offset += _SCAN_PAGE

    def count(self) -> int:
        """Number of note records."""
        return int(translated("count", self.notes.count))

    def entomb(self, encoded: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Upsert ``(id, document, metadata)`` tombstones, a batch per call."""
        for start in range(0, len(encoded), self.batch):
            chunk = encoded[start : start + self.batch]
            translated(
                "tombstone upsert",
                partial(
                    self.tombstones.upsert,
                    ids=[note_id for note_id, _, _ in chunk],
                    embeddings=[[1.0]] * len(chunk),
                    documents=[document for _, document, _ in chunk],
                    metadatas=[meta for _, _, meta in chunk],
                ),
            )

    def tombstone(self, note_id: str) -> StoredNote | None:
        """A deleted note's tombstone, if there is one (history from its event records)."""
        result = translated(
            "tombstone get",
            lambda: self.tombstones.get(ids=[note_id], include=["documents", "metadatas"]),
        )
        stored = decoded(result, False).get(note_id)
        if stored is not None and stored.history_raw is None:
            stored.history_raw = self.history(note_id)
        return stored

    def tombstone_ids(self) -> list[str]:
        """Ids of every tombstone."""
        result = translated("tombstone ids", lambda: self.tombstones.get(include=[]))
        return list(result["ids"])

    # ---- layout 3: link and event records -----------------------------------------------

    def set_links(self, records: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Upsert link records ``(id, metadata)`` (metadata merges with what is there)."""
        for start in range(0, len(records), self.batch):
            chunk = records[start : start + self.batch]
            translated(
                "link upsert",
                partial(
                    self.links.upsert,
                    ids=[link for link, _ in chunk],
                    embeddings=[[1.0]] * len(chunk),
                    metadatas=[meta for _, meta in chunk],
                ),
            )

    def drop_links(self, link_ids: Sequence[str]) -> None:
        """Delete link records by id."""
        for start in range(0, len(link_ids), self.batch):
            chunk = list(link_ids[start : start + self.batch])
            translated("link delete", partial(self.links.delete, ids=chunk))

    def link_records(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Metadata of every link record touching one of ``ids``."""
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), self.batch // 2 or 1):
            chunk = unique[start : start + (self.batch // 2 or 1)]
            where = {"$or": [{"lo": {"$in": chunk}}, {"hi": {"$in": chunk}}]}
            page = translated(
                "link get", partial(self.links.get, where=where, include=["metadatas"])
            )
            found.extend(page["metadatas"])
        return found

    def links_of(self, ids: Sequence[str]) -> dict[str, dict[str, float]]:
        """``id -> {other: strength}`` assembled from the link records."""
        return assembled_links(ids, self.link_records(ids)) if ids else {}

    def all_link_records(self) -> list[dict[str, Any]]:
        """Every link record's metadata, page by page."""
        found: list[dict[str, Any]] = []
        offset = 0
        while True:
            page: dict[str, Any] = translated(
                "link scan",
                partial(self.links.get, include=["metadatas"], limit=_SCAN_PAGE, offset=offset),
            )
            found.extend(page["metadatas"])
            if len(page["ids"]) < _SCAN_PAGE:
                return found
            offset += _SCAN_PAGE

    def append_events(self, records: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Upsert event records ``(id, document, metadata)``; ids make it idempotent."""
        for start in range(0, len(records), self.batch):
            chunk = records[start : start + self.batch]
            translated(
                "event upsert",
                partial(
                    self.events.upsert,
                    ids=[event_id for event_id, _, _ in chunk],
                    embeddings=[[1.0]] * len(chunk),
                    documents=[document for _, document, _ in chunk],
                    metadatas=[meta for _, _, meta in chunk],
                ),
            )

    def history(self, note_id: str) -> str:
        """A note's event records as one JSON array, oldest first."""
        page = translated(
            "event get",
            partial(
                self.events.get, where={"note_id": note_id}, include=["documents", "metadatas"]
            ),
        )
        return events_in_order(page["documents"], page["metadatas"])

    def events_after(self, position: int, limit: int) -> list[FeedEntry]:
        """Up to ``limit`` events past the first ``position``, as :class:`FeedEntry`.

        Chroma returns records in the order they were first stored (re-upserting
        an event keeps its place), so the events collection doubles as the change
        feed and a count of events read is a cursor into it.
        """
        page = translated(
            "event feed",
            partial(
                self.events.get, include=["metadatas", "documents"], limit=limit, offset=position
            ),
        )
        return [
            FeedEntry(
                str(meta["note_id"]),
                _action(document),
                str(meta.get("writer", "")),
                _number(meta.get("write")),
                _number(meta.get("done")),
            )
            for meta, document in zip(page["metadatas"], page["documents"], strict=True)
        ]

    def event_count(self) -> int:
        """Number of event records (the change feed's end)."""
        return int(translated("event count", self.events.count))


def _number(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _action(document: str | None) -> str:
    try:
        return str(json.loads(document or "{}").get("action", ""))
    except ValueError:
        return ""
