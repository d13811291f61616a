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

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from memory.errors import StoreError, StoreUnavailable
from memory.model import Event, Note, Scope
from memory.store.codec import decode_history, decode_note, encode_note
from memory.store.where import build_where

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

    @property
    def history(self) -> list[Event]:
        return decode_history(self.history_raw)


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


class ChromaNoteStore:
    """The note store on any Chroma client (persistent, ephemeral or HTTP).

    Args:
        client: a ``chromadb`` client.
        prefix: collection name prefix (several memories can share one client).
    """

    def __init__(self, *, client: Any, prefix: str = "zettelmem") -> None:
        self._client = client
        self._prefix = prefix
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
        records: Sequence[tuple[Note, np.ndarray, list[Event]]],
        previous: dict[str, Note] | None = None,
    ) -> None:
        """Upsert notes with their vectors and full history, as one batch.

        ``previous`` holds the stored versions being replaced, so metadata keys
        they had and the new versions lack are deleted.
        """
        if not records:
            return
        previous = previous or {}
        ids, vectors, documents, metadatas = [], [], [], []
        for note, vector, history in records:
            document, meta = encode_note(note, history, previous.get(note.id))
            ids.append(note.id)
            vectors.append(np.asarray(vector, dtype=np.float32))
            documents.append(document)
            metadatas.append(meta)
        # One call is one logged batch; only batches beyond Chroma's limit are split
        # (and the repair pass mends links a crash between two chunks would leave).
        for start in range(0, len(ids), self._batch):
            end = start + self._batch
            _translated(
                "upsert",
                lambda s=start, e=end: self._notes.upsert(
                    ids=ids[s:e],
                    embeddings=np.stack(vectors[s:e]),
                    documents=documents[s:e],
                    metadatas=metadatas[s:e],
                ),
            )

    def entomb(self, note: Note, history: list[Event]) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        document, meta = encode_note(note, history)
        _translated(
            "tombstone upsert",
            lambda: self._tombstones.upsert(
                ids=[note.id], embeddings=[[1.0]], documents=[document], metadatas=[meta]
            ),
        )

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records (their tombstones must already be written)."""
        if ids:
            _translated("delete", lambda: self._notes.delete(ids=list(ids)))

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
        """The notes among ``ids`` that exist and are visible in ``scope``."""
        if not ids:
            return {}
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        where = build_where(scope, kinds=kinds, filters=filters, exact=exact_scope)
        unique = list(dict.fromkeys(ids))
        result = _translated(
            "get",
            lambda: self._notes.get(ids=unique, where=where, include=include),
        )
        return self._stored(result, with_vectors, with_history)

    def nearest(
        self,
        vectors: np.ndarray,
        scope: Scope,
        n: int,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
        with_notes: bool = False,
    ) -> list[list[tuple[str, float, StoredNote | None]]]:
        """For each query vector, up to ``n`` (id, cosine similarity, note) in ``scope``."""
        if n <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        where = build_where(scope, kinds=kinds, filters=filters, exact=exact_scope)
        include = ["distances"] + (["documents", "metadatas", "embeddings"] if with_notes else [])
        result = _translated(
            "query",
            lambda: self._notes.query(
                query_embeddings=np.asarray(vectors, dtype=np.float32),
                n_results=n,
                where=where,
                include=include,
            ),
        )
        out: list[list[tuple[str, float, StoredNote | None]]] = []
        for row, ids in enumerate(result["ids"]):
            hits: list[tuple[str, float, StoredNote | None]] = []
            for col, note_id in enumerate(ids):
                similarity = 1.0 - float(result["distances"][row][col])
                stored = None
                if with_notes:
                    stored = StoredNote(
                        note=decode_note(
                            note_id,
                            result["documents"][row][col],
                            result["metadatas"][row][col],
                        ),
                        history_raw=result["metadatas"][row][col].get("history"),
                        vector=np.asarray(result["embeddings"][row][col], dtype=np.float32),
                    )
                hits.append((note_id, similarity, stored))
            out.append(hits)
        return out

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
            page = _translated(
                "get ids",
                lambda o=offset: self._notes.get(
                    where=where, include=[], limit=_SCAN_PAGE, offset=o
                ),
            )
            found.update(page["ids"])
            if len(page["ids"]) < _SCAN_PAGE:
                return found
            offset += _SCAN_PAGE

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, page by page (for index rebuilds and repair)."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_vectors else [])
        offset = 0
        while True:
            page = _translated(
                "scan",
                lambda o=offset: self._notes.get(include=include, limit=_SCAN_PAGE, offset=o),
            )
            yield from self._stored(page, with_vectors, True).values()
            if len(page["ids"]) < _SCAN_PAGE:
                return
            offset += _SCAN_PAGE

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
                vector=(
                    np.asarray(embeddings[index], dtype=np.float32)
                    if with_vectors and embeddings is not None
                    else None
                ),
            )
        return stored
