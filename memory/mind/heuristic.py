"""The default mind: offline, deterministic, fast.

Keywords come from YAKE (minus speaker names and dates), tags from the scope's
open vocabulary (or a taxonomy the user gives, :mod:`memory.mind.tagging`), the
context line names who / when / topic, links come from similarity plus keyword
overlap, and neighbours evolve by the explicit rules of
:mod:`memory.mind.evolution`.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from pydantic import BaseModel

from memory import supersede
from memory.embed.base import Embedder
from memory.mind.base import Candidate, MindDecision, NoteDraft, Supersession
from memory.mind.evolution import evolution_changes
from memory.mind.linking import link_choices
from memory.mind.tagging import Tagger, Taxonomy
from memory.text.dates import resolve_dates
from memory.text.dialogue import SpeakerEvidence, speaker_of, split_speaker
from memory.text.keywords import extract_keywords

__all__ = ["HeuristicMind", "NoteDescription"]


class NoteDescription(BaseModel):
    """What a note says about itself: keywords, tags, one-line context."""

    keywords: list[str]
    tags: list[str]
    context: str


def _context_line(who: str | None, draft: NoteDraft, keywords: list[str], body: str) -> str:
    when = f"{draft.timestamp:%d %b %Y}".lstrip("0")
    topic = ", ".join(keywords[:2]) or "a remark"
    if draft.kind != "episodic":
        return f"{draft.kind} about {topic}, learned {when}"
    speaker = f"{who}, " if who else ""
    # "yesterday" resolved against the note's own time, so the date can be shown and found.
    dates = "".join(
        f"; {resolved.phrase.lower()}: {resolved.label}"
        for resolved in resolve_dates(body, draft.timestamp)[:3]
    )
    return f"{speaker}{when}: about {topic}{dates}"


class HeuristicMind:
    """Builds, links and evolves notes with no LLM.

    Args:
        embedder: embeds a taxonomy's entries (once), and a draft that comes
            without its vector.
        link_threshold: minimum of similarity + keyword_weight * keyword overlap.
        keyword_weight: weight of keyword overlap in the link score.
        entity_weight: added to the link score when both notes name the same
            person, place or thing.
        max_links: most links a new note gets.
        tag_spread_similarity: similarity at which an untagged neighbour takes
            the new note's tag.
        taxonomy: fixed tags (names, optional descriptions) assigned zero-shot;
            ``None`` (default) grows an open vocabulary per scope.
        tag_threshold: similarity a note needs to a tag (its centroid, or the
            taxonomy entry) to take it. Defaults: 0.45 for the open vocabulary
            (on MiniLM, pairwise precision 1.00 / recall 0.54 on the labelled set;
            0.40 gave 0.92 / 0.61, 0.55 gave 1.00 / 0.33), 0.25 for a taxonomy
            (abstains rather than guesses). The scale is the embedder's cosine:
            ``benchmarks/note_quality.py --sweep`` measures it for yours.
        supersede_similarity: similarity at which a new note with a change cue
            supersedes an older one (:mod:`memory.supersede`); ``None``: never.
    """

    name = "heuristic"

    def __init__(
        self,
        embedder: Embedder,
        *,
        link_threshold: float = 0.5,
        keyword_weight: float = 0.3,
        entity_weight: float = 0.15,
        max_links: int = 5,
        tag_spread_similarity: float = 0.75,
        taxonomy: Taxonomy | None = None,
        tag_threshold: float | None = None,
        supersede_similarity: float | None = 0.6,
    ) -> None:
        default_threshold = 0.45 if taxonomy is None else 0.25
        self.tagger = Tagger(
            embedder,
            taxonomy=taxonomy,
            threshold=default_threshold if tag_threshold is None else tag_threshold,
        )
        self._embedder = embedder
        self._speakers: dict[Hashable, SpeakerEvidence] = {}
        self._speakers_lock = threading.Lock()
        self.link_threshold = link_threshold
        self.keyword_weight = keyword_weight
        self.entity_weight = entity_weight
        self.supersede_similarity = supersede_similarity
        self.max_links = max_links
        self.tag_spread_similarity = tag_spread_similarity

    def describe(self, draft: NoteDraft) -> NoteDescription:
        """Keywords, tags and context of a note: everything that needs no neighbours.

        Split from :meth:`decide` so a batch can be described ahead, in parallel
        with the embedding of the next batch.
        """
        evidence = self._speaker_evidence(draft.scope)
        who = speaker_of(draft.content, draft.metadata, evidence)
        evidence.observe(draft.content)
        body = draft.content if who is None else split_speaker(draft.content)[1]
        keywords = extract_keywords(body, exclude=[who] if who else [])
        # Tags are chosen in ``decide``: they depend on the scope's vocabulary as
        # it stands when the note is written, in order.
        return NoteDescription(
            keywords=keywords, tags=[], context=_context_line(who, draft, keywords, body)
        )

    def _speaker_evidence(self, scope: Hashable) -> SpeakerEvidence:
        with self._speakers_lock:
            return self._speakers.setdefault(scope, SpeakerEvidence())

    def decide(
        self,
        draft: NoteDraft,
        candidates: list[Candidate],
        description: NoteDescription | None = None,
    ) -> MindDecision:
        described = description or self.describe(draft)
        keywords = described.keywords
        tags = described.tags
        if not tags:
            vector = draft.vector
            if vector is None:  # a caller (or an LLM mind's fallback) gave no vector
                vector = self._embedder.embed([draft.content])[0]
            tags = self.tagger.choose(
                draft.scope,
                vector,
                keywords,
                [(c.similarity, c.note.tags) for c in candidates if c.note.tags],
            ).tags
        links = link_choices(
            keywords,
            candidates,
            threshold=self.link_threshold,
            keyword_weight=self.keyword_weight,
            entity_weight=self.entity_weight,
            content=draft.content,
            max_links=self.max_links,
        )
        supersedes = self.supersessions(draft, keywords, candidates)
        changes = evolution_changes(
            keywords, tags, links, candidates, tag_spread_similarity=self.tag_spread_similarity
        )
        return MindDecision(
            keywords=keywords,
            tags=tags,
            context=described.context,
            links=links,
            changes=changes,
            supersedes=supersedes,
            actor=self.name,
        )

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return self.decide(draft, candidates)

    def supersessions(
        self, draft: NoteDraft, keywords: list[str], candidates: list[Candidate]
    ) -> list[Supersession]:
        """The older candidates ``draft`` updates, by the offline rule (:mod:`memory.supersede`).

        Args:
            draft: the new note.
            keywords: its keywords (the subject it shares with an older note).
            candidates: notes of its scope, with their similarity to it.
        """
        if self.supersede_similarity is None:
            return []
        return supersede.supersessions(
            draft, keywords, candidates, similarity=self.supersede_similarity
        )
