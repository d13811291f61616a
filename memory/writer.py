"""``NoteWriter``: every change to a stored note, with its history event, in one place.

    revise()        replace fields of notes (one store write), re-embedding and
                    re-indexing a note whose indexed text changed
    link_pair()     link two notes of one scope, both sides
    fix_links()     the repair pass's link fixes (drop dangling, restore one-sided)
    make_current()  clear ``superseded_by`` of notes whose successor is gone
    delete()        tombstone first, then unlink the neighbours and make the notes
                    it superseded current again, then remove
    delete_scope()  every note of a scope, tombstoned in batches

Deletion is ordered for crash safety: the tombstone (last state + history) is
written first, then the neighbours lose their links, then the record goes;
``repair()`` finishes a deletion a crash interrupted. The writer takes no lock:
its callers hold the memory's lock for the whole operation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from memory.errors import InvalidInput
from memory.ingest.tails import Tails
from memory.model import Event, EventAction, Note, Scope, utc_now
from memory.retrieve.indexed import embedded_text
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore, StoredNote

__all__ = ["NoteWriter"]

Embed = Callable[[Sequence[str]], np.ndarray]


class NoteWriter:
    """Writes changes to stored notes through the store, the lexical index and history.

    Args:
        store: the note store.
        index: the lexical index kept in step with the store.
        embed: texts -> vectors (for notes whose indexed text changes).
        tails: the scopes' latest episodic notes (a deleted tail is forgotten).
    """

    def __init__(self, store: NoteStore, index: LexicalIndex, embed: Embed, tails: Tails) -> None:
        self._store = store
        self._index = index
        self._embed = embed
        self._tails = tails

    def revise(
        self,
        changes: Sequence[tuple[StoredNote, dict[str, Any]]],
        *,
        action: EventAction,
        reason: str,
        actor: str = "user",
        vectors: Mapping[str, np.ndarray] | None = None,
    ) -> list[Note]:
        """Apply ``changes`` (stored note, new field values) in one write.

        Each note gets ``updated_at`` now and one ``action`` event with the changed
        fields before and after. Returns the new versions, in order. ``vectors``
        holds embeddings of new indexed texts the caller already computed, by id.
        """
        records = []
        for stored, fields in changes:
            note = stored.note.model_copy(update={**fields, "updated_at": utc_now()})
            event = Event(
                note_id=note.id,
                action=action,
                before=stored.note.model_dump(mode="json", include=set(fields)),
                after=note.model_dump(mode="json", include=set(fields)),
                reason=reason,
                actor=actor,
            )
            vector = None
            if embedded_text(note) != embedded_text(stored.note):
                known = (vectors or {}).get(note.id)
                vector = known if known is not None else self._embed([embedded_text(note)])[0]
            records.append((note, vector, stored.log.plus(event)))
        self._store.write(
            records, {r[0].id: s.note for r, (s, _) in zip(records, changes, strict=True)}
        )
        text_of = self._index.text_of
        self._index.upsert_notes(
            note
            for (note, _, _), (stored, _) in zip(records, changes, strict=True)
            if text_of(note) != text_of(stored.note)
        )
        return [note for note, _, _ in records]

    def link_pair(self, a: str, b: str, strength: float, reason: str, actor: str) -> None:
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
                actor=actor,
            )
            records.append((note, None, stored.log.plus(event)))
        self._store.write(records, {a: found[a].note, b: found[b].note})

    def fix_links(self, fixes: dict[str, dict[str, float | None]]) -> None:
        """Set (strength) or drop (``None``) links, recorded as repairs."""
        stored = self._store.fetch(list(fixes), Scope(), with_history=True)
        records = []
        for note_id, changes in fixes.items():
            current = stored.get(note_id)
            if current is None:
                continue
            links = dict(current.note.links)
            for target, strength in changes.items():
                if strength is None:
                    links.pop(target, None)
                else:
                    links[target] = strength
            follows = current.note.follows
            if follows is not None and follows in changes and changes[follows] is None:
                follows = None
            note = current.note.model_copy(update={"links": links, "follows": follows})
            event = Event(
                note_id=note_id,
                action="repair",
                before={"links": current.note.links},
                after={"links": links},
                reason="link repair on open after an interrupted operation",
                actor="repair",
            )
            records.append((note, None, current.log.plus(event)))
        self._store.write(records, previous={r[0].id: stored[r[0].id].note for r in records})

    def make_current(
        self, notes: Sequence[StoredNote], *, reason: str, action: EventAction, actor: str
    ) -> None:
        """Clear ``superseded_by`` of ``notes`` (their successor is gone), one event each."""
        records = []
        for stored in notes:
            note = stored.note.model_copy(update={"superseded_by": None, "updated_at": utc_now()})
            event = Event(
                note_id=note.id,
                action=action,
                before={"superseded_by": stored.note.superseded_by},
                after={"superseded_by": None},
                reason=reason,
                actor=actor,
            )
            records.append((note, None, stored.log.plus(event)))
        if records:
            self._store.write(records, {s.note.id: s.note for s in notes})

    def _superseded_by(self, note: Note) -> list[StoredNote]:
        """The notes an entombed ``note`` superseded (its history names them) and still does."""
        tomb = self._store.tombstone(note.id)
        named = {
            event.after.get("supersedes")
            for event in (tomb.history if tomb is not None else [])
            if event.action == "supersede"
        }
        ids = sorted(str(nid) for nid in named if nid)
        found = self._store.fetch(ids, note.scope, with_history=True, exact_scope=True)
        return [s for s in found.values() if s.note.superseded_by == note.id]

    def delete(self, stored: StoredNote, *, reason: str, action: EventAction) -> Note:
        """Delete a note and every link to it; its history stays readable."""
        event = Event(
            note_id=stored.note.id,
            action=action,
            before=stored.note.model_dump(mode="json"),
            reason=reason,
        )
        # Tombstone first: if we die mid-way, repair() finishes the deletion.
        self._store.entomb(stored.note, stored.log.plus(event))
        self.unlink_and_remove(stored.note)
        return stored.note

    def unlink_and_remove(self, note: Note) -> None:
        """Drop every link to an entombed note and the thread pointer of the turn
        after it, make the notes it superseded current again, then remove its record."""
        # The next turn of the thread follows this note without being linked to it
        # unless the two are related: it loses its ``follows`` pointer too.
        thread = self._store.thread_neighbours([note.id], note.scope)
        successor = thread.get(note.id, (None, None))[1]
        ids = list(note.links) + ([successor] if successor and successor not in note.links else [])
        linked = self._store.fetch(ids, note.scope, with_history=True)
        records = []
        for neighbour in linked.values():
            links = {t: s for t, s in neighbour.note.links.items() if t != note.id}
            follows = None if neighbour.note.follows == note.id else neighbour.note.follows
            changed = neighbour.note.model_copy(
                update={"links": links, "follows": follows, "updated_at": utc_now()}
            )
            event = Event(
                note_id=changed.id,
                action="unlink",
                before={"link" if note.id in neighbour.note.links else "follows": note.id},
                reason=f"linked note {note.id} was deleted",
            )
            records.append((changed, None, neighbour.log.plus(event)))
        self._store.write(records, {r[0].id: linked[r[0].id].note for r in records})
        # A fact it updated is the current one again (read after the unlinking above).
        self.make_current(
            self._superseded_by(note),
            reason=f"the note that updated it ({note.id}) was deleted: current again",
            action="supersede",
            actor="user",
        )
        self._store.remove([note.id])
        self._index.remove([note.id])
        self._tails.forget_note(note)

    def delete_scope(self, scope: Scope) -> int:
        """Delete every note of ``scope`` (links never cross scopes); returns how many."""
        ids = sorted(self._store.matching_ids(scope))
        for start in range(0, len(ids), 500):
            chunk = self._store.fetch(ids[start : start + 500], scope, with_history=True)
            tombstones = []
            for stored in chunk.values():
                event = Event(
                    note_id=stored.note.id,
                    action="delete",
                    before=stored.note.model_dump(mode="json"),
                    reason=f"delete_all({scope.model_dump(exclude_none=True)})",
                )
                tombstones.append((stored.note, stored.log.plus(event)))
            self._store.entomb_many(tombstones)
            self._store.remove(list(chunk))
            self._index.remove(chunk)
        self._tails.forget_scope(scope)
        return len(ids)
