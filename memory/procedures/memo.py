"""A bounded memo of what recall derives from each stored note.

    per_note(name, note, hints, compute)   compute(), or its value for an unchanged note

Recall rebuilds the word statistics of a scope on every call (the notes may have
changed in between, from this process or another), and most of that work is
stemming the same notes' keys and steps again. The derived values depend only on
the note's own fields, so they are kept per note version: a note's id with its
``updated_at``, key, sources and tags (every rewrite through the note writer moves
``updated_at``). Values computed under user hints are not kept (hints change what
a word stems to, and are rare).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from memory.model import Note
from memory.procedures.text import NO_HINTS, Hints

__all__ = ["per_note"]

T = TypeVar("T")

_LIMIT = 50_000
"""Entries kept before the memo starts afresh (a few per learned note)."""

_memo: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


def per_note(name: str, note: Note, hints: Hints, compute: Callable[[], T]) -> T:
    """``compute()`` for this version of ``note``, computed once.

    Args:
        name: What is derived (one memo serves several derivations).
        note: The stored note the value is derived from.
        hints: The user vocabulary in force; values under hints are not kept.
        compute: Derives the value; its result must not be mutated by callers.
    """
    if hints is not NO_HINTS:
        return compute()
    key = (name, note.id, note.updated_at, note.when_to_use, tuple(note.sources), tuple(note.tags))
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        if len(_memo) >= _LIMIT:
            _memo.clear()
        _memo[key] = value
    return value
