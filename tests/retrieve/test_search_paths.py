"""The in-memory catalog path and the read-the-records path rank identically.

A memory that is its store's only writer answers visibility and thread questions
from its catalog; one on a shared client (``read_cache_size=0`` takes the same
path) reads Chroma records instead. A user must get the same answers either way.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder

TURNS = [
    ("Melanie: I signed up for a pottery class yesterday!", "u1"),
    ("Caroline: That's lovely, what are you making first?", "u1"),
    ("Melanie: A bowl for my kids, they love painting.", "u1"),
    ("Caroline: I went to a support group for trans people last week.", "u1"),
    ("Melanie: How did the support group go?", "u1"),
    ("Caroline: It was moving; I want to work in counseling.", "u1"),
    ("Jon: I lost my job as a banker and want to open a dance studio.", "u2"),
    ("Gina: I started my own clothing store after losing my job.", "u2"),
    ("Jon: The dance studio opens next month downtown.", "u2"),
]
QUERIES = [
    "What creative hobby did Melanie take up?",
    "What did Caroline go to last week?",
    "What kind of business did Jon start?",
    "counseling",
    "dance studio",
]


def build(read_cache_size: int) -> AgenticMemory:
    memory = AgenticMemory(embedder=HashingEmbedder(), read_cache_size=read_cache_size)
    for index, (content, user) in enumerate(TURNS):
        memory.add(content, user_id=user, metadata={"turn": index})
    memory.add("To open a shop: find a location, register, stock it.", kind="procedure")
    return memory


@pytest.fixture
def both() -> Iterator[tuple[AgenticMemory, AgenticMemory]]:
    cached, uncached = build(20_000), build(0)
    # Guard the premise: each memory really takes its own path.
    assert cached._store._catalog is not None and cached._store._catalog.complete
    assert uncached._store._catalog is None
    yield cached, uncached
    cached.close()
    uncached.close()


def ranking(memory: AgenticMemory, query: str, **options: object) -> list[tuple[str, float]]:
    return [(hit.note.content, round(hit.score, 9)) for hit in memory.search(query, k=5, **options)]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"user_id": "u1"},
        {"user_id": "u2"},
        {"kinds": ["episodic"]},
        {"kinds": ["procedure"]},
        {"filters": {"turn": {"$gte": 2}}},
        {"expand_links": True},
        {"user_id": "u1", "expand_links": True},
    ],
)
def test_catalog_and_record_paths_rank_the_same(
    both: tuple[AgenticMemory, AgenticMemory], options: dict[str, object]
) -> None:
    cached, uncached = both
    for query in QUERIES:
        assert ranking(cached, query, **options) == ranking(uncached, query, **options)


def test_thread_context_never_lends_to_notes_outside_the_filter(
    both: tuple[AgenticMemory, AgenticMemory],
) -> None:
    for memory in both:
        hits = memory.search("pottery class", k=10, filters={"turn": {"$lte": 0}})
        assert [hit.note.metadata["turn"] for hit in hits] == [0]
        hits = memory.search("pottery class", k=10, user_id="u2")
        assert all(hit.note.user_id == "u2" for hit in hits)


def test_catalog_follows_deletes_and_content_updates(
    both: tuple[AgenticMemory, AgenticMemory],
) -> None:
    for memory in both:
        [pottery] = [n for n in memory.notes(user_id="u1") if "pottery" in n.content]
        memory.delete(pottery.id, user_id="u1")
        assert all(hit.note.id != pottery.id for hit in memory.search("pottery class", k=10))
        [bowl] = [n for n in memory.notes(user_id="u1") if "bowl" in n.content]
        memory.update(bowl.id, content="Melanie: A vase for the garden.", user_id="u1")
        top = memory.search("vase garden", k=1, user_id="u1")[0]
        assert top.note.id == bowl.id
    cached, uncached = both
    for query in QUERIES:
        assert ranking(cached, query) == ranking(uncached, query)


def test_reopened_store_ranks_like_the_one_that_wrote_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedder = HashingEmbedder()
    with AgenticMemory(path=tmp_path / "mem", embedder=embedder) as memory:
        for content, user in TURNS:
            memory.add(content, user_id=user)
        before = {query: ranking(memory, query) for query in QUERIES}
    with AgenticMemory(path=tmp_path / "mem", embedder=embedder) as memory:
        assert {query: ranking(memory, query) for query in QUERIES} == before


@pytest.mark.parametrize("small_share", [0.3, 0.6])
def test_dense_fan_out_sized_by_the_scope_share_finds_the_same_notes(
    small_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scopes seeing 30 % or 60 % of the store: unfiltered fan-out sized by the share.

    (Smaller shares, and a single writer's scopes of up to ``LOCAL_SCAN_MAX`` notes,
    are searched exactly in memory: ``tests/test_scope_vectors.py``; the limit is
    lifted here so that these small stores take the fan-out path.)
    """
    monkeypatch.setattr("memory.store.chroma_nearest.LOCAL_SCAN_MAX", 0)
    total = 300
    small = int(total * small_share)
    memories = [
        AgenticMemory(embedder=HashingEmbedder(), read_cache_size=size) for size in (20_000, 0)
    ]
    items = [
        {
            "content": f"{'Ann' if i < small else 'Bob'}: entry {i} about topic {i % 17} and "
            f"colour {i % 7}",
            "user_id": "small" if i < small else "big",
        }
        for i in range(total)
    ]
    try:
        for memory in memories:
            memory.add_many(items)
        for query in ("topic 3 colour 2", "entry 5", "colour 6 topic 11"):
            for user in ("small", "big"):
                cached, uncached = (ranking(m, query, user_id=user) for m in memories)
                # HNSW is approximate, filtered or not: near-equal cosines may swap
                # places in the dense list, so compare the notes found, not exact scores.
                assert {c for c, _ in cached} == {c for c, _ in uncached}
                assert len(cached) == 5
                assert all(c.startswith("Ann" if user == "small" else "Bob") for c, _ in cached)
    finally:
        for memory in memories:
            memory.close()
