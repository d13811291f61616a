"""AgenticMemory on the InMemoryNoteStore: the whole public API without Chroma."""

from __future__ import annotations

import pytest

from memory import AgenticMemory, NotFound
from memory.embed import HashingEmbedder
from memory.store import InMemoryNoteStore

TURNS = [
    "Melanie: I signed up for a pottery class yesterday!",
    "Caroline: Pottery sounds fun! Are you making clay bowls in the class?",
    "Caroline: I went hiking in the mountains with my dog last weekend.",
]


def test_the_public_api_runs_on_the_in_memory_store() -> None:
    store = InMemoryNoteStore()
    with AgenticMemory(store=store, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        notes = mem.add_many([{"content": t, "user_id": "u"} for t in TURNS])
        assert mem.count(user_id="u") == 3 and store.count() == 3
        assert mem.search("pottery class", k=1, user_id="u")[0].note.id in {
            notes[0].id,
            notes[1].id,
        }
        assert mem.search("pottery", user_id="someone else") == []
        updated = mem.update(notes[2].id, content="Caroline: we sailed all weekend.")
        assert mem.search("sailed", k=1, user_id="u")[0].note.id == updated.id
        mem.delete(notes[0].id)
        with pytest.raises(NotFound):
            mem.get(notes[0].id)
        assert [e.action for e in mem.history(notes[0].id)][-1] == "delete"
        assert all(notes[0].id not in n.links for n in mem.notes(user_id="u"))


def test_a_new_memory_on_the_same_store_sees_and_indexes_its_notes() -> None:
    store = InMemoryNoteStore()
    first = AgenticMemory(store=store, embedder=HashingEmbedder())
    note = first.add(TURNS[0], user_id="u")
    first.close()
    second = AgenticMemory(store=store, embedder=HashingEmbedder())
    assert second.get(note.id).content == TURNS[0]
    assert second.search("pottery", k=1, user_id="u")[0].note.id == note.id
    follower = second.add("Melanie: The class starts on Monday.", user_id="u")
    assert follower.follows == note.id, "the thread continues after a reopen"
