"""``UtilityLedger``: feedback counts what notes were worth; pruning acts on it.

The utility rules are pure functions in :mod:`memory.procedures.utility`
(``prune_decisions``, ``near_duplicates``, ``merge_notes``); this component
reads the notes, applies the decisions through the note writer (every removal
and merge is a history event) and runs ``prune`` every ``auto_prune_every``
feedback calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from memory.errors import NotFound
from memory.model import Note, Scope
from memory.procedural import LEARNED_KINDS, ProceduralMemory
from memory.procedures import (
    dedup_signature,
    merge_notes,
    near_duplicates,
    prune_decisions,
    retired_lead,
    utility_score,
)
from memory.procedures.draft import render_procedure
from memory.reading import NoteReader
from memory.store.base import NoteStore, StoredNote
from memory.writer import NoteWriter

__all__ = ["PruneSettings", "Removal", "UtilityLedger"]

_MERGED_FIELDS = ("sources", "keywords", "tags", "retrieved_count", "success_count", "pinned")


class Removal(BaseModel):
    """A note ``prune()`` removed, and why."""

    note_id: str
    kind: str
    content: str
    reason: str
    merged_into: str | None = None
    kept: bool = False
    """The note stays: only its leading steps (learned from ``sources``) were
    retired, and the steps other runs of its kind used lead now."""
    sources: list[str] = []
    """The trajectories whose steps were removed (all of the note's when not ``kept``)."""


@dataclass
class PruneSettings:
    """When a note is judged, the success ratio it must keep, and automatic pruning
    (defaults: ``AgenticMemory``'s constructor)."""

    min_uses: int
    min_ratio: float
    auto_prune_every: int | None


class UtilityLedger:
    """Feedback statistics and utility-based pruning.

    Args:
        store: the note store.
        reader: scoped reads.
        writer: changes with history.
        procedural: the learned notes of a scope.
        settings: pruning thresholds (read on every call).
        lock: the memory's lock.
        check_open: raises when the memory is closed.
    """

    def __init__(
        self,
        *,
        store: NoteStore,
        reader: NoteReader,
        writer: NoteWriter,
        procedural: ProceduralMemory,
        settings: PruneSettings,
        lock: threading.RLock,
        check_open: Callable[[], None],
    ) -> None:
        self._store = store
        self._reader = reader
        self._writer = writer
        self._procedural = procedural
        self.settings = settings
        self._lock = lock
        self._check_open = check_open
        self._feedback_calls = 0

    def feedback(self, note_ids: Sequence[str], success: bool, scope: Scope) -> list[Note]:
        """Count one use (and a success) for each note; validated ids, one write.

        Raises:
            NotFound: an id is unknown in this scope (nothing recorded).
        """
        with self._lock:
            self._check_open()
            unique = list(dict.fromkeys(note_ids))
            found = self._store.fetch(unique, scope, with_history=True)
            for note_id in unique:
                if note_id not in found:
                    raise NotFound(note_id)
            changes = [
                (
                    found[note_id],
                    {
                        "retrieved_count": found[note_id].note.retrieved_count + 1,
                        "success_count": found[note_id].note.success_count + int(success),
                    },
                )
                for note_id in unique
            ]
            reason = "task succeeded" if success else "task failed"
            notes = self._writer.revise(changes, action="feedback", reason=reason)
            self._feedback_calls += 1
            every = self.settings.auto_prune_every
            if every and self._feedback_calls % every == 0:
                self.prune(scope)
            return notes

    def prune(
        self,
        scope: Scope,
        *,
        min_uses: int | None = None,
        min_ratio: float | None = None,
        merge_duplicates: bool = True,
    ) -> list[Removal]:
        """Remove notes of low measured utility, then merge near-duplicates."""
        with self._lock:
            self._check_open()
            found = self._store.fetch(sorted(self._store.matching_ids(scope)), scope)
            judged = [s.note for s in found.values() if s.note.retrieved_count > 0]
            removals: list[Removal] = []
            for decision in prune_decisions(
                judged,
                min_uses=self.settings.min_uses if min_uses is None else min_uses,
                min_ratio=self.settings.min_ratio if min_ratio is None else min_ratio,
            ):
                stored = self._reader.fetch_one(decision.note_id, Scope())
                removals.append(
                    self._retire_lead(stored, decision.reason)
                    or self._remove(stored, decision.reason)
                )
            if merge_duplicates:
                removals += self._merge_duplicates(scope)
            return removals

    def _remove(self, stored: StoredNote, reason: str) -> Removal:
        note = self._writer.delete(stored, reason=reason, action="prune")
        return Removal(
            note_id=note.id,
            kind=note.kind,
            content=note.content,
            reason=reason,
            sources=note.sources,
        )

    def _retire_lead(self, stored: StoredNote, reason: str) -> Removal | None:
        """Retire a merged procedure's failing leading steps; ``None`` when it has no
        variant to take over (see :mod:`memory.procedures.variants`)."""
        note = stored.note
        promoted = retired_lead(note, reason=reason)
        if promoted is None:
            return None
        retired = promoted["retired"][-1]["sources"]
        changes = {
            "metadata": {**note.metadata, "distilled": promoted},
            "content": render_procedure(promoted),
            # The counts measured the retired steps: the new lead is judged afresh.
            "retrieved_count": 0,
            "success_count": 0,
        }
        leading = promoted["lead_sources"]
        why = f"{reason}; steps learned from {retired} retired, steps from {leading} lead now"
        self._writer.revise([(stored, changes)], action="prune", reason=why, actor="procedures")
        return Removal(
            note_id=note.id,
            kind=note.kind,
            content=note.content,
            reason=why,
            kept=True,
            sources=retired,
        )

    def _merge_duplicates(self, scope: Scope) -> list[Removal]:
        removals: list[Removal] = []
        learned = self._procedural.learned_notes(scope)
        for group_scope in {n.scope for n in learned}:
            for kind in LEARNED_KINDS:
                pool = [n for n in learned if n.scope == group_scope and n.kind == kind]
                pool.sort(key=lambda n: -utility_score(n))
                by_id = {n.id: n for n in pool}
                for group in near_duplicates({n.id: dedup_signature(n) for n in pool}):
                    leader, rest = by_id[group[0]], [by_id[i] for i in group[1:]]
                    removals += self._merge(leader, rest)
        return removals

    def _merge(self, leader: Note, rest: list[Note]) -> list[Removal]:
        """Fold ``rest`` into ``leader``: delete them, then give it their sum."""
        merged = merge_notes(leader, rest)
        removals = []
        for other in rest:
            reason = f"merged into {leader.id} (near-duplicate)"
            self._writer.delete(
                self._reader.fetch_one(other.id, Scope()), reason=reason, action="merge"
            )
            removals.append(
                Removal(
                    note_id=other.id,
                    kind=other.kind,
                    content=other.content,
                    reason=reason,
                    merged_into=leader.id,
                )
            )
        current = self._reader.fetch_one(leader.id, Scope())
        changes = {
            key: getattr(merged, key)
            for key in _MERGED_FIELDS
            if getattr(merged, key) != getattr(current.note, key)
        }
        if changes:
            self._writer.revise(
                [(current, changes)],
                action="merge",
                reason=f"absorbed {[o.id for o in rest]}",
                actor="procedures",
            )
        return removals
