"""Reading and searching notes (mixed into :class:`~memory.facade.AgenticMemory`).

Search is hybrid: dense (Chroma, cosine) and BM25 (:mod:`memory.retrieve.lexical`)
rankings fused by reciprocal rank, optionally a speaker boost, then link expansion
that adds linked notes without pushing the strongest direct hits out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from memory.errors import NotFound
from memory.model import Event, Note, Scope, SearchResult
from memory.retrieve.fusion import (
    expand_by_links,
    reciprocal_rank_fusion,
    thread_context_scores,
)
from memory.store import StoredNote
from memory.supersede import current_first
from memory.validate import validate_content, validate_k, validate_note_id, validate_scope

if TYPE_CHECKING:
    from memory.facade import AgenticMemory

__all__ = ["ReadingMethods"]


class ReadingMethods:
    """get, neighbors, history, count, notes and search."""

    # ---- reading ---------------------------------------------------------------------------

    def _fetch_one(
        self: AgenticMemory, note_id: Any, scope: Scope, *, with_vectors: bool = False
    ) -> StoredNote:
        note_id = validate_note_id(note_id)
        found = self._store.fetch([note_id], scope, with_vectors=with_vectors, with_history=True)
        if note_id not in found:
            raise NotFound(note_id)
        return found[note_id]

    def get(
        self: AgenticMemory,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Note:
        """The note with this id, if it is visible in the given scope.

        Raises:
            NotFound: no such note in this scope.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            return self._fetch_one(note_id, scope).note

    def neighbors(
        self: AgenticMemory,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        include_thread: bool = False,
    ) -> list[Note]:
        """The notes linked to ``note_id`` (related ones), strongest link first.

        Args:
            include_thread: also the previous and next turn of its conversation
                thread (``follows``), after the links, when they are not linked
                anyway -- the thread is order, not relatedness.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            note = self._fetch_one(note_id, scope).note
            order = sorted(note.links, key=lambda target: -note.links[target])
            if include_thread:
                thread = self._store.thread_neighbours([note.id], scope).get(note.id, ())
                order += [t for t in thread if t is not None and t not in note.links]
            linked = self._store.fetch(order, scope)
            return [linked[target].note for target in order if target in linked]

    def history(
        self: AgenticMemory,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Event]:
        """Every change of the note, oldest first (also after it was deleted)."""
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            note_id = validate_note_id(note_id)
            found = self._store.fetch([note_id], scope, with_history=True)
            stored = found.get(note_id) or self._store.tombstone(note_id)
            if stored is None or not scope.admits(stored.note.scope):
                raise NotFound(note_id)
            return stored.history

    def count(
        self: AgenticMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """How many notes are visible in the scope."""
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            if scope.is_unscoped:
                return self._store.count()
            return len(self._store.matching_ids(scope))

    def notes(
        self: AgenticMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[Note]:
        """Every note visible in the scope (optionally of ``kinds`` / matching ``filters``)."""
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            ids = self._store.matching_ids(scope, kinds=kinds, filters=filters)
            found = self._store.fetch(sorted(ids), scope)
            return sorted((s.note for s in found.values()), key=lambda n: n.created_at)

    # ---- searching -------------------------------------------------------------------------

    def search(
        self: AgenticMemory,
        query: str,
        k: int = 5,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        expand_links: bool = False,
        rewrite: bool | None = None,
        include_superseded: bool = True,
    ) -> list[SearchResult]:
        """Hybrid search: dense + BM25 fused by reciprocal rank, then link expansion.

        Args:
            query: what to look for.
            k: how many results.
            user_id: only notes of this user (likewise ``agent_id``, ``run_id``).
            kinds: only these kinds ("episodic", "concept", "procedure").
            filters: conditions on your metadata, e.g. ``{"dia_id": "D5:4"}`` or
                ``{"turn": {"$gte": 3}}``.
            expand_links: add notes linked to the top hits (never displacing the
                first k/2 direct hits). Off by default: on LoCoMo it cost recall
                (README, "What the benchmark kept").
            rewrite: let the LLM rewrite the query first (default: the memory's
                ``rewrite_queries`` setting; no effect without an LLM).
            include_superseded: keep notes a newer note updated (ranked right
                below their current version, which is pulled up beside them);
                ``False`` drops them.

        Returns:
            Up to ``k`` results, best first.
        """
        query = validate_content(query, max_chars=self.max_content_chars, what="query")
        k = validate_k(k)
        scope = validate_scope(user_id, agent_id, run_id)
        if (self.rewrite_queries if rewrite is None else rewrite) and hasattr(
            self.mind, "rewrite_query"
        ):
            query = self.mind.rewrite_query(query)
        vector = self._embed([query])
        with self._lock:
            self._check_open()
            return self._search_vector(
                query, vector, k, scope, kinds, filters, expand_links, include_superseded
            )

    def _search_vector(
        self: AgenticMemory,
        query: str,
        vector: np.ndarray,
        k: int,
        scope: Scope,
        kinds: Sequence[str] | None,
        filters: dict[str, Any] | None,
        expand_links: bool,
        include_superseded: bool = True,
    ) -> list[SearchResult]:
        """Rank in four steps: fuse, boost named speakers, thread context, link expansion.

        Ranking works on ids (the store answers visibility and thread questions
        from memory when it can); only the notes returned are read in full.
        The weights are the ones ``benchmarks/locomo_retrieval.py`` measured best
        (README, "What the benchmark kept").
        """
        pool = max(50, 4 * k)
        dense = self._store.nearest(vector, scope, pool, kinds=kinds, filters=filters)[0]
        allowed = self._store.matching_ids(scope, kinds=kinds, filters=filters) if filters else None
        lexical = self._index.search(query, pool, scope=scope, kinds=kinds, allowed=allowed)
        fused = reciprocal_rank_fusion(
            [[nid for nid, _ in dense], [nid for nid, _ in lexical]], k=self.rrf_k
        )
        if self.speaker_boost:
            self._boost_named_speakers(query, fused)
        threads = self._store.thread_neighbours(list(fused), scope, kinds=kinds, filters=filters)
        fused = {nid: score for nid, score in fused.items() if nid in threads}
        scored = thread_context_scores(
            fused, threads, before=self.thread_weights[0], after=self.thread_weights[1]
        )
        direct = sorted(scored.items(), key=lambda item: -item[1])
        fetched: dict[str, StoredNote] = {}

        def fetch(ids: Sequence[str]) -> dict[str, StoredNote]:
            missing = [nid for nid in ids if nid not in fetched]
            if missing:
                fetched.update(self._store.fetch(missing, scope, kinds=kinds, filters=filters))
            return {nid: fetched[nid] for nid in ids if nid in fetched}

        # Updated facts: the current version goes right above the one it replaces.
        # The window is the top k, which is fetched anyway (successors cost a
        # lookup only when a shown note is superseded).
        window = k
        reordered = current_first(
            direct[:window],
            lambda ids: {nid: stored.note.superseded_by for nid, stored in fetch(ids).items()},
            include_superseded=include_superseded,
        )
        placed = {nid for nid, _ in reordered}
        direct = reordered + [item for item in direct[window:] if item[0] not in placed]
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

    def _expanded(
        self: AgenticMemory,
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
            weight=self.link_expansion_weight,
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

    def _boost_named_speakers(self: AgenticMemory, query: str, fused: dict[str, float]) -> None:
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
                fused[nid] *= 1.0 + self.speaker_boost
