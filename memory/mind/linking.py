"""Link decisions without an LLM: similarity, shared keywords, shared names, thresholded.

Pure functions: given the new note's keywords and its candidate neighbours (each
with its cosine similarity), decide which to link and how strongly, and say why.

A link means "related": the conversation thread is kept apart, in
``Note.follows``. The previous turn becomes a link only when it is also related
(:func:`related_thread_links`), so a Postgres replication lag and a peanut
allergy said one after the other are not linked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from memory.mind.base import Candidate, LinkChoice, MindDecision
from memory.text.dialogue import split_speaker
from memory.text.tokens import lexical_tokens

__all__ = [
    "entities",
    "keyword_overlap",
    "keyword_stems",
    "link_choices",
    "related_thread_links",
]

# A capitalised word that does not open a sentence: a name (Lisbon, Priya, Postgres).
_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)(?<![.!?]\s\s)\b([A-Z][a-zA-Z0-9]+)")


@lru_cache(maxsize=1 << 16)
def entities(content: str) -> frozenset[str]:
    """Names a text mentions: capitalised words not opening a sentence (minus the speaker)."""
    speaker, body = split_speaker(content)
    found = {match.lower() for match in _ENTITY.findall(body.strip())}
    if speaker:
        found -= {word.lower() for word in speaker.split()}
    return frozenset(found - {"i"})


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
    entity_weight: float = 0.0,
    content: str = "",
    max_links: int = 5,
) -> list[LinkChoice]:
    """Candidates whose similarity, keyword overlap and shared names reach ``threshold``.

    The score is ``similarity + keyword_weight * overlap + entity_weight`` (the
    last only when the two notes name the same person, place or thing); the
    strength is that score capped at 1, and the reason spells out each part. The
    strongest ``max_links`` are kept (a hub that links everything would carry
    no information).
    """
    names = entities(content) if entity_weight and content else frozenset()
    scored: list[tuple[float, str, Candidate]] = []
    for candidate in candidates:
        overlap = keyword_overlap(keywords, candidate.note.keywords)
        shared = sorted(names & entities(candidate.note.content)) if names else []
        score = candidate.similarity + keyword_weight * overlap + (entity_weight if shared else 0)
        if score >= threshold:
            reason = f"similarity {candidate.similarity:.2f}, keyword overlap {overlap:.2f}"
            if shared:
                reason += f", shared names {', '.join(shared[:3])}"
            scored.append((score, reason, candidate))
    scored.sort(key=lambda item: -item[0])
    return [
        LinkChoice(
            target_id=candidate.note.id,
            strength=round(min(1.0, max(score, 1e-3)), 4),
            reason=reason,
        )
        for score, reason, candidate in scored[:max_links]
    ]


def related_thread_links(
    thread: dict[str, tuple[float, str]], decision: MindDecision
) -> dict[str, tuple[float, str]]:
    """The thread links to keep as links: those to notes the mind found related.

    Args:
        thread: ``id -> (strength, reason)`` of the note the new one follows.
        decision: the mind's decision (its links are the related notes).
    """
    related = {choice.target_id: choice for choice in decision.links}
    return {
        target: (strength, f"{related[target].reason}; {reason}")
        for target, (strength, reason) in thread.items()
        if target in related
    }
