"""Small scopes searched exactly in memory: same answers as Chroma, kept in step with writes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.errors import StoreError
from memory.model import Scope
from memory.store.scope_vectors import ScopeVectors

SMALL = Scope(user_id="small")
QUERIES = ["topic 3 colour 2", "entry 5", "colour 6 topic 11", "a pottery class"]


def items(total: int, small: int) -> list[dict[str, str]]:
    return [
        {
            "content": f"{'Ann' if i < small else 'Bob'}: entry {i} about topic {i % 17} and "
            f"colour {i % 7}",
            "user_id": "small" if i < small else "big",
        }
        for i in range(total)
    ]


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AgenticMemory, AgenticMemory]]:
    """The same 300 notes in a catalogued memory and in one that always asks Chroma.

    Only the small share's rule is on: a single writer's scopes below
    ``LOCAL_SCAN_MAX`` notes are scanned too (see the last test), which would scan
    the big scope of these small stores as well.
    """
    monkeypatch.setattr("memory.store.chroma_nearest.LOCAL_SCAN_MAX", 0)
    memories = [
        AgenticMemory(embedder=HashingEmbedder(), read_cache_size=size) for size in (20_000, 0)
    ]
    for memory in memories:
        memory.add_many(items(300, 12))
    yield memories[0], memories[1]
    for memory in memories:
        memory.close()


def similarities(memory: AgenticMemory, query: str, n: int) -> list[float]:
    vector = memory.embedder.embed([query])
    return [round(s, 5) for _, s in memory._store.nearest(vector, SMALL, n)[0]]


def contents(memory: AgenticMemory, query: str, n: int) -> list[str]:
    vector = memory.embedder.embed([query])
    ids = [note_id for note_id, _ in memory._store.nearest(vector, SMALL, n)[0]]
    found = memory._store.fetch(ids, Scope())
    return [found[note_id].note.content for note_id in ids]


@pytest.mark.parametrize("n", [1, 5, 12, 40])
def test_exact_scan_scores_as_chroma_does(
    pair: tuple[AgenticMemory, AgenticMemory], n: int
) -> None:
    exact, chroma = pair
    for query in QUERIES:
        assert similarities(exact, query, n) == similarities(chroma, query, n)
        assert all(c.startswith("Ann") for c in contents(exact, query, n))
    # The 12 small-scope notes were scanned in memory, nothing else.
    assert len(exact._store._scope_vectors) == 12


def test_search_of_a_small_scope_stays_in_it(pair: tuple[AgenticMemory, AgenticMemory]) -> None:
    exact, _ = pair
    for query in QUERIES:
        hits = exact.search(query, k=5, user_id="small")
        assert len(hits) == 5 and all(h.note.user_id == "small" for h in hits)
        assert all(h.note.user_id == "big" for h in exact.search(query, k=5, user_id="big"))


def test_scanned_vectors_follow_adds_updates_and_deletes(
    pair: tuple[AgenticMemory, AgenticMemory],
) -> None:
    exact, chroma = pair
    assert similarities(exact, "entry 5", 3)  # first scan: vectors fetched
    added = exact.add("Ann: my pottery class made a blue bowl", user_id="small")
    chroma.add("Ann: my pottery class made a blue bowl", user_id="small")
    assert len(exact._store._scope_vectors) == 13  # written through, not fetched again
    assert contents(exact, "my pottery class made a blue bowl", 1) == [added.content]

    first = exact.notes(user_id="small")[0]
    exact.update(first.id, content="Ann: sailing lessons on the lake", user_id="small")
    assert contents(exact, "sailing lessons on the lake", 1) == ["Ann: sailing lessons on the lake"]

    exact.delete(added.id, user_id="small")
    assert "Ann: my pottery class made a blue bowl" not in contents(exact, "pottery bowl", 40)
    assert len(exact._store._scope_vectors) == 12


def test_a_failed_write_drops_the_scanned_vectors(
    pair: tuple[AgenticMemory, AgenticMemory], monkeypatch: pytest.MonkeyPatch
) -> None:
    exact, _ = pair
    similarities(exact, "entry 5", 3)
    collection = exact._store._notes

    def unreachable(**_: object) -> None:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(collection, "upsert", unreachable)
    with pytest.raises(StoreError):
        exact.add("Ann: this write fails", user_id="small")
    assert len(exact._store._scope_vectors) == 0


def test_ties_are_settled_by_order() -> None:
    vectors = np.ones((6, 4), dtype=np.float32)
    rows = ScopeVectors().nearest(
        vectors[:1],
        3,
        [f"t{i}" for i in range(6)],
        scope_of=lambda _: SMALL,
        fetch=lambda missing: {note_id: vectors[0] for note_id in missing},
    )
    assert [note_id for note_id, _ in rows[0]] == ["t0", "t1", "t2"]


def test_a_single_writers_scope_below_the_local_limit_is_scanned_exactly() -> None:
    exact, chroma = (
        AgenticMemory(embedder=HashingEmbedder(), read_cache_size=size) for size in (20_000, 0)
    )
    try:
        for memory in (exact, chroma):
            memory.add_many(items(300, 12))
        big = Scope(user_id="big")
        for query in QUERIES:
            vector = exact.embedder.embed([query])
            scanned = exact._store.nearest(vector, big, 10)[0]
            asked = chroma._store.nearest(vector, big, 10)[0]
            # Chroma's HNSW is approximate: the exact scan finds every note it finds
            # at least as similar, and the best one is the same.
            assert scanned[0][1] == pytest.approx(asked[0][1])
            assert [round(s, 5) for _, s in scanned] >= [round(s, 5) for _, s in asked]
        assert len(exact._store._scope_vectors) == 288  # the big scope, held in memory
    finally:
        exact.close()
        chroma.close()


def test_a_scope_grown_past_every_exact_scan_is_let_go(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both limits at 50: past them, no read scans the scope in memory any more.
    monkeypatch.setattr("memory.store.chroma_nearest.LOCAL_SCAN_MAX", 50)
    monkeypatch.setattr("memory.store.chroma_nearest.EXACT_SCAN_MAX", 50)
    with AgenticMemory(embedder=HashingEmbedder()) as memory:
        memory.add_many(items(40, 0))
        assert memory.search("entry 5", k=3, user_id="big")
        held = len(memory._store._scope_vectors)
        assert held == 40  # scanned in memory, and kept in step with the next writes
        memory.add_many(items(20, 0))
        assert memory.search("entry 5", k=3, user_id="big")
        # 60 notes: asked of Chroma now, so their vectors are no longer kept here.
        assert len(memory._store._scope_vectors) == 0


def test_a_small_scope_stays_held_when_a_wider_read_goes_to_chroma(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("memory.store.chroma_nearest.LOCAL_SCAN_MAX", 50)
    with AgenticMemory(embedder=HashingEmbedder()) as memory:
        for agent in ("a", "b"):
            memory.add_many([{**item, "agent_id": agent, "user_id": "u"} for item in items(40, 0)])
        assert memory.search("entry 5", k=3, user_id="u", agent_id="a")  # 40: in memory
        assert len(memory._store._scope_vectors) == 40
        assert memory.search("entry 5", k=3, user_id="u")  # 80: asked of Chroma
        # The agent's scope may still be scanned: its vectors stay, not refetched.
        assert len(memory._store._scope_vectors) == 40
