"""A shared store's per-process memory follows other writers through the change feed.

Two ``AgenticMemory`` instances on one client and collection prefix stand for two
processes on one Chroma server (each has its own writer id, catalog, cache and
lexical index). What one writes, updates or deletes must show in the other's
reads within the feed's bound; the tests poll with a generous timeout rather
than assert a time.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings

from memory import AgenticMemory, NotFound
from memory.embed import HashingEmbedder
from memory.model import Event, Note, Scope
from memory.store import ChromaNoteStore, History
from memory.store import follow as follow_module
from memory.store.chroma_layout import event_record

TIMEOUT = 30.0


def eventually(check: Callable[[], bool]) -> bool:
    """Whether ``check`` becomes true within the timeout (polled)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


@pytest.fixture
def pair() -> Iterator[tuple[AgenticMemory, AgenticMemory]]:
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    prefix = f"follow-{uuid.uuid4().hex[:10]}"

    def opened() -> AgenticMemory:
        return AgenticMemory(client=client, embedder=HashingEmbedder(), collection_prefix=prefix)

    reader, writer = opened(), opened()
    yield reader, writer
    reader.close()
    writer.close()
    for suffix in ("notes", "tombstones", "links", "events"):
        client.delete_collection(f"{prefix}_{suffix}")


def found(mem: AgenticMemory, query: str, user: str = "u1") -> list[str]:
    return [hit.note.content for hit in mem.search(query, k=5, user_id=user)]


def test_the_reader_really_follows_in_memory(pair: tuple[AgenticMemory, AgenticMemory]) -> None:
    reader, _ = pair
    store = reader._store
    assert isinstance(store, ChromaNoteStore) and store.shared
    assert store._catalog is not None and store._catalog.complete


def test_another_writers_add_update_and_delete_reach_this_process(
    pair: tuple[AgenticMemory, AgenticMemory],
) -> None:
    reader, writer = pair
    reader.add("Melanie: I signed up for a pottery class.", user_id="u1")
    assert found(reader, "pottery") == ["Melanie: I signed up for a pottery class."]
    note = writer.add("Caroline: the quokka photo won the contest.", user_id="u1")
    assert eventually(lambda: note.content in found(reader, "quokka photo contest"))
    assert reader.get(note.id).content == note.content

    new = "Caroline: the wombat photo won the contest."
    writer.update(note.id, content=new)
    assert eventually(lambda: new in found(reader, "wombat"))
    assert eventually(lambda: reader.get(note.id).content.startswith("Caroline: the wombat"))
    assert note.content not in found(reader, "quokka photo contest"), "the old content is gone"

    writer.delete(note.id)

    def deleted() -> bool:
        try:
            reader.get(note.id)
        except NotFound:
            return True
        return False

    assert eventually(deleted)
    for query in ("wombat photo contest", "Caroline contest", "photo"):
        assert all("wombat" not in content for content in found(reader, query))
    assert all(note.id not in n.links for n in reader.notes(user_id="u1"))


def test_scopes_stay_isolated_between_processes(pair: tuple[AgenticMemory, AgenticMemory]) -> None:
    reader, writer = pair
    reader.add("Jon: the dance studio opens downtown.", user_id="u1")
    theirs = writer.add("Gina: the zebra boutique opens downtown.", user_id="u2")
    assert eventually(lambda: theirs.content in found(reader, "zebra boutique", user="u2"))
    for query in ("zebra boutique downtown", "opens downtown", "Gina"):
        assert theirs.content not in found(reader, query, user="u1")
    with pytest.raises(NotFound):
        reader.get(theirs.id, user_id="u1")
    assert reader.count(user_id="u1") == 1


def test_a_repeated_search_is_answered_from_memory(
    pair: tuple[AgenticMemory, AgenticMemory],
) -> None:
    reader, _ = pair
    reader.add_many([{"content": f"note {i} about the garden", "user_id": "u1"} for i in range(30)])
    first = found(reader, "garden")
    calls: list[str] = []
    notes = reader._store._records.notes  # type: ignore[attr-defined]

    class Counting:
        def __getattr__(self, name: str) -> Any:
            calls.append(name)
            return getattr(notes, name)

    reader._store._records.notes = Counting()  # type: ignore[attr-defined]
    try:
        assert found(reader, "garden") == first
    finally:
        reader._store._records.notes = notes  # type: ignore[attr-defined]
    assert calls == [], "dense scoring, visibility, threads and notes came from memory"


# ---- the feed names a change before its record lands -------------------------------


def _stores() -> tuple[ChromaNoteStore, ChromaNoteStore, Any]:
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    prefix = f"settle-{uuid.uuid4().hex[:10]}"
    writer = ChromaNoteStore(client=client, prefix=prefix, shared=True)
    reader = ChromaNoteStore(client=client, prefix=prefix, cache_size=100, shared=True)
    list(reader.scan())  # the open-time scan: the catalog is trusted from here
    return writer, reader, client


def _vector(i: int) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[i] = 1.0
    return v


def test_an_update_whose_record_lands_after_its_event_is_still_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(follow_module, "SETTLE_SECONDS", 3600.0)  # no clock in this test
    writer, reader, _ = _stores()
    note = Note(content="first words", user_id="u1")
    writer.write([(note, _vector(0), History.of([Event(note_id=note.id, action="create")]))])
    reader.catch_up(force=True)
    assert reader.fetch([note.id], Scope())[note.id].note.content == "first words"
    event = Event(note_id=note.id, action="update", after={"content": "second words"})
    writer._records.append_events([event_record(event, writer.writer_id, 99)])
    reader.catch_up(force=True)  # sees the event; the record is still the old one
    assert reader.fetch([note.id], Scope())[note.id].note.content == "first words"
    changed = note.model_copy(update={"content": "second words"})
    writer.write([(changed, _vector(1), History())], {note.id: note})
    reader.catch_up(force=True)
    assert reader.fetch([note.id], Scope())[note.id].note.content == "second words"
    assert reader.nearest(_vector(1)[None, :], Scope(user_id="u1"), 1)[0][0][0] == note.id
    writer.close()
    reader.close()


def test_a_note_is_hidden_from_its_delete_event_on() -> None:
    writer, reader, _ = _stores()
    note = Note(content="soon gone", user_id="u1")
    writer.write([(note, _vector(2), History.of([Event(note_id=note.id, action="create")]))])
    reader.catch_up(force=True)
    assert note.id in reader.fetch([note.id], Scope())
    writer.entomb(note, History().plus(Event(note_id=note.id, action="delete")))
    reader.catch_up(force=True)  # the record is still there, its delete event is not
    assert reader.fetch([note.id], Scope()) == {}
    assert reader.visible_ids([note.id], Scope()) == set()
    assert reader.nearest(_vector(2)[None, :], Scope(user_id="u1"), 3) == [[]]
    writer.remove([note.id])
    reader.catch_up(force=True)
    assert reader.fetch([note.id], Scope()) == {}
    writer.close()
    reader.close()
