"""The store protocol every other layer types against, and what a read returns.

    NoteStore (protocol)        notes, vectors, links and history, every read scoped
     ├── ChromaNoteStore        the default: Chroma (embedded or server), ``chroma``
     └── InMemoryNoteStore      dicts and one matrix product, for fast tests, ``memory_store``
    StoredNote                  a note as read, with its raw inline history and vector
    note_visible()              the one visibility rule (scope, kind, metadata filters)
    detached()                  a copy of a note sharing nothing mutable

Both implementations pass ``tests/store/test_store_contract.py``; a new backend
should too.
"""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from memory.model import Event, Note, Scope
from memory.store.history import History, decode_history
from memory.store.where import filters_match

__all__ = ["NoteRecord", "NoteStore", "StoredNote", "detached", "note_visible", "visible_thread"]

NoteRecord = tuple[Note, "np.ndarray | None", History]
"""One note to write: its new version, its vector (``None``: keep the stored one), its history."""


@dataclass
class StoredNote:
    """A note as read from the store, with its raw history and vector.

    A store that keeps history as records of their own (Chroma, layout 3) gives
    ``load_history`` instead of ``history_raw``: the events are read only when
    :attr:`history` is, and :attr:`log` then carries only the events appended
    (which is all such a store writes).
    """

    note: Note
    history_raw: str | None = None
    vector: np.ndarray | None = None
    legacy: bool = False  # written in an earlier record layout (see codec)
    load_history: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def history(self) -> list[Event]:
        """Every event, decoded (for reading; writes append to :attr:`log`)."""
        if self.history_raw is None and self.load_history is not None:
            self.history_raw = self.load_history()
        return decode_history(self.history_raw)

    @property
    def log(self) -> History:
        """The history to append new events to, left encoded."""
        return History(self.history_raw)


def visible_thread(
    pairs: dict[str, tuple[str | None, str | None]], visible: set[str]
) -> dict[str, tuple[str | None, str | None]]:
    """``pairs`` (``id -> (predecessor, successor)``) with neighbours outside ``visible``
    hidden as ``None``: a thread never reveals a note the caller may not see."""
    return {
        note_id: (
            before if before in visible else None,
            after if after in visible else None,
        )
        for note_id, (before, after) in pairs.items()
    }


def note_visible(
    note: Note,
    scope: Scope,
    exact: bool,
    kinds: Sequence[str] | None,
    filters: dict[str, Any] | None,
) -> bool:
    """Whether a read in ``scope`` (exactly, with ``exact``) of ``kinds`` / ``filters`` sees it."""
    if exact and note.scope != scope:
        return False
    if not scope.admits(note.scope):
        return False
    if kinds is not None and note.kind not in kinds:
        return False
    return filters_match(filters, note.metadata)


def _copied(value: Any) -> Any:
    """A deep copy of ``value`` through pickle, falling back to ``copy.deepcopy``.

    Procedure notes carry their steps and variants in metadata, and recall reads many
    of them: a pickle round trip copies that about five times faster than
    ``copy.deepcopy``'s per-object memo and dispatch, with the same result.
    """
    try:
        return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except Exception:  # something unpicklable: the slow general copy
        return copy.deepcopy(value)


def detached(note: Note) -> Note:
    """A copy sharing nothing mutable with ``note`` (much cheaper than a deep copy)."""
    return note.model_copy(
        update={
            "metadata": _copied(note.metadata),
            "links": dict(note.links),
            "keywords": list(note.keywords),
            "tags": list(note.tags),
            "sources": list(note.sources),
        }
    )


@runtime_checkable
class NoteStore(Protocol):
    """Persistence of notes with their vectors and inline history.

    Every read takes a :class:`~memory.model.Scope` and filters by it, so no caller
    can forget it. A write of several records is one operation: it stores all of
    them or, when it raises, none of the notes it would have created.
    """

    def write(self, records: Sequence[NoteRecord], previous: dict[str, Note] | None = None) -> None:
        """Write notes with their full history; ``previous``: the versions replaced."""
        ...

    def entomb(self, note: Note, history: History) -> None:
        """Record a deleted note's last state and history (before its record goes)."""
        ...

    def entomb_many(self, records: Sequence[tuple[Note, History]]) -> None:
        """:meth:`entomb` for many notes."""
        ...

    def remove(self, ids: Sequence[str]) -> None:
        """Delete note records (their tombstones must already be written)."""
        ...

    def upgrade_layout(self, ids: Sequence[str]) -> int:
        """Rewrite records :meth:`scan` marked ``legacy``; returns how many."""
        ...

    def fetch(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        with_vectors: bool = False,
        with_history: bool = False,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
        read_only: bool = False,
    ) -> dict[str, StoredNote]:
        """The notes among ``ids`` that exist, are visible in ``scope`` and pass the filters.

        ``read_only``: the caller promises not to change the notes, so a store may
        return the objects it caches instead of copies.
        """
        ...

    def visible_ids(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> set[str]:
        """Which of ``ids`` exist and pass the scope / kind / metadata filters."""
        ...

    def nearest(
        self,
        vectors: np.ndarray,
        scope: Scope,
        n: int,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        exact_scope: bool = False,
    ) -> list[list[tuple[str, float]]]:
        """For each query vector, up to ``n`` visible ``(id, cosine similarity)``, best first."""
        ...

    def thread_neighbours(
        self,
        ids: Sequence[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> dict[str, tuple[str | None, str | None]]:
        """``id -> (predecessor, successor)`` for the visible ids; hidden neighbours are None."""
        ...

    def matching_ids(
        self,
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> set[str]:
        """Ids of every note in ``scope`` that passes the kind and metadata filters."""
        ...

    def scan(self, *, with_vectors: bool = False) -> Iterator[StoredNote]:
        """Every stored note, with its history (for index rebuilds and repair)."""
        ...

    def count(self) -> int:
        """Number of stored notes (all scopes)."""
        ...

    def tombstone(self, note_id: str) -> StoredNote | None:
        """The deleted note's last state and history, if it was deleted."""
        ...

    def tombstone_ids(self) -> list[str]:
        """Ids of every deleted note (for the repair pass)."""
        ...

    def close(self) -> None:
        """Release what the store holds (idempotent)."""
        ...
