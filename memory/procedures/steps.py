"""Reading a trajectory's steps: every action kept, generalised, repeats folded.

    StepLine                 one action of a trajectory in general words
    is_thought(step)         a ReAct-style "think: ..." step (a plan, not an action)
    is_choice(action, prev)  a bare option number answering a "which one?" observation
    action_template(...)     "take egg 1 from countertop 1" -> "take <arg1> from countertop"
    step_lines(steps, ...)   every action of a trajectory, generalised, in order
    fold(templates)          "wait; wait; wait" -> "wait (x3)", "a; b; a; b" -> "a; b (x2)"
    head(template)           the leading word of a step ("git", "go", "take")

Nothing is dropped silently: thoughts are counted (``thoughts`` in the distilled
metadata), every other action becomes a line, and repeats are folded with their
count. Instance numbers are removed only for words the observations themselves
number ("cabinet 3"), so ``sleep 5`` keeps its 5.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from memory.model import Step
from memory.procedures.generalise import argument_pattern
from memory.procedures.text import words

__all__ = [
    "CHOICE",
    "StepLine",
    "action_template",
    "fold",
    "head",
    "is_choice",
    "is_thought",
    "step_lines",
    "unfold",
]

CHOICE = "choose the matching option"
_THOUGHT = re.compile(r"^\s*think\s*:", re.IGNORECASE)
_BARE_OPTION = re.compile(r"^\s*\(?\d{1,3}[.)]?\s*$")
_LISTED_OPTION = re.compile(r"(?m)^\s*\(?\d{1,3}\s*[.):-]")
_FOLD = re.compile(r"^(.*) \(x(\d+)\)$")


@dataclass(frozen=True)
class StepLine:
    """One action in general words; ``raw`` is the action as recorded."""

    template: str
    raw: str
    observation: str = ""

    @property
    def head(self) -> str:
        """The step's leading word."""
        return head(self.template)


def is_thought(step: Step) -> bool:
    """Whether the step only records a plan ("think: ...", the ReAct convention)."""
    return _THOUGHT.match(step.action) is not None


def is_choice(action: str, previous_observation: str) -> bool:
    """A bare option number right after an observation that asks or lists options.

    Example:
        >>> is_choice("0", "Which door did you mean? 0: red door 1: blue door")
        True
    """
    if not _BARE_OPTION.match(action):
        return False
    text = previous_observation
    return "?" in text or len(_LISTED_OPTION.findall(text)) >= 2


def _strip_instances(text: str, instances: frozenset[str]) -> str:
    if not instances:
        return text

    def drop(match: re.Match[str]) -> str:
        return match.group(1) if match.group(1).lower() in instances else match.group(0)

    return re.sub(r"(?<![A-Za-z0-9])([A-Za-z][A-Za-z0-9_-]*)\s+\d+(?![A-Za-z0-9.])", drop, text)


def action_template(
    action: str, arguments: Mapping[str, str], instances: frozenset[str] = frozenset()
) -> str:
    """An action with the task's arguments as placeholders and instance numbers removed.

    Args:
        action: The action as recorded.
        arguments: ``<argN>`` -> literal (from :class:`~memory.procedures.TaskKey`).
        instances: Words whose following number is an instance id (see
            :func:`~memory.procedures.text.instance_words`).

    Returns:
        The template, whitespace collapsed, lowercase.

    Example:
        >>> action_template("take egg 2 from countertop 1", {"<arg1>": "egg"},
        ...                 frozenset({"egg", "countertop"}))
        'take <arg1> from countertop'
    """
    text = _strip_instances(" ".join(action.split()), instances)
    # The leading token names the operation (a verb, a command, a tool such as
    # ``run_tests``): an argument is never taken from it, as in align_arguments.
    lead, _, rest = text.partition(" ")
    # Longest literal first, so "paper towel" wins over "towel".
    for slot, literal in sorted(arguments.items(), key=lambda item: -len(item[1])):
        if words(literal):
            rest = argument_pattern(literal).sub(slot, rest)
    return f"{lead} {rest}".strip().lower()


def step_lines(
    steps: Sequence[Step], arguments: Mapping[str, str], instances: frozenset[str]
) -> tuple[list[StepLine], int]:
    """Every action of a trajectory, generalised.

    Returns:
        The lines in order, and how many thought steps were set aside.
    """
    lines: list[StepLine] = []
    thoughts = 0
    previous = ""
    for step in steps:
        if is_thought(step):
            thoughts += 1
            continue
        if is_choice(step.action, previous):
            template = CHOICE
        else:
            template = action_template(step.action, arguments, instances)
        lines.append(StepLine(template=template, raw=step.action, observation=step.observation))
        previous = step.observation
    return lines, thoughts


def _unfolded(template: str) -> tuple[str, int]:
    match = _FOLD.match(template)
    return (match.group(1), int(match.group(2))) if match else (template, 1)


def fold(templates: Sequence[str]) -> list[str]:
    """Fold immediate repeats of one step or of a block of two steps.

    Example:
        >>> fold(["wait", "wait", "wait", "go to cabinet", "open cabinet",
        ...       "go to cabinet", "open cabinet", "take <arg1>"])
        ['wait (x3)', 'go to cabinet; open cabinet (x2)', 'take <arg1>']
    """
    out: list[str] = []
    index = 0
    items = list(templates)
    while index < len(items):
        folded = False
        for size in (1, 2):
            block = items[index : index + size]
            if len(block) < size or (size == 2 and block[0] == block[1]):
                continue
            repeats = 1
            while items[index + repeats * size : index + (repeats + 1) * size] == block:
                repeats += 1
            if repeats > 1:
                out.append(f"{'; '.join(block)} (x{repeats})")
                index += repeats * size
                folded = True
                break
        if not folded:
            out.append(items[index])
            index += 1
    return out


def unfold(line: str) -> list[str]:
    """The step templates a folded line stands for, once each ("a; b (x2)" -> [a, b])."""
    body, _ = _unfolded(line)
    return [part.strip() for part in body.split("; ") if part.strip()]


def head(template: str) -> str:
    """The leading word of a step template ("" for an empty one)."""
    tokens = words(template)
    return tokens[0] if tokens else ""
