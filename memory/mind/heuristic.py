"""The default mind: offline, deterministic, fast.

Keywords come from YAKE (minus speaker names and dates), tags from zero-shot
similarity to broad topic descriptions, the context line names who / when /
topic, links come from similarity plus keyword overlap, and neighbours evolve by
the explicit rules of :mod:`memory.mind.evolution`.
"""

from __future__ import annotations

from pydantic import BaseModel

from memory.embed.base import Embedder
from memory.mind.base import Candidate, MindDecision, NoteDraft
from memory.mind.evolution import evolution_changes
from memory.mind.linking import link_choices
from memory.mind.tagging import TopicTagger
from memory.text.dialogue import speaker_of, split_speaker
from memory.text.keywords import extract_keywords

__all__ = ["HeuristicMind", "NoteDescription"]


class NoteDescription(BaseModel):
    """What a note says about itself: keywords, tags, one-line context."""

    keywords: list[str]
    tags: list[str]
    context: str


def _context_line(who: str | None, draft: NoteDraft, keywords: list[str], tags: list[str]) -> str:
    when = f"{draft.timestamp:%d %b %Y}".lstrip("0")
    topic = ", ".join(keywords[:2]) or (tags[0] if tags else "a remark")
    label = f" ({tags[0]})" if tags else ""
    if draft.kind != "episodic":
        return f"{draft.kind} about {topic}{label}, learned {when}"
    speaker = f"{who}, " if who else ""
    return f"{speaker}{when}: about {topic}{label}"


class HeuristicMind:
    """Builds, links and evolves notes with no LLM.

    Args:
        embedder: used once, to embed the tag descriptions.
        link_threshold: minimum of similarity + keyword_weight * keyword overlap.
        keyword_weight: weight of keyword overlap in the link score.
        max_links: most links a new note gets.
        tag_spread_similarity: similarity at which tags spread to a neighbour.
    """

    name = "heuristic"

    def __init__(
        self,
        embedder: Embedder,
        *,
        link_threshold: float = 0.5,
        keyword_weight: float = 0.3,
        max_links: int = 5,
        tag_spread_similarity: float = 0.75,
    ) -> None:
        self._tagger = TopicTagger(embedder)
        self.link_threshold = link_threshold
        self.keyword_weight = keyword_weight
        self.max_links = max_links
        self.tag_spread_similarity = tag_spread_similarity

    def describe(self, draft: NoteDraft) -> NoteDescription:
        """Keywords, tags and context of a note: everything that needs no neighbours.

        Split from :meth:`decide` so a batch can be described ahead, in parallel
        with the embedding of the next batch.
        """
        who = speaker_of(draft.content, draft.metadata)
        _, body = split_speaker(draft.content)
        keywords = extract_keywords(body, exclude=[who] if who else [])
        tags = self._tagger.choose(draft.vector, body)
        if "?" in body and "question" not in tags:
            tags.append("question")
        return NoteDescription(
            keywords=keywords, tags=tags, context=_context_line(who, draft, keywords, tags)
        )

    def decide(
        self,
        draft: NoteDraft,
        candidates: list[Candidate],
        description: NoteDescription | None = None,
    ) -> MindDecision:
        described = description or self.describe(draft)
        keywords, tags = described.keywords, described.tags
        links = link_choices(
            keywords,
            candidates,
            threshold=self.link_threshold,
            keyword_weight=self.keyword_weight,
            max_links=self.max_links,
        )
        changes = evolution_changes(
            keywords, tags, links, candidates, tag_spread_similarity=self.tag_spread_similarity
        )
        return MindDecision(
            keywords=keywords,
            tags=tags,
            context=described.context,
            links=links,
            changes=changes,
            actor=self.name,
        )

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return self.decide(draft, candidates)
