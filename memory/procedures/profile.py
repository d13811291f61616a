"""What a scope's learned notes teach about words, the statistics recall ranks with.

    ScopeProfile            which words name kinds of task (skill), which name
                            arguments, how task-like and how coherent each word is
    build_profile(notes)    -> ScopeProfile, shared between calls over the same notes

Split from :mod:`memory.procedures.recall`, which reads a query against it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from memory.model import Note
from memory.procedures.boilerplate import part_key
from memory.procedures.coherence import learn_coherence
from memory.procedures.draft import AVOID_TAG, distilled_metadata
from memory.procedures.memo import per_note, per_pool
from memory.procedures.statement import KeyIndex
from memory.procedures.steps import unfold
from memory.procedures.text import NO_HINTS, Hints, is_placeholder, segments, stem, words

__all__ = ["ScopeProfile", "build_profile"]

_ARGUMENT_NAME = re.compile(r'"[^"\\]*"\s*:')
"""A key of a JSON object in an action (``{"path": ...}``, how agent tool calls are logged)."""


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
        task_parts: the parts of the stored tasks, as ``part_key`` counts them (a
            recurring part of an observation that a stored task says is no boilerplate).
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
    task_parts: set[str] = field(default_factory=set)
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
        tasks = [metadata.get("task", ""), *metadata.get("tasks", [])]
        profile.task_parts.update(
            part_key(p) for t in tasks if isinstance(t, str) for p in segments(t)
        )
        profile.observed_df.update(w for w in metadata.get("observed", []) if isinstance(w, str))
        profile.skill_counts.update(set(metadata.get("skill", [])))
        literals = (metadata.get("arguments") or {}).values()
        profile.argument_counts.update({hints.canonical(w) for a in literals for w in words(a)})
    profile.coherence = learn_coherence(profile.keys, notes_list, hints)
    return profile
