"""``TagMaintenance``: keep each scope's tag vocabulary meaningful as notes arrive, and durable.

A scope's vocabulary is rebuilt from the store on its first use after a restart
(:meth:`TagMaintenance.stored_tags` is the tagger's seed): every episodic note of
exactly that scope counts, with its first tag and its vector, oldest first -- the
same notes and tags :func:`~memory.mind.vocabulary.revise_tags` works on.

Merges tags that mean the same and splits a tag whose notes form two groups
(:func:`memory.mind.vocabulary.revise_tags`), one exact scope at a time, so
vocabularies never mix; every retagged note gets an ``evolve`` event with the
tags before and after and the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

import numpy as np

from memory.mind.tagging import Tagger
from memory.mind.vocabulary import TagRevision, revise_tags
from memory.model import Event, Note, Scope, utc_now
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore

__all__ = ["TagMaintenance"]


class TagMaintenance:
    """Revise the tag vocabularies of the scopes a caller sees; seed them from the store.

    Args:
        store: the note store.
        index: the lexical index (re-indexed when it holds tags).
        tagger: the offline mind's tagger, whose per-scope vocabularies follow.
        lock: the memory's lock, held while the seed reads the store.
    """

    def __init__(
        self, *, store: NoteStore, index: LexicalIndex, tagger: Tagger, lock: threading.RLock
    ) -> None:
        self._store = store
        self._index = index
        self._tagger = tagger
        self._lock = lock
        self.attach(tagger)

    def attach(self, tagger: Tagger) -> None:
        """Make ``tagger`` rebuild a scope's vocabulary from this store on first use."""
        if tagger.seed is None:
            tagger.seed = self.stored_tags

    def stored_tags(self, scope: Hashable) -> list[tuple[str, np.ndarray]]:
        """``(first tag, vector)`` of the stored episodic notes of exactly ``scope``, oldest
        first."""
        if not isinstance(scope, Scope):
            return []
        members: list[tuple[Note, np.ndarray]] = []
        with self._lock:
            ids = sorted(self._store.matching_ids(scope, kinds=["episodic"]))
            for start in range(0, len(ids), 1000):
                found = self._store.fetch(
                    ids[start : start + 1000], scope, with_vectors=True, exact_scope=True
                )
                members += [
                    (s.note, np.asarray(s.vector, dtype=np.float32))
                    for s in found.values()
                    if s.note.tags and s.vector is not None
                ]
        members.sort(key=lambda member: (member[0].created_at, member[0].id))
        return [(note.tags[0], vector) for note, vector in members]

    def revise(self, scope: Scope) -> list[TagRevision]:
        """Retag the episodic notes visible in ``scope`` (the caller holds the lock)."""
        ids = self._store.matching_ids(scope, kinds=["episodic"])
        found = self._store.fetch(sorted(ids), scope, with_vectors=True, with_history=True)
        scopes: dict[Scope, list[Note]] = {}
        for stored in found.values():
            scopes.setdefault(stored.note.scope, []).append(stored.note)
        vectors = {nid: s.vector for nid, s in found.items() if s.vector is not None}
        revisions: list[TagRevision] = []
        for notes in scopes.values():
            notes.sort(key=lambda n: n.created_at)
            revisions += revise_tags(notes, vectors, threshold=self._tagger.threshold)
        records = []
        for revision in revisions:
            stored = found[revision.note_id]
            before = stored.note.tags
            after = list(dict.fromkeys(revision.new if t == revision.old else t for t in before))
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
            self._tagger.forget(note.scope, revision.old, vector)
            self._tagger.vocabulary(note.scope).add(revision.new, vector)
        if records:
            self._store.write(records, previous={r[0].id: found[r[0].id].note for r in records})
            self._index.upsert_notes(note for note, _, _ in records)
        return revisions
