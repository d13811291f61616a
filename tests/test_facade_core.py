"""The core engine through its public API: build, link, evolve, persist, scope, delete."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory import AgenticMemory, InvalidInput, NotFound, StoreLocked
from memory.embed import HashingEmbedder

TURNS = [
    "Melanie: I signed up for a pottery class yesterday!",
    "Caroline: Pottery sounds fun! Are you making clay bowls in the class?",
    "Melanie: Yes, the pottery class teaches clay bowls and mugs.",
    "Caroline: I went hiking in the mountains with my dog last weekend.",
]


def test_add_fills_structure_and_returns_metadata_verbatim(mem: AgenticMemory) -> None:
    note = mem.add(
        TURNS[0],
        timestamp="2023-07-03 13:36",
        metadata={"dia_id": "D5:4", "n": [1, 2]},
        user_id="u1",
    )
    assert "pottery class" in note.keywords
    assert not any("melanie" in k for k in note.keywords), "speaker names belong in context"
    assert note.tags and all(tag not in note.keywords for tag in note.tags)
    assert "Melanie" in note.context and "2023" in note.context
    assert note.metadata == {"dia_id": "D5:4", "n": [1, 2]}
    assert note.user_id == "u1" and note.kind == "episodic"
    assert mem.get(note.id).metadata == {"dia_id": "D5:4", "n": [1, 2]}


def test_links_are_symmetric_real_ids_and_recorded(mem: AgenticMemory) -> None:
    notes = [mem.add(text, user_id="u1") for text in TURNS]
    pottery = [n.id for n in notes[:3]]
    linked = mem.get(pottery[2]).links
    assert set(linked) & set(pottery[:2]), "related pottery notes are linked"
    for note in mem.notes(user_id="u1"):
        for target, strength in note.links.items():
            other = mem.get(target)
            assert other.links[note.id] == strength
    events = mem.history(pottery[0])
    assert events[0].action == "create"
    assert any(e.action == "link" for e in events)


def test_evolution_changes_neighbours_and_is_in_history(embedder: HashingEmbedder) -> None:
    mem = AgenticMemory(embedder=embedder, link_threshold=0.3, sequence_links=False)
    first = mem.add("We talked about the pottery class and clay bowls.", user_id="u")
    mem.add("The pottery class made clay bowls again today.", user_id="u")
    evolved = mem.get(first.id)
    assert "theme:" in evolved.context
    evolve_events = [e for e in mem.history(first.id) if e.action == "evolve"]
    assert evolve_events and evolve_events[0].after["context"] == evolved.context
    assert evolve_events[0].before["context"] == first.context
    assert evolve_events[0].reason
    mem.close()


def test_search_is_scoped(mem: AgenticMemory) -> None:
    mem.add("Alice keeps bees in her garden", user_id="alice")
    mem.add("Bob keeps bees in his garden", user_id="bob")
    hits = mem.search("who keeps bees", k=5, user_id="alice")
    assert [h.note.user_id for h in hits] == ["alice"]
    assert len(mem.search("who keeps bees", k=5)) == 2, "unscoped search sees every scope"


def test_links_never_cross_scopes(mem: AgenticMemory) -> None:
    a = mem.add("the pottery class makes clay bowls", user_id="a")
    b = mem.add("the pottery class makes clay bowls", user_id="b")
    assert a.id not in b.links and mem.get(a.id).links == {}


def test_delete_removes_links_and_keeps_history(mem: AgenticMemory) -> None:
    notes = [mem.add(text, user_id="u1") for text in TURNS[:3]]
    victim = notes[1]
    assert mem.get(victim.id).links
    mem.delete(victim.id, user_id="u1")
    with pytest.raises(NotFound):
        mem.get(victim.id)
    for note in mem.notes(user_id="u1"):
        assert victim.id not in note.links
        assert note.follows != victim.id
    assert [e.action for e in mem.history(victim.id)][-1] == "delete"
    assert all(h.note.id != victim.id for h in mem.search("pottery clay", k=10))


def test_persistence_across_reopen(tmp_path: Path, embedder: HashingEmbedder) -> None:
    with AgenticMemory(tmp_path / "m", embedder=embedder, link_threshold=0.3) as mem:
        notes = mem.add_many([{"content": t, "metadata": {"i": i}} for i, t in enumerate(TURNS)])
        mem.update(notes[0].id, tags=["crafts"])
        before = {n.id: n for n in mem.notes()}
        histories = {n.id: mem.history(n.id) for n in notes}
    with AgenticMemory(tmp_path / "m", embedder=embedder) as mem:
        after = {n.id: n for n in mem.notes()}
        assert after == before
        assert {n.id: mem.history(n.id) for n in notes} == histories
        assert mem.search("pottery class", k=1)[0].note.id in before
        assert mem.search("hiking dog", k=1)[0].note.id == notes[3].id  # BM25 reloaded


def test_second_opener_of_a_path_is_refused(tmp_path: Path, embedder: HashingEmbedder) -> None:
    with AgenticMemory(tmp_path, embedder=embedder):
        with pytest.raises(StoreLocked, match="another"):
            AgenticMemory(tmp_path, embedder=embedder)


@pytest.mark.parametrize("window", [512, 4])
def test_add_many_equals_repeated_add(
    embedder: HashingEmbedder, window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A window of 4 makes the batches (3) straddle embedding windows.
    monkeypatch.setattr("memory.notes_api.EMBED_WINDOW", window)
    turns = [
        *TURNS,
        "Caroline: My clay mugs cracked in the kiln last week.",
        "Melanie: The kiln at the pottery class is too hot for mugs.",
        "Caroline: I am reading a novel about sailing.",
    ]
    items = [{"content": t, "timestamp": "2023-07-03 13:3" + str(i)} for i, t in enumerate(turns)]
    one = AgenticMemory(embedder=embedder, link_threshold=0.3)
    many = AgenticMemory(embedder=embedder, link_threshold=0.3)
    singles = [one.add(**item) for item in items]
    batched = many.add_many(items, batch_size=3)

    def shape(mem: AgenticMemory, notes: list) -> list:
        position = {n.id: i for i, n in enumerate(notes)}
        return [
            (n.keywords, n.tags, n.context, {position[t]: s for t, s in n.links.items()})
            for n in (mem.get(x.id) for x in notes)
        ]

    assert shape(one, singles) == shape(many, batched)
    one.close()
    many.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"content": ""},
        {"content": "   \n"},
        {"content": 42},
        {"content": "a\x00b"},
        {"content": "bad \ud800 surrogate"},
        {"content": "x" * 1_000_001},
        {"content": "ok", "metadata": {"s": {1, 2}}},
        {"content": "ok", "metadata": {"f": float("nan")}},
        {"content": "ok", "metadata": {1: "int key"}},
        {"content": "ok", "user_id": ""},
        {"content": "ok", "user_id": 7},
        {"content": "ok", "timestamp": "not a date"},
        {"content": "ok", "kind": "dream"},
    ],
)
def test_bad_input_raises_and_stores_nothing(mem: AgenticMemory, bad: dict) -> None:
    mem.add("an existing note", user_id="u1")
    with pytest.raises(InvalidInput):
        mem.add(**bad)
    with pytest.raises(InvalidInput):
        mem.add_many(["a fine note", bad])
    assert mem.count() == 1


def test_unknown_ids_and_bad_k(mem: AgenticMemory) -> None:
    mem.add("something", user_id="u")
    for call in (mem.get, mem.delete, mem.history, mem.neighbors):
        with pytest.raises(NotFound):
            call("no-such-id")
    with pytest.raises(NotFound):
        mem.update("no-such-id", tags=["x"])
    for k in (0, -1, 10_001, 2.5, True):
        with pytest.raises(InvalidInput):
            mem.search("something", k=k)
    assert mem.count() == 1


def test_metadata_keys_named_like_internal_fields_round_trip(mem: AgenticMemory) -> None:
    metadata = {"kind": "mine", "links": [1], "history": None, "m.x": {"deep": True}}
    note = mem.add("metadata with awkward keys", metadata=metadata)
    assert mem.get(note.id).metadata == metadata
    assert mem.get(note.id).kind == "episodic"


def test_filters_and_kinds(mem: AgenticMemory) -> None:
    mem.add_many(
        [
            {"content": "pottery class on monday", "metadata": {"session": 1}},
            {"content": "pottery class on friday", "metadata": {"session": 2}},
            {"content": "pottery: centre the clay first", "kind": "procedure"},
        ]
    )
    hits = mem.search("pottery class", k=5, filters={"session": 2})
    assert [h.note.metadata["session"] for h in hits] == [2]
    hits = mem.search("pottery", k=5, filters={"session": {"$gte": 1}}, kinds=["episodic"])
    assert len(hits) == 2
    assert [h.note.kind for h in mem.search("pottery", k=5, kinds=["procedure"])] == ["procedure"]


def test_update_content_reindexes_and_records(mem: AgenticMemory) -> None:
    note = mem.add("I like tea", user_id="u")
    mem.update(note.id, content="I like strong coffee", metadata={"v": 2}, user_id="u")
    assert mem.search("coffee", k=1, user_id="u")[0].note.id == note.id
    event = mem.history(note.id)[-1]
    assert event.action == "update"
    assert event.before["content"] == "I like tea"
    assert event.after["metadata"] == {"v": 2}
    with pytest.raises(NotFound):
        mem.update(note.id, tags=["x"], user_id="someone-else")


def test_delete_all_deletes_only_that_scope(mem: AgenticMemory) -> None:
    mem.add_many([{"content": f"note {i} of a", "user_id": "a"} for i in range(30)])
    mem.add_many([{"content": f"note {i} of b", "user_id": "b"} for i in range(5)])
    assert mem.delete_all(user_id="a") == 30
    assert mem.count(user_id="a") == 0 and mem.count(user_id="b") == 5
    with pytest.raises(InvalidInput):
        mem.delete_all()


def test_sequence_links_follow_the_conversation(mem: AgenticMemory) -> None:
    first = mem.add("Caroline: what did you do this weekend?", timestamp="2023-05-08 13:56")
    second = mem.add("Melanie: I painted a sunrise.", timestamp="2023-05-08 13:57")
    third = mem.add("Melanie: a new week!", timestamp="2023-06-20 10:00")  # too far apart
    # The thread is kept apart from links: an unrelated previous turn is not a link.
    assert second.follows == first.id and first.id not in second.links
    assert third.follows is None


def test_link_expansion_adds_linked_notes_without_displacing_top_hits(
    mem: AgenticMemory,
) -> None:
    question = mem.add("Caroline: what did you paint last weekend?", timestamp="2023-05-08 13:56")
    answer = mem.add("Melanie: a sunrise over the lake.", timestamp="2023-05-08 13:57")
    hits = mem.search("what did you paint last weekend", k=2, expand_links=True)
    assert hits[0].note.id == question.id and hits[0].found_by == "direct"
    assert answer.id in {h.note.id for h in hits}
