"""Pure ranking functions."""

from __future__ import annotations

import pytest

from memory.retrieve.fusion import (
    by_episode,
    expand_by_links,
    reciprocal_rank_fusion,
    thread_context_scores,
)


def test_rrf_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "a"]], k=5)
    assert fused["a"] == pytest.approx(1 / 6 + 1 / 7)
    assert fused["c"] == pytest.approx(1 / 8)
    assert max(fused, key=fused.__getitem__) in {"a", "b"}


def test_expansion_keeps_protected_hits_and_adds_linked_notes() -> None:
    direct = [("a", 1.0), ("b", 0.9), ("c", 0.1), ("d", 0.05)]
    links = {"a": {"x": 1.0}, "b": {}, "c": {}, "d": {}}
    ranked = expand_by_links(direct, links.__getitem__, 3, protected=2, seeds=2, weight=0.5)
    ids = [nid for nid, _, _ in ranked]
    assert ids[:2] == ["a", "b"] and "x" in ids and "d" not in ids
    assert dict((nid, seed) for nid, _, seed in ranked)["x"] == "a"
    # A linked note can never push a protected direct hit out, however strong.
    ranked = expand_by_links(direct, links.__getitem__, 2, protected=2, seeds=2, weight=50.0)
    assert [nid for nid, _, _ in ranked] == ["a", "b"]


def test_thread_context_lends_relevance_along_follows() -> None:
    # q <- a <- z: "a" follows "q", "z" follows "a".
    notes = {"q": (None, "a"), "a": ("q", "z"), "z": ("a", None)}
    scores = thread_context_scores({"q": 1.0}, notes, before=0.3, after=0.2)
    assert scores == {"q": 1.0, "a": pytest.approx(0.3)}
    scores = thread_context_scores({"a": 1.0}, notes, before=0.3, after=0.2)
    assert scores == {"a": 1.0, "z": pytest.approx(0.3), "q": pytest.approx(0.2)}
    # The middle of a matching thread takes the larger loan, not both.
    scores = thread_context_scores({"q": 1.0, "a": 0.5, "z": 1.0}, notes, before=0.3, after=0.3)
    assert scores["a"] == pytest.approx(0.8) and scores["q"] == pytest.approx(1.15)


def test_episode_order_sums_per_episode_and_normalises_by_length() -> None:
    # A short episode with two strong candidates, a long one (9 notes, 3 of them
    # candidates) with weak ones, and a lone note.
    scores = {"s1": 0.30, "s2": 0.25, "l1": 0.20, "l2": 0.19, "l3": 0.18, "lone": 0.28}
    episode = {"s1": "S", "s2": "S", "l1": "L", "l2": "L", "l3": "L", "lone": "lone"}
    size = {"S": 2, "L": 9, "lone": 1}
    plain = by_episode(scores, episode.__getitem__)
    assert plain == ["l1", "l2", "l3", "s1", "s2", "lone"], "the plain sum favours many members"
    normed = by_episode(scores, episode.__getitem__, size.__getitem__)
    # S: 0.55 / sqrt(2) = 0.39; lone: 0.28; L: 0.57 / 3 = 0.19
    assert normed == ["s1", "s2", "lone", "l1", "l2", "l3"]
    assert sorted(normed) == sorted(scores), "the same candidates, reordered"
