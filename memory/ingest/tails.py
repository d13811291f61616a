"""The last episodic note of each scope: where the next turn's Folgezettel link points."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

import numpy as np

from memory.model import Note, Scope

__all__ = ["Tail", "Tails"]


class Tail(NamedTuple):
    """A scope's latest episodic note; ``vector`` is its embedding of ``text`` when this
    process wrote it (the next note's link then needs no read of the vector)."""

    id: str
    timestamp: datetime
    vector: np.ndarray | None = None
    text: str | None = None


class Tails:
    """``scope -> Tail`` of the scope's latest episodic note."""

    def __init__(self) -> None:
        self._tails: dict[Scope, Tail] = {}

    def snapshot(self) -> dict[Scope, Tail]:
        """A copy to extend while a batch is built (committed with :meth:`replace`)."""
        return dict(self._tails)

    def replace(self, tails: dict[Scope, Tail]) -> None:
        """Adopt the tails a written batch ended with."""
        self._tails = tails

    def rebuild(self, notes: Iterable[Note]) -> None:
        """Recompute from every stored note (on open / repair)."""
        self._tails = {}
        for note in sorted(notes, key=lambda n: n.created_at):
            if note.kind == "episodic":
                self._tails[note.scope] = Tail(note.id, note.timestamp)

    def forget_note(self, note: Note) -> None:
        """The note was deleted: its scope has no tail to follow any more."""
        tail = self._tails.get(note.scope)
        if tail is not None and tail.id == note.id:
            del self._tails[note.scope]

    def forget_scope(self, scope: Scope) -> None:
        """Every note the scope admits was deleted."""
        for tail_scope in [s for s in self._tails if scope.admits(s)]:
            del self._tails[tail_scope]
