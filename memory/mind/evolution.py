"""Rule-based evolution of neighbours when a new note links to them.

Two explicit rules, each recorded with its reason in the neighbour's history:

1. **Shared theme** -- when the new note and a linked neighbour share a keyword
   stem, the neighbour's context gains (or replaces) a ``theme: <keyword>``
   segment, so notes on a recurring subject name it.
2. **Tag spread** -- when a linked neighbour is very similar (cosine at or above
   ``tag_spread_similarity``) and has no tag yet, it takes the new note's tags,
   so a topic found later is reflected on earlier notes. A tagged neighbour
   keeps its own: a second topic tag would make it "share a tag" with notes of
   another subject.
"""

from __future__ import annotations

import re

from memory.mind.base import Candidate, LinkChoice, NeighbourChange
from memory.mind.linking import keyword_stems
from memory.text.tokens import lexical_tokens

__all__ = ["evolution_changes", "with_theme"]

_THEME = re.compile(r"\s*;?\s*theme: [^;]*$")


def with_theme(context: str, theme: str) -> str:
    """``context`` with its trailing ``theme:`` segment set to ``theme``."""
    base = _THEME.sub("", context).strip()
    return f"{base}; theme: {theme}" if base else f"theme: {theme}"


def _shared_keyword(new_keywords: list[str], neighbour_keywords: list[str]) -> str | None:
    shared = keyword_stems(new_keywords) & keyword_stems(neighbour_keywords)
    if not shared:
        return None
    # Name the theme with the new note's own phrase that carries the shared stem.
    for keyword in new_keywords:
        if set(lexical_tokens(keyword)) & shared:
            return keyword
    return None


def evolution_changes(
    new_keywords: list[str],
    new_tags: list[str],
    links: list[LinkChoice],
    candidates: list[Candidate],
    *,
    tag_spread_similarity: float = 0.75,
    max_tags: int = 4,
) -> list[NeighbourChange]:
    """The neighbour changes the two rules call for (only for linked neighbours)."""
    by_id = {candidate.note.id: candidate for candidate in candidates}
    changes: list[NeighbourChange] = []
    for link in links:
        candidate = by_id.get(link.target_id)
        if candidate is None:
            continue
        neighbour = candidate.note
        reasons: list[str] = []
        context: str | None = None
        theme = _shared_keyword(new_keywords, neighbour.keywords)
        if theme and with_theme(neighbour.context, theme) != neighbour.context:
            context = with_theme(neighbour.context, theme)
            reasons.append(f"shares the theme {theme!r} with a new note")
        add_tags: list[str] = []
        if candidate.similarity >= tag_spread_similarity and not neighbour.tags:
            room = max_tags - len(neighbour.tags)
            add_tags = [tag for tag in new_tags if tag not in neighbour.tags][: max(room, 0)]
            if add_tags:
                reasons.append(f"similarity {candidate.similarity:.2f} spreads tags {add_tags}")
        if context is not None or add_tags:
            changes.append(
                NeighbourChange(
                    target_id=neighbour.id,
                    add_tags=add_tags,
                    context=context,
                    reason="; ".join(reasons),
                )
            )
    return changes
