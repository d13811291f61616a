"""How the Chroma store's collections are made: Chroma's own sync threshold, kept on open."""

from __future__ import annotations

import uuid

import chromadb
import numpy as np
from chromadb.config import Settings

from memory.model import Event, Note, Scope
from memory.store import ChromaNoteStore, History
from memory.store.chroma_collections import SYNC_THRESHOLD

SUFFIXES = ("notes", "tombstones", "links", "events")


def client() -> chromadb.api.ClientAPI:
    return chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))


def thresholds(chroma: chromadb.api.ClientAPI, prefix: str) -> list[int]:
    return [
        chroma.get_collection(f"{prefix}_{suffix}").configuration["hnsw"]["sync_threshold"]
        for suffix in SUFFIXES
    ]


def test_new_collections_persist_every_sync_threshold_records() -> None:
    chroma, prefix = client(), f"c-{uuid.uuid4().hex[:10]}"
    store = ChromaNoteStore(client=chroma, prefix=prefix, owns_collections=True)
    assert SYNC_THRESHOLD == 1000  # Chroma's default (see chroma_collections: crash safety)
    assert thresholds(chroma, prefix) == [SYNC_THRESHOLD] * 4
    notes = chroma.get_collection(f"{prefix}_notes").configuration["hnsw"]
    assert notes["space"] == "cosine" and notes["ef_search"] == 128
    store.close()


def test_collections_made_persisting_every_100_are_reset_on_open_and_keep_their_notes() -> None:
    chroma, prefix = client(), f"c-{uuid.uuid4().hex[:10]}"
    for suffix in SUFFIXES:  # as the release that persisted every 100 records made them
        hnsw: dict[str, object] = {"sync_threshold": 100}
        if suffix == "notes":
            hnsw["space"] = "cosine"
        configuration = {"hnsw": hnsw}
        chroma.create_collection(
            f"{prefix}_{suffix}",
            embedding_function=None,
            configuration=configuration,
            metadata={"layout": 3} if suffix == "events" else None,
        )
    assert thresholds(chroma, prefix) == [100] * 4
    first = ChromaNoteStore(client=chroma, prefix=prefix)
    note = Note(content="kept across the change", user_id="u1")
    vector = np.ones(8, dtype=np.float32) / np.sqrt(8)
    history = History.of([Event(note_id=note.id, action="create", reason="test")])
    first.write([(note, vector, history)])
    assert thresholds(chroma, prefix) == [SYNC_THRESHOLD] * 4
    second = ChromaNoteStore(client=chroma, prefix=prefix, owns_collections=True)
    assert list(second.fetch([note.id], Scope())) == [note.id]
    assert thresholds(chroma, prefix) == [SYNC_THRESHOLD] * 4
    second.close()
