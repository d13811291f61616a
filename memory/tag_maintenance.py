"""Tag vocabulary maintenance (mixed into :class:`~memory.facade.AgenticMemory`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from memory.mind.vocabulary import TagRevision, revise_tags
from memory.model import Event, Note, Scope, utc_now
from memory.retrieve.indexed import lexical_text
from memory.validate import validate_scope

if TYPE_CHECKING:
    from memory.facade import AgenticMemory

__all__ = ["TagMaintenanceMethods"]


class TagMaintenanceMethods:
    """revise_tags: merge tags that mean the same, split tags that hold two subjects."""

    def revise_tags(
        self: AgenticMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[TagRevision]:
        """Retag the notes of every scope visible here whose tag vocabulary drifted.

        Each exact scope is revised on its own (vocabularies never mix); every
        retagged note gets an ``evolve`` event with the tags before and after and
        the reason (:mod:`memory.mind.vocabulary`).

        Returns:
            The revisions written.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        tagger = self._heuristic.tagger
        with self._lock:
            self._check_open()
            ids = self._store.matching_ids(scope, kinds=["episodic"])
            found = self._store.fetch(sorted(ids), scope, with_vectors=True, with_history=True)
            scopes: dict[Scope, list[Note]] = {}
            for stored in found.values():
                scopes.setdefault(stored.note.scope, []).append(stored.note)
            vectors = {nid: s.vector for nid, s in found.items() if s.vector is not None}
            revisions: list[TagRevision] = []
            for notes in scopes.values():
                notes.sort(key=lambda n: n.created_at)
                revisions += revise_tags(notes, vectors, threshold=tagger.threshold)
            records = []
            for revision in revisions:
                stored = found[revision.note_id]
                before = stored.note.tags
                after = list(
                    dict.fromkeys(revision.new if t == revision.old else t for t in before)
                )
                note = stored.note.model_copy(update={"tags": after, "updated_at": utc_now()})
                event = Event(
                    note_id=note.id,
                    action="evolve",
                    before={"tags": before},
                    after={"tags": after},
                    reason=revision.reason,
                    actor="tag-vocabulary",
                )
                records.append((note, None, stored.log.plus(event)))
                vector = vectors[note.id]
                tagger.forget(note.scope, revision.old, vector)
                tagger.vocabulary(note.scope).add(revision.new, vector)
            if records:
                self._store.write(records, previous={r[0].id: found[r[0].id].note for r in records})
                if "tags" in self.index_fields:
                    self._index.upsert(
                        (n.id, lexical_text(n, self.index_fields), n.scope, n.kind)
                        for n, _, _ in records
                    )
            return revisions
