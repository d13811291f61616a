"""Layout 3 of the Chroma store: link and event records, upgrade, refusal, change feed."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.errors import StoreError
from memory.model import Event, Note, Scope
from memory.store import ChromaNoteStore, History
from memory.store.chroma_layout import LAYOUT, link_id
from memory.store.codec import encode_note
from memory.store.feed import CatchingUpIndex

DIM = 8


def basis(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def note(content: str, **fields: object) -> Note:
    return Note(content=content, user_id="u1", **fields)  # type: ignore[arg-type]


def created(n: Note) -> History:
    return History.of([Event(note_id=n.id, action="create", reason="test")])


def two_stores() -> tuple[ChromaNoteStore, ChromaNoteStore]:
    """Two uncached instances on one client and prefix, as two server processes are."""
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    prefix = f"l3-{uuid.uuid4().hex[:10]}"
    return (
        ChromaNoteStore(client=client, prefix=prefix),
        ChromaNoteStore(client=client, prefix=prefix, owns_collections=True),
    )


def linked(store: ChromaNoteStore, hub: Note, other: Note, strength: float) -> None:
    """Link ``other`` to ``hub`` from a (possibly stale) read of the hub, as ingest does."""
    read = store.fetch([hub.id, other.id], Scope(), with_history=True)
    records = []
    for this, that in ((hub.id, other.id), (other.id, hub.id)):
        stored = read[this]
        new = stored.note.model_copy(update={"links": {**stored.note.links, that: strength}})
        event = Event(note_id=this, action="link", after={"link": that})
        records.append((new, None, stored.log.plus(event)))
    store.write(records, {n: s.note for n, s in read.items()})


def test_two_instances_linking_one_hub_from_stale_reads_converge() -> None:
    first, second = two_stores()
    hub, a, b = note("hub"), note("a note"), note("b note")
    first.write([(n, basis(i), created(n)) for i, n in enumerate((hub, a, b))])
    stale_a = first.fetch([hub.id], Scope())  # both read the hub before either writes
    stale_b = second.fetch([hub.id], Scope())
    assert stale_a[hub.id].note.links == stale_b[hub.id].note.links == {}
    threads = [
        threading.Thread(target=linked, args=(first, hub, a, 0.5)),
        threading.Thread(target=linked, args=(second, hub, b, 0.7)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for store in (first, second):
        got = store.fetch([hub.id, a.id, b.id], Scope(), with_history=True)
        assert got[hub.id].note.links == {a.id: 0.5, b.id: 0.7}
        assert got[a.id].note.links == {hub.id: 0.5} and got[b.id].note.links == {hub.id: 0.7}
        assert [e.action for e in got[hub.id].history] == ["create", "link", "link"]
    # The same link added twice converges on one record.
    linked(second, hub, a, 0.5)
    assert len(first._records.link_records([a.id])) == 1
    first.close()
    second.close()


def test_appending_an_event_writes_one_small_record_whatever_the_history() -> None:
    store, other = two_stores()
    n = note("a hub with a long history")
    long = History.of([Event(note_id=n.id, action="link", after={"i": i}) for i in range(300)])
    store.write([(n, basis(0), long)])
    read = store.fetch([n.id], Scope(), with_history=True)[n.id]
    assert read.log.stored is None  # the writer is handed nothing to resend
    extra = Event(note_id=n.id, action="update", reason="one more")
    store.write([(read.note, None, read.log.plus(extra))], {n.id: read.note})
    record = store._records.notes.get(ids=[n.id], include=["metadatas"])["metadatas"][0]
    assert len(record["history"]) < 100, "no history inline"
    events = store.fetch([n.id], Scope(), with_history=True)[n.id].history
    assert len(events) == 301 and events[-1].reason == "one more"
    assert [e.after["i"] for e in events[:300]] == list(range(300)), "in order"
    store.close()
    other.close()


def test_removing_a_note_drops_its_link_records() -> None:
    store, other = two_stores()
    a, b = note("a"), note("bb", links={})
    store.write([(a, basis(0), created(a)), (b, basis(1), created(b))])
    linked(store, a, b, 0.4)
    store.remove([a.id])
    assert store.fetch([b.id], Scope())[b.id].note.links == {}
    assert store._records.links.get(ids=[link_id(a.id, b.id)])["ids"] == []
    store.close()
    other.close()


def test_a_store_of_a_later_layout_is_refused() -> None:
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    prefix = f"l3-{uuid.uuid4().hex[:10]}"
    client.create_collection(f"{prefix}_events", metadata={"layout": LAYOUT + 1})
    with pytest.raises(StoreError, match="upgrade zettelmem"):
        ChromaNoteStore(client=client, prefix=prefix)
    client.delete_collection(f"{prefix}_events")


def test_a_layout_2_store_is_upgraded_on_open_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "mem"
    with AgenticMemory(path=path, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        for text in ("pottery class clay", "pottery class kiln", "hiking with the dog"):
            mem.add(text, user_id="u1")
        notes = {n.id: n for n in mem.notes(user_id="u1")}
        histories = {i: mem.history(i, user_id="u1") for i in notes}
        assert any(n.links for n in notes.values())
        # Rewrite every record as layout 2 wrote it (links and history inline) and
        # drop the link and event records.
        records = mem._store._records
        metas = []
        for note_id, n in notes.items():
            _, meta = encode_note(n, History.of(histories[note_id]))
            metas.append({**meta, "layout": None})
        records.notes.update(ids=list(notes), metadatas=metas)
        records.links.delete(ids=records.links.get()["ids"])
        records.events.delete(ids=records.events.get()["ids"])
    with AgenticMemory(path=path, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        assert {n.id: n for n in mem.notes(user_id="u1")} == notes
        assert {i: mem.history(i, user_id="u1") for i in notes} == histories
        assert mem._store._records.links.count() > 0
        layouts = {m.get("layout") for m in mem._store._records.notes.get()["metadatas"]}
        assert layouts == {LAYOUT}, "upgraded on open"
        assert mem.repair()["records_upgraded"] == 0
    with AgenticMemory(path=path, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        assert {n.id: n for n in mem.notes(user_id="u1")} == notes


def test_the_lexical_index_catches_up_from_the_change_feed() -> None:
    first, second = two_stores()
    index = CatchingUpIndex(second, refresh_seconds=0.0)
    n = note("quokka xylophone zebra")
    first.write([(n, basis(0), created(n))])
    assert [hit for hit, _ in index.search("xylophone", 3, scope=Scope())] == [n.id]
    first.entomb(n, History().plus(Event(note_id=n.id, action="delete")))
    first.remove([n.id])
    assert index.search("xylophone", 3, scope=Scope()) == []
    first.close()
    second.close()


def test_a_stale_neighbour_write_keeps_another_writers_field_changes() -> None:
    first, second = two_stores()
    x = note("the neighbour", metadata={"v": 1})
    first.write([(x, basis(0), created(x))])
    stale = first.fetch([x.id], Scope())[x.id].note  # first reads, then second writes
    fresh = second.fetch([x.id], Scope())[x.id].note
    second.write(
        [(fresh.model_copy(update={"metadata": {"v": 2}}), None, History())], {x.id: fresh}
    )
    evolved = stale.model_copy(update={"tags": ["evolved"]})
    first.write([(evolved, None, History())], {x.id: stale})
    got = first.fetch([x.id], Scope())[x.id].note
    assert got.metadata == {"v": 2} and got.tags == ["evolved"]
    first.close()
    second.close()
