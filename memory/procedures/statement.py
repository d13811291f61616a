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
from dataclasses import dataclass

__all__ = ["KeyIndex", "weigh_parts"]

Vector = dict[str, float]


def _vector(
    stems: Iterable[str], idf: Callable[[str], float], weight: Callable[[str], float]
) -> Vector:
    return {w: idf(w) * weight(w) for w in set(stems)}


@dataclass(frozen=True)
class KeyIndex:
    """The stored keys as idf vectors with their squared norms, built once per scope.

    Recall compares every part of a query with every key; building the key vectors
    and norms anew for each query cost about as much as the comparisons.
    """

    vectors: tuple[tuple[Vector, float], ...]

    @classmethod
    def build(cls, keys: Iterable[Sequence[str]], idf: Callable[[str], float]) -> KeyIndex:
        """Index ``keys`` (stems of each *when to use* key) by ``idf``."""
        built = []
        for key in keys:
            vector = _vector(key, idf, lambda w: 1.0)
            built.append((vector, sum(v * v for v in vector.values())))
        return cls(tuple(built))

    def best(self, part: Vector) -> tuple[float, float]:
        """The best cosine and the best coverage (see the module doc) of ``part``."""
        part_norm = math.sqrt(sum(v * v for v in part.values()))
        cosine = coverage = 0.0
        for key, squared in self.vectors:
            dot = sum(value * key[word] for word, value in part.items() if word in key)
            if dot <= 0:
                continue
            cosine = max(cosine, dot / (part_norm * math.sqrt(squared)))
            coverage = max(coverage, dot / squared)
        return cosine, coverage


def _ratio(value: float, best: float) -> float:
    return min(1.0, value / best) if best > 0 else 0.0


def weigh_parts(
    parts: Sequence[Sequence[str]],
    *,
    keys: Iterable[Sequence[str]],
    idf: Callable[[str], float],
    weight: Callable[[str], float],
    task_vocabulary: Collection[str],
    index: KeyIndex | None = None,
    similarity: Sequence[float] | None = None,
) -> tuple[int, list[float]]:
    """The statement among ``parts`` and how much each part counts.

    Args:
        parts: The stems of each part of the query, in order.
        keys: The stems of each stored *when to use* key.
        idf: A stem's inverse document frequency in the scope.
        weight: How much a query stem counts (how much it names a kind of task).
        task_vocabulary: Every stem of the stored task statements.
        index: ``KeyIndex.build(keys, idf)`` when the caller keeps it (``keys`` is
            then not read).
        similarity: Optional third view, one value per part: how close a sentence
            embedding of the part comes to a stored task. A part is the statement
            as far as all the views agree (each as a ratio to its best part).

    Returns:
        The index of the statement and one weight per part (1 for the statement;
        every part weighs 1 when no part matches any key: nothing lexical tells them
        apart, and the statement is then the part the embedding view prefers, if given).
    """
    if not parts:
        return 0, []
    index = KeyIndex.build(keys, idf) if index is None else index
    cosines: list[float] = []
    coverages: list[float] = []
    for stems in parts:
        # A listing of files or things uses few of the stored tasks' words, a task most.
        familiar = 1.0
        if task_vocabulary and stems:
            familiar = sum(w in task_vocabulary for w in stems) / len(stems)
        cosine, coverage = index.best(_vector(stems, idf, weight))
        cosines.append(familiar * cosine)
        coverages.append(familiar * coverage)
    at = max(range(len(parts)), key=lambda i: (coverages[i], cosines[i]))
    usable = similarity is not None and len(similarity) == len(parts) and max(similarity) > 0
    views = similarity if usable else None
    if coverages[at] <= 0:
        # No part uses a key's words: the embedding alone can tell which part is
        # the task (whose line the dense ranking then reads); the words of every
        # part still count, as nothing lexical tells them apart.
        if views is not None:
            at = max(range(len(parts)), key=lambda i: views[i])
        return at, [1.0] * len(parts)
    weights = [
        _ratio(coverage, coverages[at]) * _ratio(cosine, cosines[at])
        for coverage, cosine in zip(coverages, cosines, strict=True)
    ]
    if views is None:
        return at, weights
    # The embedding reads a paraphrase the keys' words miss, and a page header
    # whose words a stored task happens to use (a site's "Account", "Help") as
    # what it is: the statement is the part all three views agree on. (Counting
    # the embedding twice, as much as both word views, lost tool-use 0.02.)
    best = max(views)
    agreed = [w * _ratio(s, best) for w, s in zip(weights, views, strict=True)]
    at = max(range(len(parts)), key=lambda i: (agreed[i], weights[i]))
    return at, [_ratio(a, agreed[at]) for a in agreed]
