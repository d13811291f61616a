"""``HybridSearch``: every ranking decision, in one room.

A query is ranked in five steps, each a setting of :class:`SearchSettings`:

    1. dense     the store's nearest notes (cosine) in the scope
    2. lexical   BM25 over the same scope (:class:`~memory.retrieve.lexical.LexicalIndex`)
    3. fusion    reciprocal-rank fusion of the two lists (``rrf_k``); a question
                 asking for a time ("when ...?") fuses a third list: the same
                 candidates that say when themselves (``time_questions``); and
                 the candidates ordered by their episode's relevance
                 (``episodes``)
    4. speaker   optional boost for notes said by a person the query names
    5. thread    a note takes a share of its thread neighbours' relevance
                 (``thread_weights``); optionally, link expansion adds linked notes
                 without displacing the strongest direct hits

Ranking works on ids (the store answers visibility and thread questions from
memory when it can); only the notes returned are read in full. The weights are
the ones ``benchmarks/locomo_retrieval.py`` measured best (benchmarks/README.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memory.model import Scope, SearchResult
from memory.retrieve.fusion import (
    by_episode,
    expand_by_links,
    reciprocal_rank_fusion,
    thread_context_scores,
)
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore
from memory.supersede import current_first
from memory.text.dates import asks_for_time

__all__ = ["HybridSearch", "SearchSettings"]


@dataclass
class SearchSettings:
    """The ranking knobs; ``AgenticMemory``'s constructor holds their defaults and
    exposes each as an attribute of its own (``episode_length_norm`` excepted: it
    is there for the benchmark's ablation of the episode list's normalisation)."""

    rrf_k: int
    thread_weights: tuple[float, float]
    link_expansion_weight: float
    speaker_boost: float
    time_questions: bool = True
    episodes: bool = True
    episode_length_norm: bool = True


class HybridSearch:
    """Dense + lexical retrieval fused, with thread context and link expansion.

    Args:
        store: the note store (dense hits, visibility, threads, notes).
        index: the lexical index over the same notes.
        settings: the ranking knobs (read on every search, so changes apply at once).
    """

    def __init__(self, store: NoteStore, index: LexicalIndex, settings: SearchSettings) -> None:
        self._store = store
        self._index = index
        self.settings = settings

    def rank(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        expand_links: bool = False,
        include_superseded: bool = True,
    ) -> list[SearchResult]:
        """The top ``k`` notes for ``query`` (embedded as ``vector``, one row) in ``scope``.

        A note a newer note updated (``superseded_by``) is ranked right below its
        current version when the query ranks both in the top ``k`` (the current one
        moves up beside it); ``include_superseded=False`` drops it and shows its
        current version in its place (:mod:`memory.supersede`).
        """
        pool = max(50, 4 * k)
        dense = self._store.nearest(vector, scope, pool, kinds=kinds, filters=filters)[0]
        allowed = self._store.matching_ids(scope, kinds=kinds, filters=filters) if filters else None
        lexical = self._index.search(query, pool, scope=scope, kinds=kinds, allowed=allowed)
        fused = self._fuse(query, [[nid for nid, _ in dense], [nid for nid, _ in lexical]])
        if self.settings.speaker_boost:
            self._boost_named_speakers(query, fused)
        threads = self._store.thread_neighbours(list(fused), scope, kinds=kinds, filters=filters)
        fused = {nid: score for nid, score in fused.items() if nid in threads}
        before, after = self.settings.thread_weights
        scored = thread_context_scores(fused, threads, before=before, after=after)
        direct = sorted(scored.items(), key=lambda item: -item[1])
        fetched: dict[str, Any] = {}

        def fetch(ids: Sequence[str]) -> dict[str, Any]:
            missing = [nid for nid in ids if nid not in fetched]
            if missing:
                fetched.update(self._store.fetch(missing, scope, kinds=kinds, filters=filters))
            return {nid: fetched[nid] for nid in ids if nid in fetched}

        # Updated facts: the current version goes right above the one it replaces
        # when both are in the window (the top k, which is read anyway); a successor
        # the query did not rank that high is not pulled in, since it would push a
        # note the query is about out of the window (LoCoMo R@10 -0.014 with the
        # episode list, benchmarks/README.md). Dropping superseded notes
        # (``include_superseded=False``) puts the successor in the old note's place.
        reordered = current_first(
            direct[:k],
            lambda ids: {nid: stored.note.superseded_by for nid, stored in fetch(ids).items()},
            include_superseded=include_superseded,
            relevant={nid for nid, _ in direct[:k]},
        )
        placed = {nid for nid, _ in reordered}
        direct = reordered + [item for item in direct[k:] if item[0] not in placed]
        if expand_links:
            return self._expanded(direct, k, scope, kinds, filters)
        if not include_superseded:  # past the window too
            shown = fetch([nid for nid, _ in direct[: 2 * k]])
            direct = [
                item
                for item in direct
                if item[0] not in shown or not shown[item[0]].note.superseded_by
            ]
        notes = fetch([nid for nid, _ in direct[:k]])
        return [
            SearchResult(note=notes[nid].note, score=score, found_by="direct")
            for nid, score in direct[:k]
            if nid in notes
        ]

    def nearest_ids(
        self, vector: np.ndarray, k: int, scope: Scope, *, kinds: Sequence[str] | None = None
    ) -> list[str]:
        """The ids of the ``k`` notes nearest ``vector`` (one row) in ``scope``, nearest first."""
        return [nid for nid, _ in self._store.nearest(vector, scope, k, kinds=kinds)[0]]

    def best_similarity(
        self, vectors: np.ndarray, scope: Scope, *, kinds: Sequence[str] | None = None
    ) -> list[float]:
        """For each row of ``vectors``, the cosine of its nearest note in ``scope`` (0 if none)."""
        found = self._store.nearest(vectors, scope, 1, kinds=kinds)
        return [hits[0][1] if hits else 0.0 for hits in found]

    def _fuse(self, query: str, rankings: list[list[str]]) -> dict[str, float]:
        """RRF of the dense and lexical rankings, and of the dated ones for a time question.

        "When did X happen?" is answered by a note that says when ("yesterday", "in
        2022"), yet both lists rank by what X is. The candidates whose own text
        mentions a time, in their fused order, become one more list: among notes
        about X, those that can answer "when" rise, and nothing new enters.
        """
        fused = reciprocal_rank_fusion(rankings, k=self.settings.rrf_k)
        if self.settings.time_questions and asks_for_time(query):
            ordered = sorted(fused, key=lambda nid: -fused[nid])
            dated = [nid for nid in ordered if self._index.dated(nid)]
            if dated:
                rankings = [*rankings, dated]
                fused = reciprocal_rank_fusion(rankings, k=self.settings.rrf_k)
        if self.settings.episodes:
            rankings = [*rankings, self._by_episode(fused)]
            fused = reciprocal_rank_fusion(rankings, k=self.settings.rrf_k)
        return fused

    def _by_episode(self, fused: dict[str, float]) -> list[str]:
        """The candidates ordered by their episode's relevance, then their own.

        A conversation about one event is a thread of notes (``follows``); a
        question about the event is answered inside it, often by a note that
        shares few words with the question. The candidates' scores summed per
        thread find the stretch of conversation the question is about; ranking
        the candidates by it is one more fused list (no weight to choose), so
        nothing new enters and a lone strong hit elsewhere keeps its two lists.

        The sum is divided by the square root of the episode's length: a long
        episode gathers more weak candidates by chance alone, and a sum of n
        chance scores spreads with the square root of n (LoCoMo R@10 0.748 ->
        0.755; every leave-one-conversation-out rotation chose it over the plain
        sum; benchmarks/README.md).
        """
        sizes = self._index.episode_size if self.settings.episode_length_norm else None
        return by_episode(fused, self._index.episode, sizes)

    def _expanded(
        self,
        direct: list[tuple[str, float]],
        k: int,
        scope: Scope,
        kinds: Sequence[str] | None,
        filters: dict[str, Any] | None,
    ) -> list[SearchResult]:
        """The top ``k`` after link expansion from the strongest direct hits."""
        seeds = self._store.fetch(
            [nid for nid, _ in direct[:k]], scope, kinds=kinds, filters=filters
        )
        targets = {t for stored in seeds.values() for t in stored.note.links}
        linked = self._store.visible_ids(list(targets), scope, kinds=kinds, filters=filters)
        ranked = expand_by_links(
            direct,
            lambda nid: {t: s for t, s in seeds[nid].note.links.items() if t in linked},
            k,
            protected=max(1, k // 2),
            seeds=k,
            weight=self.settings.link_expansion_weight,
        )
        notes = {nid: stored.note for nid, stored in seeds.items()}
        missing = [nid for nid, _, _ in ranked if nid not in notes]
        notes.update(
            (nid, stored.note)
            for nid, stored in self._store.fetch(
                missing, scope, kinds=kinds, filters=filters
            ).items()
        )
        return [
            SearchResult(
                note=notes[nid],
                score=score,
                found_by="link" if seed else "direct",
                linked_from=seed,
            )
            for nid, score, seed in ranked
            if nid in notes
        ]

    def _boost_named_speakers(self, query: str, fused: dict[str, float]) -> None:
        """Favour notes said by a person the query names ("What did Caroline ...").

        Dense similarity barely notices names, yet a question about one speaker
        is almost always answered by that speaker's turns.
        """
        named = {word.lower() for word in re.findall(r"\b[A-Z][a-z]+", query)}
        if not named:
            return
        for nid in fused:
            speaker = self._index.speaker(nid)
            if speaker is not None and speaker.split()[0] in named:
                fused[nid] *= 1.0 + self.settings.speaker_boost
