"""Pure ranking functions: reciprocal-rank fusion, episodes, thread context, link expansion."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "by_episode",
    "expand_by_links",
    "reciprocal_rank_fusion",
    "thread_context_scores",
]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[str]], weights: Sequence[float] | None = None, k: int = 60
) -> dict[str, float]:
    """RRF: each list adds ``weight / (k + rank)`` (rank from 1) to every id it ranks."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[str, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, note_id in enumerate(ranking, start=1):
            fused[note_id] = fused.get(note_id, 0.0) + weight / (k + rank)
    return fused


def by_episode(
    scores: Mapping[str, float],
    episode_of: Callable[[str], str],
    size_of: Callable[[str], int] | None = None,
) -> list[str]:
    """The ids of ``scores`` ordered by their episode's relevance, then their own.

    An episode's relevance is the sum of its members' scores, divided by the
    square root of its length when ``size_of`` is given: a long episode gathers
    more weak candidates by chance alone, and a sum of n chance scores spreads
    with the square root of n.

    Args:
        scores: candidate scores by id.
        episode_of: an id's episode (the first note of its thread).
        size_of: an episode's length in notes; ``None``: the plain sum.
    """
    episode = {nid: episode_of(nid) for nid in scores}
    totals: dict[str, float] = {}
    for nid, score in scores.items():
        totals[episode[nid]] = totals.get(episode[nid], 0.0) + score
    if size_of is not None:
        totals = {root: total / math.sqrt(max(1, size_of(root))) for root, total in totals.items()}
    return sorted(scores, key=lambda nid: (-totals[episode[nid]], -scores[nid]))


def expand_by_links(
    direct: list[tuple[str, float]],
    links_of: Callable[[str], dict[str, float]],
    k: int,
    *,
    protected: int,
    seeds: int,
    weight: float,
) -> list[tuple[str, float, str | None]]:
    """Merge linked notes into a ranked list without pushing strong direct hits out.

    Args:
        direct: ``(id, score)`` direct hits, best first.
        links_of: an id's links (``target -> strength``), already scope-filtered.
        k: how many results to return.
        protected: the first ``protected`` direct hits keep their places.
        seeds: how many top direct hits spread to their links.
        weight: a linked note scores ``weight * strength * seed score``.

    Returns:
        ``(id, score, linked_from)`` best first; ``linked_from`` is ``None`` for
        direct hits.
    """
    direct_scores = dict(direct)
    spread: dict[str, tuple[float, str]] = {}
    for seed_id, seed_score in direct[:seeds]:
        for target, strength in links_of(seed_id).items():
            score = weight * strength * seed_score
            # Direct hits keep their own score: boosting them for every linked seed
            # would favour hubs (a note linked to everything) over the best match.
            if target not in direct_scores and score > spread.get(target, (0.0, ""))[0]:
                spread[target] = (score, seed_id)
    head = [(nid, direct_scores[nid], None) for nid, _ in direct[:protected]]
    taken = {nid for nid, _, _ in head}
    rest: list[tuple[str, float, str | None]] = [
        (nid, direct_scores[nid], None) for nid, _ in direct if nid not in taken
    ]
    rest += [(nid, score, seed) for nid, (score, seed) in spread.items()]
    rest.sort(key=lambda item: -item[1])
    chosen = (head + rest)[:k]
    # Protection decides membership, not order: present the k best by final score.
    chosen.sort(key=lambda item: -item[1])
    return chosen


def thread_context_scores(
    scores: Mapping[str, float],
    threads: Mapping[str, tuple[str | None, str | None]],
    *,
    before: float,
    after: float,
) -> dict[str, float]:
    """Let notes share relevance along their conversation thread (Folgezettel).

    A note gains the larger of ``before`` times the score of the note it follows
    (an answer comes right after the question that matched) and ``after`` times
    the score of the note that follows it. Taking the larger, not the sum, keeps a
    note in the middle of a matching thread from outscoring the best match itself.
    Notes of the thread that were not hits enter with what their neighbours lend.

    Args:
        scores: direct scores by id.
        threads: ``id -> (predecessor, successor)`` for the scored ids; ``None``
            where there is none (or it may not be returned).
        before: share of the predecessor's score.
        after: share of the successor's score.
    """
    if not before and not after:
        return dict(scores)
    lent: dict[str, float] = {}
    for note_id, score in scores.items():
        predecessor, successor = threads.get(note_id, (None, None))
        if successor is not None:
            lent[successor] = max(lent.get(successor, 0.0), before * score)
        if predecessor is not None:
            lent[predecessor] = max(lent.get(predecessor, 0.0), after * score)
    out = dict(scores)
    for note_id, extra in lent.items():
        out[note_id] = out.get(note_id, 0.0) + extra
    return out
