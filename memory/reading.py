"""``NoteReader``: reading notes by id and by scope (search lives in :mod:`memory.retrieve`).

Every read is scoped by the store itself; the reader adds the rules of the public
API (a note outside the scope is :class:`~memory.errors.NotFound`, neighbours
strongest first, history readable after deletion). It takes no lock: the
memory holds its lock around each call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.errors import NotFound
from memory.model import Event, Note, Scope
from memory.store.base import NoteStore, StoredNote
from memory.validate import validate_note_id

__all__ = ["NoteReader"]


class NoteReader:
    """Scoped reads of the store.

    Args:
        store: the note store.
    """

    def __init__(self, store: NoteStore) -> None:
        self._store = store

    def fetch_one(self, note_id: Any, scope: Scope, *, with_vectors: bool = False) -> StoredNote:
        """The stored note with its history.

        Raises:
            InvalidInput: a malformed id.
            NotFound: no such note in this scope.
        """
        note_id = validate_note_id(note_id)
        found = self._store.fetch([note_id], scope, with_vectors=with_vectors, with_history=True)
        if note_id not in found:
            raise NotFound(note_id)
        return found[note_id]

    def neighbors(self, note_id: Any, scope: Scope, *, include_thread: bool = False) -> list[Note]:
        """The notes linked to ``note_id`` (related ones), strongest link first; with
        ``include_thread``, then the previous and next turn of its thread when they
        are not linked anyway (the thread is order, not relatedness)."""
        note = self.fetch_one(note_id, scope).note
        order = sorted(note.links, key=lambda target: -note.links[target])
        if include_thread:
            thread = self._store.thread_neighbours([note.id], scope).get(note.id, ())
            order += [t for t in thread if t is not None and t not in note.links]
        linked = self._store.fetch(order, scope)
        return [linked[target].note for target in order if target in linked]

    def history(self, note_id: Any, scope: Scope) -> list[Event]:
        """Every change of the note, oldest first (also after it was deleted)."""
        note_id = validate_note_id(note_id)
        found = self._store.fetch([note_id], scope, with_history=True)
        stored = found.get(note_id) or self._store.tombstone(note_id)
        if stored is None or not scope.admits(stored.note.scope):
            raise NotFound(note_id)
        return stored.history

    def count(self, scope: Scope) -> int:
        """How many notes are visible in the scope."""
        if scope.is_unscoped:
            return self._store.count()
        return len(self._store.matching_ids(scope))

    def notes(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
        read_only: bool = False,
    ) -> list[Note]:
        """Every note visible in the scope (of ``kinds``, matching ``filters``), oldest first.

        ``read_only``: the caller will not change the notes (the store may share its
        cached objects instead of copying them).
        """
        ids = self._store.matching_ids(scope, kinds=kinds, filters=filters)
        found = self._store.fetch(sorted(ids), scope, exact_scope=exact_scope, read_only=read_only)
        return sorted((s.note for s in found.values()), key=lambda n: n.created_at)
