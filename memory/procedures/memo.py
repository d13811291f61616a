"""A bounded memo of what recall derives from each stored note.

    per_note(name, note, hints, compute)   compute(), or its value for an unchanged note
    per_pool(name, notes, hints, compute)  compute(), or its value for the same notes, unchanged

Recall rebuilds the word statistics of a scope on every call (the notes may have
changed in between, from this process or another), and most of that work is
stemming the same notes' keys and steps again. The derived values depend only on
the note's own fields, so they are kept per note version: a note's id with its
``updated_at``, key, sources and tags (every rewrite through the note writer moves
``updated_at``). Values computed under user hints are not kept (hints change what
a word stems to, and are rare).

A whole scope's statistics (:func:`memory.procedures.recall.build_profile`) depend
only on its notes' versions too; between two learns an agent recalls many times
over the same notes, so the last few pools' values are kept as well.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from memory.model import Note
from memory.procedures.text import NO_HINTS, Hints

__all__ = ["per_note", "per_pool"]

T = TypeVar("T")

_LIMIT = 50_000
"""Entries kept before the memo starts afresh (a few per learned note)."""

_POOLS = 16
"""Pools kept (one per scope an agent recalls in, and a few more)."""

_memo: dict[tuple[Any, ...], Any] = {}
_pools: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()


def _version(note: Note) -> tuple[Any, ...]:
    return (note.id, note.updated_at, note.when_to_use, tuple(note.sources), tuple(note.tags))


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
    key = (name, *_version(note))
    with _lock:
        if key in _memo:
            return _memo[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        if len(_memo) >= _LIMIT:
            _memo.clear()
        _memo[key] = value
    return value


def per_pool(name: str, notes: Sequence[Note], hints: Hints, compute: Callable[[], T]) -> T:
    """``compute()`` for these versions of ``notes`` (in this order), computed once.

    Args:
        name: What is derived.
        notes: The stored notes the value is derived from.
        hints: The user vocabulary in force; values under hints are not kept.
        compute: Derives the value; its result must not be mutated by callers.
    """
    if hints is not NO_HINTS:
        return compute()
    key = (name, *(_version(note) for note in notes))
    with _lock:
        if key in _pools:
            _pools.move_to_end(key)
            return _pools[key]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _pools[key] = value
        while len(_pools) > _POOLS:
            _pools.popitem(last=False)
    return value
