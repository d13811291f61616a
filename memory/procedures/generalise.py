"""From a task and the actions that did it to a generalised *when to use* key.

    TaskKey                           the key: phrase with placeholders, skill words, arguments
    align_arguments(task, actions)    the task's words/phrases the actions reuse (its arguments)
    task_statement(task, actions)     the part of a long task text the actions act on
    task_key(task, actions)           -> TaskKey ("heat some <arg1> and put it in <arg2>")

Arguments are found by alignment, not by a vocabulary: a word or phrase of the task
that reappears inside the actions (not as an action's leading verb) is what the task
is *about*, so it becomes a placeholder; the remaining words name the skill. "fix
the failing test in parser.py" done with ``pytest tests/test_parser.py`` keys as
"fix the failing test in <arg1> py"; "heat some egg and put it in diningtable" done
with ``heat egg 1 with microwave 1`` keys as "heat some <arg1> and put it in <arg2>".
The rules are about text shape only (position in an action, how often a short word
recurs across actions), never about a domain's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from memory.procedures.text import (
    NO_HINTS,
    Hints,
    is_placeholder,
    labelled_segments,
    placeholder,
    stem,
    words,
)

__all__ = ["TaskKey", "align_arguments", "argument_pattern", "task_key", "task_statement"]

_SHORT = 2
"""Tokens this short ("a", "in", "to") are grammar, never an argument on their own."""


class TaskKey(BaseModel):
    """A task generalised: what kind of task it is, and what it is about.

    Attributes:
        task: The task statement the key was built from.
        phrase: The statement in lowercase words, arguments as ``<argN>``.
        skill: Canonical stems of the words that name the kind of task, in order.
        arguments: ``<argN>`` -> the literal phrase it replaced.
    """

    model_config = ConfigDict(frozen=True)

    task: str
    phrase: str
    skill: list[str] = Field(default_factory=list)
    arguments: dict[str, str] = Field(default_factory=dict)


def _action_tokens(actions: Iterable[str]) -> list[list[str]]:
    return [words(a) for a in actions if words(a)]


def align_arguments(
    task: str, actions: Sequence[str], *, hints: Hints = NO_HINTS
) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the task's word list that the actions reuse.

    A task word is an argument when an action contains it (or its stem) after the
    action's first word, it never leads an action itself, it is not grammar (two
    letters or fewer), and it is not a sub-command: a word found only right after
    the leading word, always after the same one, in several different actions
    (``git branch --merged``, ``git branch -d x``), names the action, not its object.
    Adjacent task words written as one token in an action ("spray bottle" /
    ``spraybottle``) form one argument; an argument grows over a neighbouring word
    the actions write next to it ("salt solution"); adjacent argument words form
    one span only when the actions write them together too.

    Args:
        task: The task statement.
        actions: The actions of the trajectory, as recorded.
        hints: Words the user declared always arguments / always skill words.

    Returns:
        Non-overlapping spans in task order (indices into ``words(task)``).
    """
    task_words = words(task)
    tokenised = _action_tokens(actions)
    leading = {stem(t[0]) for t in tokenised}
    # A word right after the leading one, always after the same leading word, is a
    # sub-command ("git branch", "docker build"); deeper, or after several leading
    # words ("take apple", "heat apple"), it is what the actions act on.
    deep = {stem(w) for t in tokenised for w in t[2:]}
    after: dict[str, set[str]] = {}
    uses: dict[str, set[tuple[str, ...]]] = {}
    for t in tokenised:
        if len(t) > 1:
            after.setdefault(stem(t[1]), set()).add(t[0])
            uses.setdefault(stem(t[1]), set()).add(tuple(t))
    subcommands = {w for w, heads in after.items() if len(heads) == 1 and len(uses[w]) > 1}
    inner = deep | (set(after) - subcommands)
    glued = {w for t in tokenised for w in t[1:]}
    forced, skill = hints.argument_stems, {stem(w) for w in hints.skill_words}

    def is_argument(word: str) -> bool:
        s = stem(word)
        if s in skill or is_placeholder(word):
            return False
        if s in forced:
            return True
        return len(word) > _SHORT and s in inner and s not in leading

    marked = [is_argument(w) for w in task_words]
    # An argument grows over a neighbouring task word the actions also write next
    # to it ("salt solution" / ``move salt solution to heater``).
    bigrams = {(stem(t[i]), stem(t[i + 1])) for t in tokenised for i in range(len(t) - 1)}
    changed = True
    while changed:
        changed = False
        for i in range(len(task_words) - 1):
            pair = (stem(task_words[i]), stem(task_words[i + 1]))
            if marked[i] != marked[i + 1] and pair in bigrams:
                other = i + 1 if marked[i] else i
                grown = stem(task_words[other])
                if len(task_words[other]) > _SHORT and grown not in skill | leading:
                    marked[other] = changed = True
    for size in (3, 2):  # "spray bottle" written as the action token "spraybottle"
        for start in range(len(task_words) - size + 1):
            if "".join(task_words[start : start + size]) in glued:
                marked[start : start + size] = [True] * size
    spans: list[tuple[int, int]] = []
    for index, flag in enumerate(marked):
        if not flag:
            continue
        if (
            spans
            and spans[-1][1] == index
            and _written_together(task_words[spans[-1][0] : index + 1], actions)
        ):
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans


def _written_together(phrase: list[str], actions: Sequence[str]) -> bool:
    pattern = argument_pattern(" ".join(phrase))
    return any(pattern.search(action) for action in actions)


def task_statement(task: str, actions: Sequence[str]) -> str:
    """The sentences of ``task`` that the actions act on; all of it when none does.

    A trajectory's task may be a whole first observation (a welcome text, a room,
    then the goal). The goal is the part whose words the actions reuse.
    """
    # A label and its value are one statement: in "Find something to eat: the
    # muffin" the actions reuse only the value's words, but the label names the
    # skill. (Measured: TextWorld 0.528 -> 0.556 and 27 kinds mixed 0.706 -> 0.730
    # top-1, the other domains unchanged; joining ";" clauses as well cost the
    # tool-use domain 0.12, benchmarks/README.md round 7.)
    parts = labelled_segments(task)
    if len(parts) <= 1:
        return task.strip()
    kept = [p for p in parts if align_arguments(p, actions)]
    return " ".join(kept) if kept else task.strip()


def _phrase_and_arguments(
    task_words: list[str], spans: list[tuple[int, int]]
) -> tuple[list[str], dict[str, str]]:
    literal_to_slot: dict[str, str] = {}
    out: list[str] = []
    cursor = 0
    for start, end in spans:
        out.extend(task_words[cursor:start])
        literal = " ".join(task_words[start:end])
        slot = literal_to_slot.setdefault(literal, placeholder(len(literal_to_slot) + 1))
        out.append(slot)
        cursor = end
    out.extend(task_words[cursor:])
    return out, {slot: literal for literal, slot in literal_to_slot.items()}


def task_key(task: str, actions: Sequence[str] = (), *, hints: Hints = NO_HINTS) -> TaskKey:
    """Generalise a task by the actions that carried it out.

    Args:
        task: The task text (a bare task, or a whole first observation).
        actions: The trajectory's actions; without them only ``hints.arguments``
            become placeholders.
        hints: Optional user vocabulary and synonyms.

    Returns:
        The :class:`TaskKey`.

    Example:
        >>> key = task_key("heat some egg and put it in diningtable.",
        ...                ["go to countertop 1", "take egg 1 from countertop 1",
        ...                 "heat egg 1 with microwave 1", "put egg 1 in/on diningtable 1"])
        >>> key.phrase, key.arguments
        ('heat some <arg1> and put it in <arg2>', {'<arg1>': 'egg', '<arg2>': 'diningtable'})
    """
    statement = task_statement(task, actions)
    task_words = words(statement)
    spans = align_arguments(statement, actions, hints=hints)
    phrase_words, arguments = _phrase_and_arguments(task_words, spans)
    skill = list(dict.fromkeys(hints.canonical(w) for w in phrase_words if not is_placeholder(w)))
    return TaskKey(task=statement, phrase=" ".join(phrase_words), skill=skill, arguments=arguments)


def argument_pattern(literal: str) -> re.Pattern[str]:
    """A pattern finding an argument inside an action, however it is glued or pluralised.

    "spray bottle" matches ``spraybottle``, ``spray_bottle`` and ``spray-bottles``;
    "branches" matches ``branch``. Letters and digits around it must not continue
    the word, so "parser" matches ``test_parser.py`` but not ``parsers2``.
    """
    parts = []
    for word in words(literal):
        base = stem(word)
        options = {re.escape(word), re.escape(base) + r"(?:e?s)?"}
        if base.endswith("y"):
            options.add(re.escape(base[:-1]) + "ies")
        parts.append("(?:" + "|".join(sorted(options, key=len, reverse=True)) + ")")
    body = r"[\s_-]*".join(parts)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])", re.IGNORECASE)
