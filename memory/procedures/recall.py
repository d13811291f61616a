"""Recall: which learned notes fit a new task, learned from the scope's own notes.

    ScopeProfile                  what the stored notes teach about words: which name
                                  kinds of task (skill), which name arguments
    build_profile(notes)          -> ScopeProfile
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

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from memory.model import Note
from memory.procedures.coherence import learn_coherence
from memory.procedures.draft import AVOID_TAG, distilled_metadata
from memory.procedures.fusion import RRF_K, Mode, ranker_evidence
from memory.procedures.memo import per_note, per_pool
from memory.procedures.statement import KeyIndex, weigh_parts
from memory.procedures.steps import unfold
from memory.procedures.text import (
    NO_HINTS,
    Hints,
    identifier_words,
    is_placeholder,
    segments,
    stem,
    words,
)
from memory.procedures.utility import utility_score

__all__ = [
    "RecallQuery",
    "ScopeProfile",
    "build_profile",
    "rank_recalled",
    "recall_query",
    "relevance",
]

_ARGUMENT_NAME = re.compile(r'"[^"\\]*"\s*:')
"""A key of a JSON object in an action (``{"path": ...}``, how agent tool calls are logged)."""

_K1 = 1.2
_B = 0.75
"""The usual BM25 constants (Robertson & Zaragoza), not tuned here."""


@dataclass
class ScopeProfile:
    """Word statistics of one scope's learned notes.

    Attributes:
        docs: note id -> the stems it is matched on (skill words, step heads,
            argument words and step words; the step words of concepts).
        keys: note id -> the stems of its *when to use* phrase alone (what the
            sentences of an observation are compared with to find the task).
        skill_counts: stem -> notes whose key used it to name the skill.
        argument_counts: stem -> notes whose key had it inside an argument.
        df: stem -> procedures whose doc contains it (avoid notes and concepts
            repeat their procedures' words, so they are scored but not counted).
        procedures: How many procedures the statistics come from.
        coherence: stem -> how much the notes whose task words contain it agree on
            their steps, beyond what any two notes agree on, in [0, 1]. Grammar
            ("the", "it") is spread over unrelated tasks and scores near 0; a word
            that names a kind of task scores high. Words of one note are absent
            (weight 1: nothing shows they are grammar).
        task_vocabulary: every stem of the stored task statements (grammar and
            arguments included): what a task sentence of this scope is made of.
        task_df / observed_df: stem -> procedures whose task / whose observations
            use it; a word tasks use and observations do not is task-like.
    """

    docs: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    skill_counts: Counter[str] = field(default_factory=Counter)
    argument_counts: Counter[str] = field(default_factory=Counter)
    df: Counter[str] = field(default_factory=Counter)
    procedures: int = 0
    coherence: dict[str, float] = field(default_factory=dict)
    task_vocabulary: set[str] = field(default_factory=set)
    task_df: Counter[str] = field(default_factory=Counter)
    observed_df: Counter[str] = field(default_factory=Counter)
    _key_index: KeyIndex | None = field(default=None, repr=False, compare=False)

    def key_index(self) -> KeyIndex:
        """The keys as idf vectors, built on first use and kept with the profile."""
        if self._key_index is None:
            self._key_index = KeyIndex.build(self.keys.values(), self.idf)
        return self._key_index

    @property
    def average_length(self) -> float:
        """Mean doc length (at least 1, so an empty profile or empty docs divide safely)."""
        total = sum(map(len, self.docs.values()))
        return max(1.0, total / len(self.docs)) if self.docs else 1.0

    def idf(self, word: str) -> float:
        """Inverse document frequency, near 0 for a word in every doc."""
        n, df = self.procedures, self.df.get(word, 0)
        return max(0.0, math.log((n + 1.0) / (df + 0.5)))

    def skill_share(self, word: str, hints: Hints = NO_HINTS) -> float:
        """How much ``word`` names a kind of task rather than an argument, in (0, 1).

        Laplace-smoothed counts of the stored keys (hints override).
        """
        if word in hints.argument_stems:
            return 0.0
        if word in {stem(w) for w in hints.skill_words}:
            return 1.0
        skill = self.skill_counts.get(word, 0)
        argument = self.argument_counts.get(word, 0)
        return (skill + 1) / (skill + argument + 2)

    def task_likeness(self, word: str) -> float:
        """How much more the stored tasks use ``word`` than the observations, in (0, 1)."""
        tasks, observed = self.task_df.get(word, 0), self.observed_df.get(word, 0)
        return (tasks + 1) / (tasks + observed + 2)

    def weight(self, word: str, hints: Hints = NO_HINTS) -> float:
        """How much a query word counts: its coherence (hints override: 0 or 1)."""
        if word in hints.argument_stems:
            return 0.0
        if word in {stem(w) for w in hints.skill_words}:
            return 1.0
        return self.coherence.get(word, 1.0)


def _doc(note: Note, hints: Hints) -> list[str]:
    metadata = distilled_metadata(note)
    if note.kind == "concept" and AVOID_TAG not in note.tags:
        steps = [p for line in metadata.get("steps", []) for p in unfold(str(line))]
        return [hints.canonical(w) for s in steps for w in words(s) if not is_placeholder(w)]
    skill = [w for w in metadata.get("skill", []) if isinstance(w, str)]
    heads = [hints.canonical(h) for h in metadata.get("heads", []) if isinstance(h, str)]
    if not skill:  # a note from elsewhere: its key's words
        skill = [hints.canonical(w) for w in words(note.when_to_use) if not is_placeholder(w)]
    # Argument words stay matchable (a kind may always use the same tool or place);
    # their low skill share keeps them from deciding on their own.
    literals = (metadata.get("arguments") or {}).values()
    arguments = [hints.canonical(w) for a in literals if isinstance(a, str) for w in words(a)]
    # The words of the steps: a new task often names what its kind's actions do
    # ("remove the merged branches" / ``git branch --merged``), in any phrasing.
    # Keys of structured arguments (``{"path": ...}``) name a tool's schema, which
    # every call of the tool repeats, not what the task is about: left out.
    templates = {p for line in metadata.get("steps", []) for p in unfold(str(line))}
    step_words = {
        hints.canonical(w)
        for s in templates
        for w in words(_ARGUMENT_NAME.sub(" ", s))
        if not is_placeholder(w) and not w.isdigit()
    }
    return [*skill, *heads, *arguments, *sorted(step_words)]


def _task_words(note: Note, hints: Hints) -> list[str]:
    return [hints.canonical(w) for w in words(str(distilled_metadata(note).get("task", "")))]


def _key_words(note: Note, hints: Hints) -> list[str]:
    phrase = distilled_metadata(note).get("phrase") or note.when_to_use
    return [hints.canonical(w) for w in words(str(phrase)) if not is_placeholder(w) and len(w) > 1]


def build_profile(notes: Iterable[Note], *, hints: Hints = NO_HINTS) -> ScopeProfile:
    """Learn the word statistics of a scope from its procedures, concepts and avoid notes.

    The result is shared between calls over the same note versions: do not modify it.
    """
    notes_list = list(notes)
    return per_pool("profile", notes_list, hints, partial(_profile, notes_list, hints))


def _profile(notes_list: list[Note], hints: Hints) -> ScopeProfile:
    profile = ScopeProfile()
    for note in notes_list:
        doc = per_note("doc", note, hints, partial(_doc, note, hints))
        profile.docs[note.id] = doc
        profile.keys[note.id] = per_note("key", note, hints, partial(_key_words, note, hints))
        profile.task_vocabulary.update(
            per_note("task", note, hints, partial(_task_words, note, hints))
        )
        metadata = distilled_metadata(note)
        if note.kind != "procedure":
            continue  # statistics come from the procedures: one document per kind of task
        profile.procedures += 1
        profile.df.update(set(doc))
        profile.task_df.update({stem(w) for w in words(str(metadata.get("task", "")))})
        profile.observed_df.update(w for w in metadata.get("observed", []) if isinstance(w, str))
        profile.skill_counts.update(set(metadata.get("skill", [])))
        literals = (metadata.get("arguments") or {}).values()
        profile.argument_counts.update({hints.canonical(w) for a in literals for w in words(a)})
    profile.coherence = learn_coherence(profile.keys, notes_list, hints)
    return profile


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


def recall_query(text: str, profile: ScopeProfile, *, hints: Hints = NO_HINTS) -> RecallQuery:
    """Reduce a bare task or a whole observation to what the key index can match.

    Args:
        text: "clean up the stale branches", or a full observation with the task
            somewhere inside.
        profile: The scope's word statistics (:func:`build_profile`).
        hints: Optional user vocabulary.

    Returns:
        The :class:`RecallQuery`.
    """
    parts = segments(text) or [text]
    # One-letter tokens ("s" of "what's", "a") carry no meaning of their own.
    stemmed = [[hints.canonical(w) for w in words(part) if len(w) > 1] for part in parts]

    def share(word: str) -> float:
        return profile.weight(word, hints)

    at, relative = weigh_parts(
        stemmed,
        keys=profile.keys.values(),
        idf=profile.idf,
        weight=lambda w: share(w) * profile.task_likeness(w),
        task_vocabulary=profile.task_vocabulary,
        index=profile.key_index(),
    )
    statement = parts[at]
    passage = next((line for line in text.splitlines() if statement in line), statement)
    weights: dict[str, float] = {}
    for part, stems, part_weight in zip(parts, stemmed, relative, strict=True):
        # The parts of the statement's own line are one task ("X is a bad name;
        # call it Y"): they weigh fully. Other lines weigh as well as they match.
        factor = 1.0 if part in passage else part_weight
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
