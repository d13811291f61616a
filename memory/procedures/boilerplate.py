"""Boilerplate of an agent's observations, learned from the observations recall is given.

    RecurringParts          per scope: how many distinct observations each line appeared in
    RecurringParts.observe(scope, lines)  count one observation, return its recurring lines
    part_key(part)          how a part is counted (its words, without numbers)
    boilerplate_parts(...)  which parts (``segments``) of an observation are boilerplate

A web agent's every page starts with the same navigation bar, a text game's every
turn with the same banner, a simulator's with "You are in the middle of a room".
Such a part can look like a task (its words are the site's or the game's words)
and win the statement search when the real task is worded in new words. Nothing
says which line is boilerplate except that it recurs: a line seen in several
distinct observations a scope recalled with is boilerplate, whatever the domain,
unless a stored task states one of its parts (a task asked again and again is no
boilerplate once its kind has been learned).

Measured on the development domains (benchmarks/README.md, round 6), top-1 with the
observation as query: lines seen in at least 2 earlier observations: web 0.775 ->
0.875, 27 kinds mixed 0.675 -> 0.706, the others unchanged; at least 3: 0.850 and
0.690. Counting sentences instead of lines marked sentences inside tasks ("Score
1.") and lost bare-task queries; "in more than half of the scope's observations"
missed a site's boilerplate in a scope shared with two other environments.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Hashable, Sequence

from memory.procedures.text import part_lines, segments, words

__all__ = ["RecurringParts", "boilerplate_parts", "part_key"]

MIN_OBSERVATIONS = 2
"""A part is boilerplate once seen in at least this many distinct earlier observations."""
_MAX_PARTS = 5_000  # distinct parts counted per scope (beyond: parts seen once are dropped)
_MAX_SEEN = 5_000  # observation fingerprints kept per scope, to count each one once
_MAX_SCOPES = 256  # scopes tracked at once (least recently used dropped)


class _ScopeCounts:
    def __init__(self) -> None:
        self.parts: Counter[str] = Counter()
        self.seen: OrderedDict[int, None] = OrderedDict()


class RecurringParts:
    """Which parts of an observation recur across a scope's distinct observations."""

    def __init__(self) -> None:
        self._scopes: OrderedDict[Hashable, _ScopeCounts] = OrderedDict()
        self._lock = threading.Lock()

    def observe(self, scope: Hashable, parts: Sequence[str]) -> set[str]:
        """Count one observation (given as its parts) and return its boilerplate parts.

        A part recurs when it appeared in at least :data:`MIN_OBSERVATIONS` distinct
        other observations of the scope, counted before this one (the same
        observation given again gets the same answer). An observation of a single
        part is never counted (a bare task is not an observation with boilerplate).

        Args:
            scope: whose observations these are (one agent, one user...).
            parts: the observation's parts, normalised by the caller.
        """
        unique = list(dict.fromkeys(p for p in parts if p))
        if len(unique) < 2:
            return set()
        fingerprint = hash(tuple(unique))
        with self._lock:
            counts = self._scopes.pop(scope, None) or _ScopeCounts()
            self._scopes[scope] = counts  # most recently used last
            if len(self._scopes) > _MAX_SCOPES:
                self._scopes.popitem(last=False)
            # Counted in *other* observations: asked again with an observation it
            # has seen, recall must answer as it did the first time, so the
            # observation's own earlier count does not make its lines recur.
            seen_before = int(fingerprint in counts.seen)
            recurring = {
                part for part in unique if counts.parts[part] - seen_before >= MIN_OBSERVATIONS
            }
            if not seen_before:
                counts.seen[fingerprint] = None
                if len(counts.seen) > _MAX_SEEN:
                    counts.seen.popitem(last=False)
                counts.parts.update(unique)
                if len(counts.parts) > _MAX_PARTS:
                    counts.parts = Counter({p: n for p, n in counts.parts.items() if n > 1})
            return recurring


def part_key(part: str) -> str:
    """A part as counted: its words, lowercased, numbers left out ("[Cart (2)]" is "cart")."""
    return " ".join(w for w in words(part) if not w.isdigit())


def boilerplate_parts(
    observation: str, recurring: RecurringParts, scope: Hashable, task_parts: Collection[str]
) -> set[int]:
    """Count ``observation`` for ``scope``; the indexes of its boilerplate parts.

    The parts (``segments``) of the lines that recur in the scope's distinct
    observations, unless a stored task states one of the line's parts. Whole lines
    are counted: a page header or a banner is a line, while a sentence inside a
    task ("Score 1.") recurs only with its kind.

    Args:
        observation: the text recall was given.
        recurring: the counts to update and read.
        scope: whose observation it is.
        task_parts: ``part_key`` of every part of the scope's stored tasks.
    """
    line_of_part = part_lines(observation)
    if line_of_part is None:
        return set()  # parts that span lines: nothing is judged
    lines = [(part_key(line), segments(line)) for line in observation.splitlines()]
    found = recurring.observe(scope, [key for key, _ in lines])
    boilerplate_lines = {
        number
        for number, (key, parts) in enumerate(lines)
        if key in found and not any(part_key(part) in task_parts for part in parts)
    }
    return {index for index, number in enumerate(line_of_part) if number in boilerplate_lines}
