"""The sentence-embedding view of which part of an observation states the task.

    candidate_parts(text, boilerplate)   the parts worth embedding: none for a bare task
    part_similarity(parts, embed, best)  part index -> best cosine with a stored task
    query_and_vector(text, profile, ...) the recall query and its passage's vector

The statement finder of :mod:`memory.procedures.statement` reads words: a part whose
words the stored keys use looks like a task. A page header can use a stored task's
words ("[Account] [Help]" against "help X get back into their account"), and a task
can be worded in words no stored key has. A sentence embedding of each part,
compared with the embeddings of the tasks the procedures were learned from (the
vectors the store already holds), reads both as what they are; the finder keeps the
part both views agree on.

Measured on the development domains (benchmarks/README.md, round 7), top-1 with the
observation as query: tool-use 0.900 -> 0.920, 27 kinds mixed 0.730 -> 0.738, web,
TextWorld and ALFWorld unchanged. Counting the embedding as much as both word views
together lost the tool-use gain. A task on one line is embedded once, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from memory.procedures.profile import ScopeProfile
from memory.procedures.recall import RecallQuery, recall_query
from memory.procedures.text import NO_HINTS, Hints, part_lines, segments

__all__ = ["candidate_parts", "part_similarity", "query_and_vector"]


def candidate_parts(text: str, boilerplate: Collection[int]) -> dict[int, str]:
    """Index -> part (``segments(text)``) of the parts that may state the task.

    Empty when there is nothing to choose between: the parts not boilerplate all
    sit on one line, and the parts of the statement's line weigh as one task
    whichever of them states it (a bare task of two sentences is not embedded
    part by part).
    """
    line_of_part = part_lines(text)
    if line_of_part is None:  # parts that span lines: the words alone decide
        return {}
    kept = {i: part for i, part in enumerate(segments(text)) if i not in boilerplate}
    return kept if len({line_of_part[i] for i in kept}) > 1 else {}


def part_similarity(
    parts: dict[int, str],
    embed: Callable[[Sequence[str]], Any],
    best_similarity: Callable[[Any], Sequence[float]],
) -> tuple[dict[int, float], dict[str, Any]]:
    """How close each part comes to a stored task, and the parts' vectors by text.

    Args:
        parts: ``candidate_parts`` of the query.
        embed: The memory's embedder (one batch for all parts).
        best_similarity: rows -> each row's cosine with its nearest stored task.

    Returns:
        ``(index -> cosine, part text -> vector)``; the vectors let the caller reuse
        the statement's embedding for the dense ranking.
    """
    if not parts:
        return {}, {}
    texts = list(dict.fromkeys(parts.values()))
    vectors = embed(texts)
    scores = dict(zip(texts, best_similarity(vectors), strict=True))
    by_text = {text: vectors[row : row + 1] for row, text in enumerate(texts)}
    return {i: float(scores[part]) for i, part in parts.items()}, by_text


def query_and_vector(
    text: str,
    profile: ScopeProfile,
    boilerplate: Collection[int],
    embed: Callable[[Sequence[str]], Any],
    best_similarity: Callable[[Any], Sequence[float]] | None,
    *,
    hints: Hints = NO_HINTS,
) -> tuple[RecallQuery, Any]:
    """The recall query of ``text`` and the vector of its passage (for the dense ranking).

    Args:
        text: A bare task or an observation.
        profile: The scope's word statistics.
        boilerplate: The indexes of ``text``'s boilerplate parts.
        embed: The memory's embedder.
        best_similarity: rows -> each row's cosine with its nearest stored task;
            ``None`` reads the statement from the words alone.
        hints: Optional user vocabulary.
    """
    similarity: dict[int, float] = {}
    vectors: dict[str, Any] = {}
    if best_similarity is not None:
        parts = candidate_parts(text, boilerplate)
        similarity, vectors = part_similarity(parts, embed, best_similarity)
    query = recall_query(
        text, profile, hints=hints, boilerplate=boilerplate, similarity=similarity or None
    )
    passage = query.passage or text
    return query, vectors[passage] if passage in vectors else embed([passage])
