"""NoteWriter on its own (in-memory store, lexical index, hashing embedder): no facade."""

from __future__ import annotations

import numpy as np
import pytest

from memory.embed import HashingEmbedder
from memory.errors import InvalidInput
from memory.ingest.tails import Tails
from memory.model import Event, Note, Scope
from memory.retrieve.indexed import index_text
from memory.retrieve.lexical import LexicalIndex
from memory.store import History, InMemoryNoteStore
from memory.writer import NoteWriter


@pytest.fixture
def parts() -> tuple[InMemoryNoteStore, LexicalIndex, NoteWriter, HashingEmbedder]:
    store, index, embedder = InMemoryNoteStore(), LexicalIndex(), HashingEmbedder()
    return store, index, NoteWriter(store, index, embedder.embed, Tails()), embedder


def stored(store: InMemoryNoteStore, index: LexicalIndex, embedder: HashingEmbedder, *notes: Note):
    vectors = embedder.embed([index_text(n) for n in notes])
    store.write(
        [
            (n, v, History.of([Event(note_id=n.id, action="create")]))
            for n, v in zip(notes, vectors, strict=True)
        ]
    )
    index.upsert((n.id, index_text(n), n.scope, n.kind) for n in notes)


def test_revise_records_one_event_and_reindexes_changed_text(parts) -> None:
    store, index, writer, embedder = parts
    a = Note(content="The kiln cracked my clay mugs", user_id="u")
    stored(store, index, embedder, a)
    before = store.fetch([a.id], Scope(), with_vectors=True, with_history=True)[a.id]
    [revised] = writer.revise(
        [(before, {"content": "We sailed across the bay at dawn"})], action="update", reason="r"
    )
    after = store.fetch([a.id], Scope(), with_vectors=True, with_history=True)[a.id]
    assert after.note.content == revised.content and revised.updated_at > a.updated_at
    assert [e.action for e in after.history] == ["create", "update"]
    assert after.history[-1].before == {"content": a.content}
    assert not np.allclose(after.vector, before.vector), "new text, new vector"
    assert [nid for nid, _ in index.search("sailed bay", 5, scope=Scope())] == [a.id]


def test_revise_of_unindexed_fields_keeps_the_vector(parts) -> None:
    store, index, writer, embedder = parts
    a = Note(content="pottery class", user_id="u")
    stored(store, index, embedder, a)
    before = store.fetch([a.id], Scope(), with_vectors=True, with_history=True)[a.id]
    writer.revise([(before, {"retrieved_count": 1})], action="feedback", reason="used")
    after = store.fetch([a.id], Scope(), with_vectors=True, with_history=True)[a.id]
    assert np.allclose(after.vector, before.vector)
    assert after.history[-1].after == {"retrieved_count": 1}


def test_link_pair_links_both_sides_within_one_scope(parts) -> None:
    store, index, writer, embedder = parts
    a, b = Note(content="a", user_id="u"), Note(content="b", user_id="u")
    c = Note(content="c", user_id="other")
    stored(store, index, embedder, a, b, c)
    writer.link_pair(a.id, b.id, 0.7, "related", "test")
    found = store.fetch([a.id, b.id], Scope(), with_history=True)
    assert found[a.id].note.links == {b.id: 0.7} and found[b.id].note.links == {a.id: 0.7}
    assert found[b.id].history[-1].actor == "test"
    with pytest.raises(InvalidInput):
        writer.link_pair(a.id, c.id, 0.5, "across scopes", "test")


def test_delete_tombstones_unlinks_and_forgets(parts) -> None:
    store, index, writer, embedder = parts
    a, b = Note(content="alpha note", user_id="u"), Note(content="beta note", user_id="u")
    stored(store, index, embedder, a, b)
    writer.link_pair(a.id, b.id, 1.0, "r", "test")
    victim = store.fetch([a.id], Scope(), with_history=True)[a.id]
    writer.delete(victim, reason="gone", action="delete")
    assert store.fetch([a.id], Scope()) == {}
    assert store.fetch([b.id], Scope())[b.id].note.links == {}
    tomb = store.tombstone(a.id)
    assert tomb is not None and tomb.history[-1].reason == "gone"
    assert index.search("alpha", 5, scope=Scope()) == []


def test_delete_scope_touches_only_that_scope(parts) -> None:
    store, index, writer, embedder = parts
    mine = [Note(content=f"mine {i}", user_id="u") for i in range(3)]
    theirs = Note(content="theirs", user_id="v")
    stored(store, index, embedder, *mine, theirs)
    assert writer.delete_scope(Scope(user_id="u")) == 3
    assert store.matching_ids(Scope()) == {theirs.id}
    assert set(store.tombstone_ids()) == {n.id for n in mine}
