"""Which part of an observation states the task, and how much the other parts count.

    weigh_parts(parts, ...)   -> (index of the statement, weight of every part in [0, 1])

An agent's observation holds its task among room descriptions, banners, listings
and hints. Each part (sentence) is compared with the scope's stored *when to use*
keys in two ways: the cosine with its best key (a task sentence matches one key
well, a listing scattered words of many) and how much of that key it covers, by
weight, which a two-word fragment ("-= Pantry =-", "go west") cannot however well
its few words match. Both are scaled by the share of the part's words the stored
tasks use at all. The statement is the part that covers a key best; another part
weighs as much as both views agree it looks like the statement.

Measured on the development domains (benchmarks/README.md, round 5): choosing by
the cosine alone let such fragments win (TextWorld observations found the task
sentence for 19 of 36 held-out tasks), and weighing the other parts by coverage
alone let a room listing's objects decide an ALFWorld task.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Sequence

__all__ = ["weigh_parts"]

Vector = dict[str, float]


def _vector(
    stems: Iterable[str], idf: Callable[[str], float], weight: Callable[[str], float]
) -> Vector:
    return {w: idf(w) * weight(w) for w in set(stems)}


def _cosine(a: Vector, b: Vector) -> float:
    dot = sum(value * b[word] for word, value in a.items() if word in b)
    if dot <= 0:
        return 0.0
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


def _coverage(a: Vector, b: Vector) -> float:
    """How much of ``b`` (a key) ``a`` matches, by weight: not normalised by ``a``."""
    dot = sum(value * b[word] for word, value in a.items() if word in b)
    return dot / sum(v * v for v in b.values()) if dot > 0 else 0.0


def _ratio(value: float, best: float) -> float:
    return min(1.0, value / best) if best > 0 else 0.0


def weigh_parts(
    parts: Sequence[Sequence[str]],
    *,
    keys: Iterable[Sequence[str]],
    idf: Callable[[str], float],
    weight: Callable[[str], float],
    task_vocabulary: Collection[str],
) -> tuple[int, list[float]]:
    """The statement among ``parts`` and how much each part counts.

    Args:
        parts: The stems of each part of the query, in order.
        keys: The stems of each stored *when to use* key.
        idf: A stem's inverse document frequency in the scope.
        weight: How much a query stem counts (how much it names a kind of task).
        task_vocabulary: Every stem of the stored task statements.

    Returns:
        The index of the statement and one weight per part (1 for the statement;
        every part weighs 1 when no part matches any key: nothing tells them apart).
    """
    if not parts:
        return 0, []
    key_vectors = [_vector(key, idf, lambda w: 1.0) for key in keys]
    cosines: list[float] = []
    coverages: list[float] = []
    for stems in parts:
        vector = _vector(stems, idf, weight)
        # A listing of files or things uses few of the stored tasks' words, a task most.
        familiar = 1.0
        if task_vocabulary and stems:
            familiar = sum(w in task_vocabulary for w in stems) / len(stems)
        cosines.append(familiar * max((_cosine(vector, k) for k in key_vectors), default=0.0))
        coverages.append(familiar * max((_coverage(vector, k) for k in key_vectors), default=0.0))
    at = max(range(len(parts)), key=lambda i: (coverages[i], cosines[i]))
    if coverages[at] <= 0:
        return at, [1.0] * len(parts)
    return at, [
        _ratio(coverage, coverages[at]) * _ratio(cosine, cosines[at])
        for coverage, cosine in zip(coverages, cosines, strict=True)
    ]
