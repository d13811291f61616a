"""Link decisions without an LLM: cosine similarity plus keyword overlap, thresholded.

Pure functions: given the new note's keywords and its candidate neighbours (each
with its cosine similarity), decide which to link and how strongly.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from memory.mind.base import Candidate, LinkChoice
from memory.text.tokens import lexical_tokens

__all__ = ["keyword_overlap", "link_choices", "keyword_stems"]


def keyword_stems(keywords: Iterable[str]) -> set[str]:
    """Stemmed words of a keyword list (so "painting" overlaps "paintings")."""
    return {token for keyword in keywords for token in _stems(keyword)}


@lru_cache(maxsize=1 << 16)
def _stems(keyword: str) -> tuple[str, ...]:
    # A stored note's keywords are stemmed again for every new note it is a
    # candidate for (about 25 times per note in an import): remember them.
    return tuple(lexical_tokens(keyword))


def keyword_overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard overlap of two keyword lists' stems, in [0, 1]."""
    left, right = keyword_stems(a), keyword_stems(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def link_choices(
    keywords: list[str],
    candidates: list[Candidate],
    *,
    threshold: float,
    keyword_weight: float = 0.3,
    max_links: int = 5,
) -> list[LinkChoice]:
    """Candidates whose similarity plus weighted keyword overlap reaches ``threshold``.

    The strength is that combined score, capped at 1; the strongest ``max_links``
    are kept (a hub that links everything would carry no information).
    """
    scored: list[tuple[float, float, float, Candidate]] = []
    for candidate in candidates:
        overlap = keyword_overlap(keywords, candidate.note.keywords)
        score = candidate.similarity + keyword_weight * overlap
        if score >= threshold:
            scored.append((score, candidate.similarity, overlap, candidate))
    scored.sort(key=lambda item: -item[0])
    return [
        LinkChoice(
            target_id=candidate.note.id,
            strength=round(min(1.0, max(score, 1e-3)), 4),
            reason=f"similarity {similarity:.2f}, keyword overlap {overlap:.2f}",
        )
        for score, similarity, overlap, candidate in scored[:max_links]
    ]
