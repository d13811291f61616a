"""Procedural memory on the facade: learn, recall, feedback, prune.

Mixed into :class:`~memory.facade.AgenticMemory`. The distillation and the
utility rules are pure functions in :mod:`memory.procedures`; this module only
decides what to write, writes it through the facade's store path, and records
every change in history.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from memory.errors import InvalidInput, NotFound
from memory.model import Event, Note, Scope, SearchResult, Trajectory, utc_now
from memory.procedures import (
    AVOID_TAG,
    NO_HINTS,
    DistilledNote,
    Hints,
    build_profile,
    coerce_trajectory,
    dedup_signature,
    distill_trajectory,
    extract_concepts,
    merge_notes,
    merged_procedure_fields,
    near_duplicates,
    prune_decisions,
    rank_recalled,
    recall_query,
    same_kind,
    utility_score,
)
from memory.retrieve.indexed import index_text
from memory.validate import (
    NoteInput,
    validate_content,
    validate_k,
    validate_note_id,
    validate_scope,
)

if TYPE_CHECKING:
    from memory.facade import AgenticMemory
    from memory.mind.base import Usage
    from memory.procedures.llm_distill import LLMDistiller

__all__ = ["ProceduralMemory", "Removal"]

logger = logging.getLogger(__name__)

_LEARNED_KINDS = ("procedure", "concept")


class Removal(BaseModel):
    """A note ``prune()`` removed, and why."""

    note_id: str
    kind: str
    content: str
    reason: str
    merged_into: str | None = None


def _concept_name(note: Note) -> str | None:
    distilled = note.metadata.get("distilled")
    return distilled.get("name") if isinstance(distilled, dict) else None


def _written_by_model(note: Note) -> bool:
    distilled = note.metadata.get("distilled")
    return isinstance(distilled, dict) and distilled.get("by") == "llm"


class ProceduralMemory:
    """Learn from trajectories, recall for new tasks, measure and prune by utility."""

    prune_min_uses: int = 5
    prune_min_ratio: float = 0.5
    auto_prune_every: int | None = None
    _feedback_calls: int = 0
    usage: Usage  # the facade's running LLM cost; learn() adds distillation to it
    procedure_hints: Hints = NO_HINTS  # optional user vocabulary / synonyms (see Hints)
    _distiller: LLMDistiller | None = None

    # ---- learning ----------------------------------------------------------------------------

    def learn(
        self: AgenticMemory,
        trajectory: Trajectory | dict[str, Any],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        hints: Hints | None = None,
    ) -> list[Note]:
        """Distil a trajectory into procedure / concept notes and store them.

        A success yields a procedure keyed by *when to use* (the task generalised);
        a failure yields an "avoid" concept when the steps show what went wrong.
        Sub-routines shared by several procedures become concept notes (merged by
        name, never duplicated) linked to the procedures that use them. Learning
        the same trajectory id twice returns the notes already learned.

        With a model (``llm=``), the model writes these notes in one structured call
        made outside the memory's lock, shown the stored notes of the same task to
        compare outcomes; its concepts merge into stored ones of the same name. When
        it gives no usable reply, the offline rules distil instead. Its cost is added
        to ``usage``.

        A success of a kind already stored (same key and steps, see
        ``memory.procedures.merging``) is merged into that procedure: its sources
        and step variants grow, no second note is made. ``hints`` (default
        ``procedure_hints``) is optional domain vocabulary; without it everything
        is learned from the scope's own trajectories.

        Returns:
            The notes distilled from this trajectory; each lists its id in ``sources``.

        Raises:
            InvalidTrajectory: malformed trajectory (nothing stored).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        parsed = coerce_trajectory(trajectory)
        hints = self.procedure_hints if hints is None else hints
        with self._lock:
            self._check_open()
            learned = self._learned_from(parsed.id, scope)
            if learned:
                return learned
            distiller = self._llm_distiller()
            if distiller is None:
                known = self._learned_notes(scope)
                drafts = distill_trajectory(parsed, known=known, hints=hints)
                return self._store_learned(parsed.id, drafts, scope)
            related, concept_names = self._distillation_context(parsed, scope)
            known = self._learned_notes(scope)
        # The model may take seconds to answer: other threads use the memory meanwhile.
        result = distiller.distill(
            parsed, related=related, concept_names=concept_names, known=known
        )
        with self._lock:
            self._check_open()
            self.usage = self.usage + result.usage
            learned = self._learned_from(parsed.id, scope)  # another thread may have won
            return learned or self._store_learned(parsed.id, result.drafts, scope)

    def _llm_distiller(self: AgenticMemory) -> LLMDistiller | None:
        """The model-backed distiller (built once), or ``None`` without a model.

        It shares the LLM mind's caller when there is one, so its retries, timeout
        and structured-output mode are the ones the memory's model already uses.
        """
        if self._distiller is None and (self._llm is not None or hasattr(self.mind, "caller")):
            from memory.mind.llm.caller import StructuredCaller
            from memory.procedures.llm_distill import LLMDistiller

            caller = getattr(self.mind, "caller", None)
            if isinstance(caller, StructuredCaller):
                self._distiller = LLMDistiller(llm=caller, hints=self.procedure_hints)
            elif self._llm is not None:
                self._distiller = LLMDistiller(llm=self._llm, hints=self.procedure_hints)
        return self._distiller

    def _distillation_context(
        self: AgenticMemory, trajectory: Trajectory, scope: Scope
    ) -> tuple[list[Note], list[str]]:
        """Stored notes of the same task, and the stored concept names, to show the model."""
        from memory.procedures.llm_distill import related_attempts

        learned = self._learned_notes(scope)
        names = [
            name
            for n in learned
            if n.kind == "concept" and AVOID_TAG not in n.tags and (name := _concept_name(n))
        ]
        return related_attempts(learned, trajectory), names

    def _store_learned(
        self: AgenticMemory, trajectory_id: str, drafts: Sequence[DistilledNote], scope: Scope
    ) -> list[Note]:
        """Store a trajectory's drafts and return what it taught.

        A concept draft whose name a stored concept already bears is merged into it
        (union of sources, cues, parameters) instead of duplicated; procedures and
        avoid notes are linked to the concepts their draft names in ``uses_concepts``.
        """
        if not drafts:
            logger.info("trajectory %s yielded nothing to learn", trajectory_id)
            return []
        learned = self._learned_notes(scope)
        existing = {
            _concept_name(n): n for n in learned if n.kind == "concept" and AVOID_TAG not in n.tags
        }
        concept_ids: dict[str, str] = {}
        fresh: list[DistilledNote] = []
        merged = False
        for draft in drafts:
            kin = same_kind(draft, learned)
            if kin is not None:  # a procedure of a kind already stored grows instead
                merged = True
                changes = merged_procedure_fields(kin, draft)
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
                    self._link_pair(note.id, concept_ids[name], 1.0, f"uses concept {name!r}")
        if merged or any(n.kind == "procedure" for n in notes):
            self._refresh_concepts(scope)
        return self._learned_from(trajectory_id, scope)

    def _learned_notes(self: AgenticMemory, scope: Scope) -> list[Note]:
        ids = self._store.matching_ids(scope, kinds=_LEARNED_KINDS)
        found = self._store.fetch(sorted(ids), scope, exact_scope=True)
        return sorted((s.note for s in found.values()), key=lambda n: n.created_at)

    def _learned_from(self: AgenticMemory, trajectory_id: str, scope: Scope) -> list[Note]:
        return [n for n in self._learned_notes(scope) if trajectory_id in n.sources]

    def _store_drafts(
        self: AgenticMemory, drafts: Sequence[DistilledNote], scope: Scope
    ) -> list[Note]:
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
        return self._ingest(inputs, prepared=notes)

    def _refresh_concepts(self: AgenticMemory, scope: Scope) -> None:
        """Re-derive the shared sub-routines of the scope's procedures.

        A concept that already exists (same name) gains the new sources instead of
        being duplicated; each procedure is linked to the concepts it uses.
        """
        learned = self._learned_notes(scope)
        procedures = {n.id: n for n in learned if n.kind == "procedure"}
        extraction = extract_concepts(procedures)
        existing = {_concept_name(n): n for n in learned if n.kind == "concept"}
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
            concept_ids[_concept_name(note) or ""] = note.id
        for procedure_id, names in extraction.uses.items():
            for name in names:
                if name in concept_ids:
                    self._link_pair(procedure_id, concept_ids[name], 1.0, f"uses concept {name!r}")

    def _link_pair(self: AgenticMemory, a: str, b: str, strength: float, reason: str) -> None:
        """Link two notes of one scope (both sides, each with a history event)."""
        found = self._store.fetch([a, b], Scope(), with_history=True)
        if len(found) != 2 or found[a].note.links.get(b) == strength:
            return
        if found[a].note.scope != found[b].note.scope:
            raise InvalidInput("links never cross scopes")
        records = []
        for this, other in ((a, b), (b, a)):
            stored = found[this]
            note = stored.note.model_copy(
                update={"links": {**stored.note.links, other: strength}, "updated_at": utc_now()}
            )
            event = Event(
                note_id=this,
                action="link",
                after={"link": other, "strength": strength},
                reason=reason,
                actor="procedures",
            )
            records.append((note, None, stored.log.plus(event)))
        self._store.write(records, {a: found[a].note, b: found[b].note})

    def _rewrite(
        self: AgenticMemory, note: Note, changes: dict[str, Any], *, action: str, reason: str
    ) -> Note:
        """Replace fields of a stored note, re-embedding when its indexed text changes."""
        stored = self._store.fetch([note.id], Scope(), with_history=True)[note.id]
        updated = stored.note.model_copy(update={**changes, "updated_at": utc_now()})
        event = Event(
            note_id=note.id,
            action=action,  # type: ignore[arg-type]
            before=stored.note.model_dump(mode="json", include=set(changes)),
            after=updated.model_dump(mode="json", include=set(changes)),
            reason=reason,
            actor="procedures",
        )
        vector = None
        if index_text(updated) != index_text(stored.note):
            vector = self._embed([index_text(updated)])[0]
            self._index.upsert([(updated.id, index_text(updated), updated.scope, updated.kind)])
        self._store.write([(updated, vector, stored.log.plus(event))], {note.id: stored.note})
        return updated

    # ---- recall ------------------------------------------------------------------------------

    def recall(
        self: AgenticMemory,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] = _LEARNED_KINDS,
        hints: Hints | None = None,
    ) -> list[SearchResult]:
        """Procedures and concepts for a new task, most relevant first, then most useful.

        ``task`` may be a bare task or a whole agent observation: the sentence that
        best matches the scope's keys leads, and words the scope's procedures used
        as arguments weigh little (``memory.procedures.recall``). Notes of one key
        are ordered by measured utility; concepts come when no procedure fits.
        """
        task = validate_content(task, max_chars=self.max_content_chars, what="task")
        k = validate_k(k)
        scope = validate_scope(user_id, agent_id, run_id)
        if not kinds or any(kind not in _LEARNED_KINDS for kind in kinds):
            raise InvalidInput(f"recall kinds must be among {_LEARNED_KINDS}")
        hints = self.procedure_hints if hints is None else hints
        with self._lock:
            self._check_open()
            ids = self._store.matching_ids(scope, kinds=list(kinds))
            pool = [s.note for s in self._store.fetch(sorted(ids), scope, kinds=kinds).values()]
        if not pool:
            return []
        key = recall_query(task, build_profile(pool, hints=hints), hints=hints).key or task
        vector = self._embed([key])
        with self._lock:
            self._check_open()
            hits = self._search_vector(key, vector, max(k, 10), scope, kinds, None, False)
        ranked = rank_recalled(task, pool, dense=[h.note.id for h in hits], hints=hints)
        return [SearchResult(note=note, score=score) for note, score in ranked[:k]]

    def recall_text(
        self: AgenticMemory,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        max_chars: int = 1_500,
    ) -> str:
        """The recalled notes rendered for a prompt: short, most useful first."""
        hits = self.recall(task, k, user_id=user_id, agent_id=agent_id, run_id=run_id)
        if not hits:
            return ""
        lines = ["Lessons from past tasks (most useful first):"]
        for number, hit in enumerate(hits, start=1):
            label = "avoid" if "avoid" in hit.note.tags else hit.note.kind
            lines.append(f"{number}. [{label}] {hit.note.content.strip()}")
        text = "\n".join(lines)
        return text if len(text) <= max_chars else text[: max_chars - 3].rstrip() + "..."

    # ---- utility -----------------------------------------------------------------------------

    def feedback(
        self: AgenticMemory,
        note_ids: Sequence[str],
        success: bool,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Note]:
        """Record that these notes were used for a task and whether it succeeded.

        Pass the notes the agent actually used (crediting every recalled note lets
        misleading notes ride on good ones: see benchmarks/utility_simulation.py).

        Raises:
            NotFound: an id is unknown in this scope (nothing recorded).
        """
        if isinstance(note_ids, str) or not isinstance(note_ids, Sequence):
            raise InvalidInput("note_ids must be a list of note ids")
        for note_id in note_ids:
            validate_note_id(note_id)
        if not isinstance(success, bool):
            raise InvalidInput("success must be a bool")
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            unique = list(dict.fromkeys(note_ids))
            found = self._store.fetch(unique, scope, with_history=True)
            for note_id in unique:
                if note_id not in found:
                    raise NotFound(note_id)
            records = []
            for note_id in unique:
                stored = found[note_id]
                note = stored.note.model_copy(
                    update={
                        "retrieved_count": stored.note.retrieved_count + 1,
                        "success_count": stored.note.success_count + int(success),
                        "updated_at": utc_now(),
                    }
                )
                event = Event(
                    note_id=note_id,
                    action="feedback",
                    before={
                        k: getattr(stored.note, k) for k in ("retrieved_count", "success_count")
                    },
                    after={k: getattr(note, k) for k in ("retrieved_count", "success_count")},
                    reason="task succeeded" if success else "task failed",
                )
                records.append((note, None, stored.log.plus(event)))
            self._store.write(records, {n: found[n].note for n in unique})
            self._feedback_calls += 1
            every = self.auto_prune_every
            if every and self._feedback_calls % every == 0:
                self.prune(user_id=user_id, agent_id=agent_id, run_id=run_id)
            return [r[0] for r in records]

    def prune(
        self: AgenticMemory,
        *,
        min_uses: int | None = None,
        min_ratio: float | None = None,
        merge_duplicates: bool = True,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Removal]:
        """Remove notes whose measured utility is too low, and merge near-duplicates.

        A note is removed when it was reported (``feedback``) at least
        ``min_uses`` times and its success ratio is below ``min_ratio`` (defaults
        5 and 0.5); pinned notes never are. Near-duplicate procedures / concepts
        of one scope are merged into the most useful one, which keeps the union
        of their sources and their summed statistics. Every removal is a history
        event.

        Returns:
            What was removed, with the reason.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            notes = self._candidates_for_pruning(scope)
            removals: list[Removal] = []
            for decision in prune_decisions(
                notes,
                min_uses=self.prune_min_uses if min_uses is None else min_uses,
                min_ratio=self.prune_min_ratio if min_ratio is None else min_ratio,
            ):
                note = self.delete(decision.note_id, reason=decision.reason, action="prune")
                removals.append(
                    Removal(
                        note_id=note.id,
                        kind=note.kind,
                        content=note.content,
                        reason=decision.reason,
                    )
                )
            if merge_duplicates:
                removals += self._merge_duplicates(scope)
            return removals

    def _candidates_for_pruning(self: AgenticMemory, scope: Scope) -> list[Note]:
        found = self._store.fetch(sorted(self._store.matching_ids(scope)), scope)
        return [s.note for s in found.values() if s.note.retrieved_count > 0]

    def _merge_duplicates(self: AgenticMemory, scope: Scope) -> list[Removal]:
        removals: list[Removal] = []
        learned = self._learned_notes(scope)
        for group_scope in {n.scope for n in learned}:
            for kind in _LEARNED_KINDS:
                pool = [n for n in learned if n.scope == group_scope and n.kind == kind]
                pool.sort(key=lambda n: -utility_score(n))
                by_id = {n.id: n for n in pool}
                for group in near_duplicates({n.id: dedup_signature(n) for n in pool}):
                    leader, rest = by_id[group[0]], [by_id[i] for i in group[1:]]
                    merged = merge_notes(leader, rest)
                    for other in rest:
                        reason = f"merged into {leader.id} (near-duplicate)"
                        self.delete(other.id, reason=reason, action="merge")
                        removals.append(
                            Removal(
                                note_id=other.id,
                                kind=other.kind,
                                content=other.content,
                                reason=reason,
                                merged_into=leader.id,
                            )
                        )
                    current = self._store.fetch([leader.id], Scope())[leader.id].note
                    changes = {
                        key: getattr(merged, key)
                        for key in (
                            "sources",
                            "keywords",
                            "tags",
                            "retrieved_count",
                            "success_count",
                            "pinned",
                        )
                        if getattr(merged, key) != getattr(current, key)
                    }
                    if changes:
                        self._rewrite(
                            current,
                            changes,
                            action="merge",
                            reason=f"absorbed {[o.id for o in rest]}",
                        )
        return removals
