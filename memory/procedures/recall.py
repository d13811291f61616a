"""Recall: which learned notes fit a new task, learned from the scope's own notes.

    ScopeProfile                  what the stored notes teach about words (from
    build_profile(notes)          -> ScopeProfile    :mod:`memory.procedures.profile`)
    RecallQuery                   the words of a query, weighted, and its key text
    recall_query(text, profile)   a bare task or a whole observation -> RecallQuery
    relevance(query, profile)     BM25 of each note's key against the weighted words
    rank_recalled(...)            relevance (lexical, dense or both: fusion), then utility

The default path knows no domain. What a household lexicon used to say ("put" and
"hot" name kinds of task, "the" and "apple" do not; the room description is noise)
is read from the scope's own procedures: a word weighs as much as the procedures
whose tasks use it agree on their steps (*coherence*): grammar and objects spread
over unrelated tasks weigh little, a word that names a kind of task weighs fully.
A long observation is split into sentences; the one that states the task is found
against the key index (:mod:`memory.procedures.statement`), and a word keeps the
weight of the best sentence it appears in, so a room listing or a welcome banner
fades while the task sentence leads, with no pattern for either.

Measured on the development data (ALFWorld leave-one-out, tool-use, web, TextWorld):
also multiplying the weight by the skill share (a word counted as argument vs skill
in the stored keys) lost 0.00-0.10 top-1 against coherence alone, so the skill share
decides which query words the dense key writes as ``<arg>``, and weighs only the
words a query spells inside an identifier (a path, an address, a dotted name),
which name its entities whatever the domain.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from memory.model import Note
from memory.procedures.draft import AVOID_TAG
from memory.procedures.fusion import RRF_K, Mode, ranker_evidence
from memory.procedures.profile import ScopeProfile, build_profile
from memory.procedures.statement import weigh_parts
from memory.procedures.text import NO_HINTS, Hints, identifier_words, segments, words
from memory.procedures.utility import utility_score

__all__ = [
    "RecallQuery",
    "ScopeProfile",
    "build_profile",
    "rank_recalled",
    "recall_query",
    "relevance",
]

_K1 = 1.2
_B = 0.75
"""The usual BM25 constants (Robertson & Zaragoza), not tuned here."""


@dataclass(frozen=True)
class RecallQuery:
    """A query reduced to weighted words.

    Attributes:
        weights: stem -> weight in [0, 1] (sentence relevance x skill share).
        statement: The sentence of the query that matched the key index best.
        key: The statement with words known as arguments replaced by ``<arg>``.
        passage: The line of the query the statement is on (the whole of a one-line
            task): what a sentence embedding of the task should read.
    """

    weights: dict[str, float]
    statement: str
    key: str
    passage: str = ""


def recall_query(
    text: str,
    profile: ScopeProfile,
    *,
    hints: Hints = NO_HINTS,
    boilerplate: Collection[int] = (),
    similarity: Mapping[int, float] | None = None,
) -> RecallQuery:
    """Reduce a bare task or a whole observation to what the key index can match.

    Args:
        text: "clean up the stale branches", or a full observation with the task
            somewhere inside.
        profile: The scope's word statistics (:func:`build_profile`).
        hints: Optional user vocabulary.
        boilerplate: Indexes (among ``segments(text)``) of the parts known to recur
            in the scope's observations (:mod:`memory.procedures.boilerplate`): they
            neither state the task nor weigh, unless every part is boilerplate.
        similarity: Optional index (among ``segments(text)``) -> how close a
            sentence embedding of the part comes to a stored task
            (:func:`memory.procedures.dense_statement.part_similarity`): a third view
            the statement must agree with.

    Returns:
        The :class:`RecallQuery`.
    """
    parts = segments(text) or [text]
    # One-letter tokens ("s" of "what's", "a") carry no meaning of their own.
    stemmed = [[hints.canonical(w) for w in words(part) if len(w) > 1] for part in parts]
    kept = [i for i in range(len(parts)) if i not in boilerplate] or list(range(len(parts)))

    def share(word: str) -> float:
        return profile.weight(word, hints)

    at_kept, relative_kept = weigh_parts(
        [stemmed[i] for i in kept],
        keys=profile.keys.values(),
        idf=profile.idf,
        weight=lambda w: share(w) * profile.task_likeness(w),
        task_vocabulary=profile.task_vocabulary,
        index=profile.key_index(),
        similarity=None if similarity is None else [similarity.get(i, 0.0) for i in kept],
    )
    at = kept[at_kept]
    relative = [0.0] * len(parts)
    for index, weight in zip(kept, relative_kept, strict=True):
        relative[index] = weight
    statement = parts[at]
    passage = next((line for line in text.splitlines() if statement in line), statement)
    weights: dict[str, float] = {}
    skipped = set(range(len(parts))) - set(kept)
    for index, (part, stems, part_weight) in enumerate(zip(parts, stemmed, relative, strict=True)):
        # The parts of the statement's own line are one task ("X is a bad name;
        # call it Y"): they weigh fully. Other lines weigh as well as they match;
        # boilerplate not at all.
        factor = part_weight if index in skipped or part not in passage else 1.0
        for word in stems:
            weights[word] = max(weights.get(word, 0.0), factor * share(word))
    # A word spelt inside a path, address or dotted name of the query names one of
    # its entities ("tests/test_billing.py ... the billing code"): that another kind's
    # run touched the same file says little about the kind of task. Such a word
    # counts as much as the stored keys used it to name a skill (its skill share).
    for word in {hints.canonical(w) for w in identifier_words(text)} & weights.keys():
        weights[word] *= profile.skill_share(word, hints)
    key = " ".join(
        "<arg>" if profile.skill_share(hints.canonical(w), hints) < 0.5 else w
        for w in words(statement)
    )
    return RecallQuery(weights=weights, statement=statement, key=key, passage=passage.strip())


def relevance(query: RecallQuery, profile: ScopeProfile) -> dict[str, float]:
    """BM25 of every note's doc against the query's weighted words (0 when nothing matches)."""
    average = profile.average_length
    scores: dict[str, float] = {}
    for note_id, doc in profile.docs.items():
        counts = Counter(doc)
        norm = _K1 * (1 - _B + _B * len(doc) / average)
        scores[note_id] = sum(
            weight * profile.idf(word) * counts[word] * (_K1 + 1) / (counts[word] + norm)
            for word, weight in query.weights.items()
            if counts.get(word)
        )
    return scores


def _is_concept(note: Note) -> bool:
    return note.kind == "concept" and AVOID_TAG not in note.tags


def rank_recalled(
    text: str,
    notes: Sequence[Note],
    *,
    dense: Sequence[str] = (),
    hints: Hints = NO_HINTS,
    mode: Mode | None = None,
    profile: ScopeProfile | None = None,
    query: RecallQuery | None = None,
) -> list[tuple[Note, float]]:
    """Order learned notes for a new task: relevance first, measured utility second.

    Relevance combines the lexical score of :func:`relevance` with ``dense`` (note
    ids from a vector search of the task's statement, best first) as the scope's
    own checks say (:mod:`memory.procedures.fusion`): the better-proven ranking
    leads and the other breaks its ties, or both are fused on equal terms while
    neither has proven better. Notes that share a *when to use* key share its
    best relevance, so utility orders notes of one kind of task and never lets a
    proven recipe for another kind win; an avoid note follows the procedure of
    its key. Concepts come after the procedures unless a concept matches the
    query better than every procedure does (no procedure fits).

    Args:
        text: The task or observation.
        notes: The scope's learned notes (procedures, concepts, avoid notes).
        dense: Optional dense ranking of note ids.
        hints: Optional user vocabulary.
        mode: ``"lexical"``, ``"dense"`` or ``"fused"``; by default the one the
            notes' recorded checks choose.
        profile: ``build_profile(notes, hints=hints)`` when the caller has it.
        query: ``recall_query(text, profile, hints=hints)`` when the caller has it.

    Returns:
        ``(note, relevance)`` pairs, best first; notes neither ranking found are left
        out. ``relevance`` is the lexical score (0 for a note found by ``dense`` alone).
    """
    profile = build_profile(notes, hints=hints) if profile is None else profile
    query = recall_query(text, profile, hints=hints) if query is None else query
    lexical = relevance(query, profile)
    by_id = {n.id: n for n in notes}
    dense_rank = {i: r for r, i in enumerate(dict.fromkeys(i for i in dense if i in by_id))}
    found = [i for i in by_id if lexical.get(i, 0.0) > 0 or i in dense_rank]
    best_key: dict[str, float] = {}
    best_dense: dict[str, int] = {}
    for note_id in found:
        key = by_id[note_id].when_to_use
        best_key[key] = max(best_key.get(key, 0.0), lexical.get(note_id, 0.0))
        rank = dense_rank.get(note_id, len(dense_rank))
        best_dense[key] = min(best_dense.get(key, rank), rank)
    chosen = ranker_evidence(notes).mode if mode is None else mode
    lexical_rank = {
        key: r
        for r, key in enumerate(
            sorted((k for k, s in best_key.items() if s > 0), key=lambda k: -best_key[k])
        )
    }
    fused = {
        key: 1.0 / (RRF_K + lexical_rank.get(key, len(lexical_rank)))
        + 1.0 / (RRF_K + best_dense[key])
        for key in best_key
    }
    best_procedure = max(
        (lexical.get(i, 0.0) for i in found if not _is_concept(by_id[i])), default=0.0
    )

    def relevance_key(key: str) -> tuple[float, float]:
        if chosen == "dense":
            return (best_dense[key], -best_key[key])
        if chosen == "fused":
            # Ties (common with two lists) go to the lexical ranking: measured on the
            # development domains and the agent loop, it won slightly more of them
            # than the dense one (benchmarks/README.md, round 4).
            return (-fused[key], -best_key[key])
        return (-best_key[key], best_dense[key])

    def order_key(note_id: str) -> tuple[bool, tuple[float, float], bool, float, int]:
        note = by_id[note_id]
        demoted = _is_concept(note) and lexical.get(note_id, 0.0) <= best_procedure
        # An avoid note annotates the procedure of its key (where runs left its path):
        # it follows that procedure, so a prompt budget never keeps the warning and
        # drops the recipe it warns about.
        warning = AVOID_TAG in note.tags
        rank = dense_rank.get(note_id, len(dense_rank))
        return (demoted, relevance_key(note.when_to_use), warning, -utility_score(note), rank)

    ranked = sorted(found, key=order_key)
    return [(by_id[i], best_key[by_id[i].when_to_use]) for i in ranked]
