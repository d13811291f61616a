"""``ProceduralMemory``: learn from trajectories and recall what was learned.

The distillation rules are pure functions in :mod:`memory.procedures` (and, with a
model, :mod:`memory.procedures.llm_distill`); this component decides what to
write and writes it through the ingest pipeline (new notes) and the note writer
(merges and links), so every change has its history event. Utility feedback and
pruning live beside it in :mod:`memory.utility_ledger`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from memory.errors import InvalidInput
from memory.ingest.pipeline import IngestPipeline
from memory.mind.base import Mind, UsageMeter, structured_caller
from memory.model import Note, Scope, SearchResult, Trajectory
from memory.procedures import (
    AVOID_TAG,
    NO_HINTS,
    DistilledNote,
    Hints,
    build_profile,
    coerce_trajectory,
    distill_trajectory,
    extract_concepts,
    merged_procedure_fields,
    rank_recalled,
    same_kind,
)
from memory.procedures.boilerplate import RecurringParts, boilerplate_parts
from memory.procedures.dense_statement import query_and_vector
from memory.procedures.fusion import with_check
from memory.procedures.profile import ScopeProfile
from memory.procedures.recall import RecallQuery
from memory.reading import NoteReader
from memory.retrieve.search import HybridSearch
from memory.store.base import detached
from memory.validate import NoteInput
from memory.writer import NoteWriter

if TYPE_CHECKING:
    from memory.procedures.llm_distill import LLMDistiller

__all__ = ["LEARNED_KINDS", "ProceduralMemory", "concept_name"]

logger = logging.getLogger(__name__)

LEARNED_KINDS = ("procedure", "concept")


def concept_name(note: Note) -> str | None:
    """The name a distilled concept note bears (``None`` for other notes)."""
    distilled = note.metadata.get("distilled")
    return distilled.get("name") if isinstance(distilled, dict) else None


def _written_by_model(note: Note) -> bool:
    distilled = note.metadata.get("distilled")
    return isinstance(distilled, dict) and distilled.get("by") == "llm"


class ProceduralMemory:
    """Procedure and concept notes: learned from trajectories, recalled for tasks.

    Args:
        reader: scoped reads.
        writer: merges and links, with history.
        ingest: stores new notes (distilled notes keep their own fields).
        search: ranks the *when to use* index for recall.
        lock: the memory's lock.
        check_open: raises when the memory is closed.
        meter: where a model's distillation cost is counted.
        llm: the user's model, if any.
        mind: the memory's mind (its structured caller is shared when it has one).
        hints: optional domain vocabulary (see :class:`~memory.procedures.Hints`);
            without it everything is learned from the scope's own trajectories.
    """

    def __init__(
        self,
        *,
        reader: NoteReader,
        writer: NoteWriter,
        ingest: IngestPipeline,
        search: HybridSearch,
        lock: threading.RLock,
        check_open: Callable[[], None],
        meter: UsageMeter,
        llm: Any = None,
        mind: Mind | None = None,
        hints: Hints = NO_HINTS,
    ) -> None:
        self.hints = hints
        self._recurring = RecurringParts()  # observation boilerplate, per scope
        self._reader = reader
        self._writer = writer
        self._ingest = ingest
        self._search = search
        self._lock = lock
        self._check_open = check_open
        self._meter = meter
        self._llm = llm
        self._mind = mind
        self._distiller: LLMDistiller | None = None

    # ---- learning ----------------------------------------------------------------------------

    def learn(
        self, trajectory: Trajectory | dict[str, Any], scope: Scope, hints: Hints | None = None
    ) -> list[Note]:
        """Distil a trajectory into procedure / concept notes and store them.

        See :meth:`memory.facade.AgenticMemory.learn`.
        """
        parsed = coerce_trajectory(trajectory)
        hints = self.hints if hints is None else hints
        with self._lock:
            self._check_open()
            learned = self.learned_from(parsed.id, scope)
            if learned:
                return learned
            known = self.learned_notes(scope)
            distiller = self._llm_distiller()
            if distiller is None:
                drafts = distill_trajectory(parsed, known=known, hints=hints)
                return self._store_learned(parsed.id, drafts, scope, hints)
            related, concept_names = self._distillation_context(parsed, scope)
        # The model may take seconds to answer: other threads use the memory meanwhile.
        result = distiller.distill(
            parsed, related=related, concept_names=concept_names, known=known
        )
        with self._lock:
            self._check_open()
            self._meter.add(result.usage)
            learned = self.learned_from(parsed.id, scope)  # another thread may have won
            return learned or self._store_learned(parsed.id, result.drafts, scope, hints)

    def _llm_distiller(self) -> LLMDistiller | None:
        """The model-backed distiller (built once), or ``None`` without a model.

        It shares the LLM mind's caller when there is one, so its retries, timeout
        and structured-output mode are the ones the memory's model already uses.
        """
        caller = structured_caller(self._mind) if self._mind is not None else None
        if self._distiller is None and (self._llm is not None or caller is not None):
            from memory.llm.caller import StructuredCaller
            from memory.procedures.llm_distill import LLMDistiller

            if isinstance(caller, StructuredCaller):
                self._distiller = LLMDistiller(llm=caller, hints=self.hints)
            elif self._llm is not None:
                self._distiller = LLMDistiller(llm=self._llm, hints=self.hints)
        return self._distiller

    def _distillation_context(
        self, trajectory: Trajectory, scope: Scope
    ) -> tuple[list[Note], list[str]]:
        """Stored notes of the same task, and the stored concept names, to show the model."""
        from memory.procedures.llm_distill import related_attempts

        learned = self.learned_notes(scope)
        names = [
            name
            for n in learned
            if n.kind == "concept" and AVOID_TAG not in n.tags and (name := concept_name(n))
        ]
        return related_attempts(learned, trajectory), names

    def _store_learned(
        self, trajectory_id: str, drafts: Sequence[DistilledNote], scope: Scope, hints: Hints
    ) -> list[Note]:
        """Store a trajectory's drafts and return what it taught.

        A concept draft whose name a stored concept already bears is merged into it
        (union of sources, cues, parameters) instead of duplicated; procedures and
        avoid notes are linked to the concepts their draft names in ``uses_concepts``.
        """
        if not drafts:
            logger.info("trajectory %s yielded nothing to learn", trajectory_id)
            return []
        learned = self.learned_notes(scope)
        existing = {
            concept_name(n): n for n in learned if n.kind == "concept" and AVOID_TAG not in n.tags
        }
        concept_ids: dict[str, str] = {}
        fresh: list[DistilledNote] = []
        merged = False
        for draft in drafts:
            kin = same_kind(draft, learned)
            if kin is not None:  # a procedure of a kind already stored grows instead
                merged = True
                changes = merged_procedure_fields(kin, draft)
                checked = self._recall_check(draft, kin, learned, scope, hints)
                if checked is not None:
                    base = changes.get("metadata", kin.metadata)
                    distilled = with_check(base.get("distilled", {}), **checked)
                    changes["metadata"] = {**base, "distilled": distilled}
                if changes:
                    reason = f"same kind of task learned again from {draft.sources}"
                    self._rewrite(kin, changes, action="merge", reason=reason)
                continue
            stored = None if draft.kind != "concept" or draft.is_avoid else existing.get(draft.name)
            if stored is None:
                fresh.append(draft)
                continue
            from memory.procedures.llm_distill import merged_concept_fields

            concept_ids[draft.name] = stored.id
            changes = merged_concept_fields(stored, draft)
            if changes:
                reason = f"concept {draft.name!r} seen again in {draft.sources}"
                self._rewrite(stored, changes, action="merge", reason=reason)
        notes = self._store_drafts(fresh, scope)
        for note, draft in zip(notes, fresh, strict=True):
            if draft.kind == "concept" and not draft.is_avoid:
                concept_ids[draft.name] = note.id
        for note, draft in zip(notes, fresh, strict=True):
            for name in draft.uses_concepts:
                if concept_ids.get(name, note.id) != note.id:
                    self._writer.link_pair(
                        note.id, concept_ids[name], 1.0, f"uses concept {name!r}", "procedures"
                    )
        if merged or any(n.kind == "procedure" for n in notes):
            self._refresh_concepts(scope)
        return self.learned_from(trajectory_id, scope)

    def _recall_check(
        self, draft: DistilledNote, kin: Note, learned: list[Note], scope: Scope, hints: Hints
    ) -> dict[str, bool] | None:
        """Which ranking would have recalled ``kin`` for the task of a run of its kind
        (not stored yet): the scope's evidence for :mod:`memory.procedures.fusion`.

        ``None`` when there is nothing to choose between (one procedure) or no task.
        """
        task = draft.metadata.get("task")
        procedures = {n.id for n in learned if n.kind == "procedure" and AVOID_TAG not in n.tags}
        if not isinstance(task, str) or not task.strip() or len(procedures) < 2:
            return None
        profile, query, nearest = self._rankings(
            task, learned, scope, ["procedure"], self._ingest.embed, hints, observed=False
        )
        ranked = rank_recalled(
            task, learned, hints=hints, mode="lexical", profile=profile, query=query
        )
        lexical = next((n.id for n, score in ranked if n.id in procedures and score > 0), None)
        dense = next((i for i in nearest if i in procedures), None)
        return {"lexical": lexical == kin.id, "dense": dense == kin.id}

    def learned_notes(self, scope: Scope) -> list[Note]:
        """The procedures and concepts of exactly ``scope``, oldest first."""
        return self._reader.notes(scope, kinds=LEARNED_KINDS, exact_scope=True)

    def learned_from(self, trajectory_id: str, scope: Scope) -> list[Note]:
        """The notes of ``scope`` a trajectory taught (its id is in their sources)."""
        return [n for n in self.learned_notes(scope) if trajectory_id in n.sources]

    def _store_drafts(self, drafts: Sequence[DistilledNote], scope: Scope) -> list[Note]:
        notes = [
            draft.to_note(user_id=scope.user_id, agent_id=scope.agent_id, run_id=scope.run_id)
            for draft in drafts
        ]
        inputs = [
            NoteInput(
                content=n.content,
                timestamp=n.timestamp,
                metadata=n.metadata,
                scope=scope,
                kind=n.kind,
            )
            for n in notes
        ]
        return self._ingest.ingest(inputs, prepared=notes)

    def _refresh_concepts(self, scope: Scope) -> None:
        """Re-derive the shared sub-routines of the scope's procedures.

        A concept that already exists (same name) gains the new sources instead of
        being duplicated; each procedure is linked to the concepts it uses.
        """
        learned = self.learned_notes(scope)
        procedures = {n.id: n for n in learned if n.kind == "procedure"}
        extraction = extract_concepts(procedures)
        existing = {concept_name(n): n for n in learned if n.kind == "concept"}
        concept_ids: dict[str, str] = {}
        fresh: list[DistilledNote] = []
        for concept in extraction.concepts:
            stored = existing.get(concept.name)
            if stored is None:
                fresh.append(concept)
                continue
            concept_ids[concept.name] = stored.id
            new_sources = [s for s in concept.sources if s not in stored.sources]
            if new_sources:
                changes: dict[str, Any] = {"sources": [*stored.sources, *new_sources]}
                if not _written_by_model(stored):
                    # The rules re-aggregate their own text, never a model's description.
                    changes["content"] = concept.content
                self._rewrite(
                    stored,
                    changes,
                    action="merge",
                    reason=f"concept {concept.name!r} seen again in {new_sources}",
                )
        for note in self._store_drafts(fresh, scope):
            concept_ids[concept_name(note) or ""] = note.id
        for procedure_id, names in extraction.uses.items():
            for name in names:
                if name in concept_ids:
                    self._writer.link_pair(
                        procedure_id,
                        concept_ids[name],
                        1.0,
                        f"uses concept {name!r}",
                        "procedures",
                    )

    def _rewrite(self, note: Note, changes: dict[str, Any], *, action: str, reason: str) -> Note:
        """Replace fields of a stored note (re-embedded when its indexed text changes)."""
        stored = self._reader.fetch_one(note.id, Scope())
        return self._writer.revise(
            [(stored, changes)],
            action=action,  # type: ignore[arg-type]
            reason=reason,
            actor="procedures",
        )[0]

    # ---- recall ------------------------------------------------------------------------------

    def recall(
        self,
        task: str,
        k: int,
        scope: Scope,
        kinds: Sequence[str],
        embed: Callable[[Sequence[str]], Any],
        hints: Hints | None = None,
    ) -> list[SearchResult]:
        """Procedures and concepts for a new task, most relevant first, then most useful.

        ``task`` may be a bare task or a whole agent observation: the sentence that
        best matches the scope's keys leads, and words the scope's procedures used
        as arguments weigh little (:mod:`memory.procedures.recall`). Notes of one key
        are ordered by measured utility; concepts come when no procedure fits. The
        statement is also embedded (``embed``) and compared with the tasks the notes
        were learned from; how that dense ranking and the lexical one combine is
        decided by the scope's own checks (:mod:`memory.procedures.fusion`).
        """
        if not kinds or any(kind not in LEARNED_KINDS for kind in kinds):
            raise InvalidInput(f"recall kinds must be among {LEARNED_KINDS}")
        hints = self.hints if hints is None else hints
        with self._lock:
            self._check_open()
            # Ranking only reads the pool: the store's cached notes, uncopied; the
            # few returned are copied below, so a caller cannot change the cache.
            pool = self._reader.notes(scope, kinds=list(kinds), read_only=True)
        if not pool:
            return []
        profile, query, dense = self._rankings(task, pool, scope, kinds, embed, hints)
        ranked = rank_recalled(task, pool, dense=dense, hints=hints, profile=profile, query=query)
        return [SearchResult(note=detached(note), score=score) for note, score in ranked[:k]]

    def _rankings(
        self,
        task: str,
        pool: list[Note],
        scope: Scope,
        kinds: Sequence[str],
        embed: Callable[[Sequence[str]], Any],
        hints: Hints,
        *,
        observed: bool = True,
    ) -> tuple[ScopeProfile, RecallQuery, list[str]]:
        """The scope's profile, the lexical query and the dense ranking of ``pool``;
        ``observed``: ``task`` is an agent's observation, not a stored task checked."""
        profile = build_profile(pool, hints=hints)
        boilerplate = self.boilerplate(task, scope, profile) if observed else set()
        similar = partial(self._best_similarity, scope) if observed else None
        query, vector = query_and_vector(task, profile, boilerplate, embed, similar, hints=hints)
        with self._lock:
            self._check_open()
            dense = self._search.nearest_ids(vector, len(pool), scope, kinds=kinds)
        return profile, query, dense

    def _best_similarity(self, scope: Scope, vectors: Any) -> list[float]:
        with self._lock:
            self._check_open()
            return self._search.best_similarity(vectors, scope, kinds=["procedure"])

    def boilerplate(self, observation: str, scope: Scope, profile: ScopeProfile) -> set[int]:
        """Count ``observation`` for ``scope``; the indexes of its boilerplate parts."""
        return boilerplate_parts(observation, self._recurring, scope, profile.task_parts)
