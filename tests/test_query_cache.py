"""Query embeddings are cached, shared by search and recall (issue 18 follow-up).

An agent middleware recalls procedures and searches notes for the same request: the
request must be encoded once. The cache is bounded, keyed by exact text and embedder,
thread-safe, and never used for notes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.query_cache import QueryVectors


class CountingEmbedder:
    """A hashing embedder that records every text it is asked to encode, per call."""

    def __init__(self) -> None:
        self._inner = HashingEmbedder()
        self.calls: list[list[str]] = []

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self._inner.embed(texts)


REQUEST = "Add the requests package as a dependency and pin its version"


@pytest.fixture
def counted() -> CountingEmbedder:
    return CountingEmbedder()


@pytest.fixture
def memory(counted: CountingEmbedder) -> Iterator[AgenticMemory]:
    mem = AgenticMemory(embedder=counted)
    yield mem
    mem.close()


def _encoded(counted: CountingEmbedder, text: str) -> int:
    return sum(call.count(text) for call in counted.calls)


def test_recall_then_search_of_one_request_is_one_encode(
    memory: AgenticMemory, counted: CountingEmbedder
) -> None:
    memory.add("user: pinned numpy in pyproject", user_id="dev")
    before = len(counted.calls)
    memory.recall(REQUEST, user_id="dev")
    memory.search(REQUEST, kinds=["episodic"], user_id="dev")
    assert len(counted.calls) - before == 1  # one batch: the recall key and the request
    assert _encoded(counted, REQUEST) == 1


def test_search_then_recall_encodes_the_request_once(
    memory: AgenticMemory, counted: CountingEmbedder
) -> None:
    memory.search(REQUEST, user_id="dev")
    memory.recall(REQUEST, user_id="dev")
    assert _encoded(counted, REQUEST) == 1


def test_repeated_search_hits_the_cache_and_ranks_the_same(
    memory: AgenticMemory, counted: CountingEmbedder
) -> None:
    memory.add("user: the test runner needs pytest-xdist", user_id="dev")
    first = memory.search("which test runner plugin", user_id="dev")
    calls = len(counted.calls)
    again = memory.search("which test runner plugin", user_id="dev")
    assert len(counted.calls) == calls
    assert [(r.note.id, r.score) for r in again] == [(r.note.id, r.score) for r in first]


def test_notes_never_go_through_the_cache(memory: AgenticMemory, counted: CountingEmbedder) -> None:
    text = "user: the deploy script lives in tools/deploy.sh"
    memory.add(text, user_id="dev")
    assert len(memory._queries) == 0
    memory.search(text, user_id="dev")
    assert _encoded(counted, text) == 2  # once as a note, once as a query


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache, embedder = QueryVectors(size=2), CountingEmbedder()
    cache.embed(embedder, ["a"])
    cache.embed(embedder, ["b"])
    cache.embed(embedder, ["a"])  # a is now the most recent
    cache.embed(embedder, ["c"])  # evicts b
    assert len(cache) == 2
    cache.embed(embedder, ["a", "c"])
    cache.embed(embedder, ["b"])
    assert embedder.calls == [["a"], ["b"], ["c"], ["b"]]


def test_another_embedder_never_gets_a_cached_vector() -> None:
    cache, first, second = QueryVectors(), CountingEmbedder(), CountingEmbedder()
    cache.embed(first, ["same text"])
    cache.embed(second, ["same text"])
    assert first.calls == [["same text"]] and second.calls == [["same text"]]


def test_returned_vectors_are_the_callers_to_change() -> None:
    cache, embedder = QueryVectors(), CountingEmbedder()
    vector = cache.embed(embedder, ["text"])
    vector[:] = 0.0
    assert np.allclose(cache.embed(embedder, ["text"]), embedder.embed(["text"]))


def test_repeated_texts_in_one_call_are_encoded_once() -> None:
    cache, embedder = QueryVectors(), CountingEmbedder()
    vectors = cache.embed(embedder, ["x", "y", "x"])
    assert embedder.calls == [["x", "y"]]
    assert np.array_equal(vectors[0], vectors[2])


def test_size_zero_disables_the_cache(counted: CountingEmbedder) -> None:
    mem = AgenticMemory(embedder=counted, query_cache_size=0)
    mem.search(REQUEST)
    mem.search(REQUEST)
    mem.close()
    assert _encoded(counted, REQUEST) == 2


def test_concurrent_searches_agree_and_stay_bounded() -> None:
    cache, embedder = QueryVectors(size=8), CountingEmbedder()
    texts = [f"query {i % 12}" for i in range(400)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        vectors = list(pool.map(lambda text: cache.embed(embedder, [text])[0], texts))
    expected = {text: embedder.embed([text])[0] for text in set(texts)}
    assert all(np.allclose(v, expected[t]) for v, t in zip(vectors, texts, strict=True))
    assert len(cache) <= 8
