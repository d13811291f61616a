"""Reading a trajectory's steps: parse actions, repair logs, abstract into routines.

    Action              one parsed action: verb, object/target classes, instance numbers
    Segment             one abstract step of a procedure (find, take, go to, heat, put, use...)
    parse_action(text)  "take apple 3 from garbagecan 1" -> Action(verb="take", ...)
    normalise_steps()   thoughts kept, but actions logged inside observations recovered
    abstract_steps()    the step list -> Segments, searches collapsed, failed actions dropped

Searching is where trajectories differ most (how many cabinets were opened before
the mug turned up), and where a procedure should be most general: every run of
navigation before a goal action (take, heat, use, ...) becomes a single *find*
segment that lists the kinds of places checked, in order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from memory.model import Step
from memory.procedures.generalise import OBJECT, RECEPTACLE
from memory.procedures.lexicon import HOUSEHOLD, Lexicon

__all__ = [
    "NAVIGATION_VERBS",
    "Action",
    "Segment",
    "abstract_steps",
    "normalise_steps",
    "parse_action",
    "plural",
]

NAVIGATION_VERBS = frozenset({"go to", "open", "close", "look", "examine", "inventory"})
_STATE_CHANGES = frozenset({"heat", "cool", "clean", "slice"})

_CLASS = r"([a-z]+) (\d+)"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("go to", re.compile(rf"^go to {_CLASS}$")),
    ("take", re.compile(rf"^take {_CLASS} from {_CLASS}$")),
    ("put", re.compile(rf"^put {_CLASS} (?:in/on|in|on) {_CLASS}$")),
    ("state", re.compile(rf"^(heat|cool|clean|slice) {_CLASS} with {_CLASS}$")),
    ("single", re.compile(rf"^(open|close|use|examine|toggle) {_CLASS}$")),
    ("bare", re.compile(r"^(look|inventory)$")),
)
# An action written into an observation by a logging slip: "OK. >go to shelf 1 On the ...".
_EMBEDDED = re.compile(
    r">\s*((?:go to|open|close|use|examine) [a-z]+ \d+|take [a-z]+ \d+ from [a-z]+ \d+"
    r"|put [a-z]+ \d+ (?:in/on|in|on) [a-z]+ \d+|(?:heat|cool|clean|slice) [a-z]+ \d+ with"
    r" [a-z]+ \d+|look|inventory)\b\s*([^>]*)"
)
_IRREGULAR = {"shelf": "shelves", "knife": "knives", "potato": "potatoes", "tomato": "tomatoes"}


@dataclass(frozen=True)
class Action:
    """A parsed action. ``obj`` is what is acted on, ``target`` where/with what."""

    verb: str
    raw: str
    obj: str | None = None
    target: str | None = None
    is_thought: bool = False

    @property
    def place(self) -> str | None:
        """The location class a navigation action visits, if any."""
        if self.verb in ("go to", "open", "close", "examine"):
            return self.obj
        return None


class Segment(BaseModel):
    """One abstract step of a procedure.

    ``routine`` is the canonical verb ("find", "take", "go to", "heat", "put", "use", ...);
    ``target`` is a placeholder or a tool class; ``places`` the kinds of location
    checked by a find (classes, visiting order), with ``found_at`` where the search
    ended; ``target == "?"`` marks navigation the trajectory ended in.
    """

    routine: str
    text: str
    target: str = ""
    tool: str | None = None
    places: list[str] = Field(default_factory=list)
    opened: list[str] = Field(default_factory=list)
    found_at: str | None = None
    object_class: str | None = Field(default=None, description="The literal class acted on.")


def parse_action(text: str) -> Action:
    """Parse one ALFWorld-style action; unknown grammar keeps its first word as the verb.

    Args:
        text: e.g. ``"heat egg 2 with microwave 1"`` or ``"think: ..."``.

    Returns:
        The parsed :class:`Action` (instance numbers dropped, classes kept).
    """
    raw = " ".join(text.strip().split())
    lowered = raw.lower()
    if lowered.startswith("think"):
        return Action(verb="think", raw=raw, is_thought=True)
    for kind, pattern in _PATTERNS:
        match = pattern.match(lowered)
        if not match:
            continue
        groups = match.groups()
        if kind == "go to":
            return Action(verb="go to", raw=raw, obj=groups[0])
        if kind in ("take", "put"):
            return Action(verb=kind, raw=raw, obj=groups[0], target=groups[2])
        if kind == "state":
            return Action(verb=groups[0], raw=raw, obj=groups[1], target=groups[3])
        if kind == "single":
            return Action(verb=groups[0], raw=raw, obj=groups[1])
        return Action(verb=groups[0], raw=raw)
    first = lowered.split(" ", 1)[0] if lowered else ""
    return Action(verb=first, raw=raw)


def normalise_steps(steps: Sequence[Step]) -> list[Step]:
    """Recover actions that a log folded into another step's observation.

    Some recorded trajectories glue later steps onto an observation
    ("OK. >go to stoveburner 1 On the stoveburner 1, you see nothing."); splitting
    them back out keeps the searched places and the action order right.

    Args:
        steps: The trajectory's steps.

    Returns:
        A new list; steps without embedded actions are returned unchanged.
    """
    out: list[Step] = []
    for step in steps:
        cut = step.observation.find(">")
        embedded = list(_EMBEDDED.finditer(step.observation)) if cut >= 0 else []
        if not embedded:
            out.append(step)
            continue
        head = step.observation[:cut].strip()
        out.append(step.model_copy(update={"observation": head}))
        out.extend(Step(action=m.group(1), observation=m.group(2).strip()) for m in embedded)
    return out


def plural(name: str) -> str:
    """English plural of a class name ("shelf" -> "shelves", "countertop" -> "countertops")."""
    if name in _IRREGULAR:
        return _IRREGULAR[name]
    if name.endswith(("s", "x", "ch", "sh")):
        return name + "es"
    return name + "s"


def _places(buffer: list[Action]) -> tuple[list[str], list[str], list[str]]:
    """Kinds of place visited (ordered, unique), their display labels, and those opened.

    A label is plural when several instances of the kind were checked
    ("cabinets"), which keeps "check 6 cabinets" readable without the numbers.
    """
    kinds: list[str] = []
    opened: list[str] = []
    instances: dict[str, set[str]] = {}
    for action in buffer:
        place = action.place
        if place is None:
            continue
        instances.setdefault(place, set()).add(action.raw.rsplit(" ", 1)[-1])
        if place not in kinds:
            kinds.append(place)
        if action.verb == "open" and place not in opened:
            opened.append(place)
    labels = [plural(k) if len(instances[k]) > 1 else k for k in kinds]
    return kinds, labels, opened


def _visits(buffer: list[Action]) -> int:
    return len({a.raw.lower().split(" ", 1)[-1] for a in buffer if a.place})


def _find(target: str, label: str, buffer: list[Action], found_at: str | None) -> Segment:
    kinds, labels, opened = _places(buffer)
    if found_at and not kinds:
        kinds, labels = [found_at], [found_at]
    if _visits(buffer) > 1:
        how = "one by one, opening closed ones" if opened else "one by one"
        text = f"find {label}: check {', '.join(labels)} {how}"
        if found_at:
            text += f" (found at {found_at})"
    else:
        text = f"find {label}: go to {labels[0] if labels else found_at or 'it'}"
    return Segment(
        routine="find", text=text, target=target, places=kinds, opened=opened, found_at=found_at
    )


def abstract_steps(
    steps: Sequence[Step],
    *,
    obj: str | None,
    receptacle: str | None,
    lexicon: Lexicon = HOUSEHOLD,
) -> list[Segment]:
    """Turn concrete steps into generalised segments.

    Thoughts are dropped (their plans are visible in the actions), actions whose
    observation says nothing happened are dropped, and each run of navigation
    before a goal action collapses into one *find* segment.

    Args:
        steps: The trajectory's steps (see :func:`normalise_steps`).
        obj: Class of the task's object; rendered as ``<object>``.
        receptacle: Class of the task's destination; rendered as ``<receptacle>``.
        lexicon: Decides which observations mean failure.

    Returns:
        The segments in order. Navigation the trajectory ended in (a search that
        found nothing, a walk to an appliance never used) is kept as a last find
        segment with ``target="?"``, which is what failure analysis needs to see.
    """

    def name(cls: str | None) -> str:
        if cls is not None and cls == obj:
            return OBJECT
        return cls or "it"

    segments: list[Segment] = []
    buffer: list[Action] = []
    taken: dict[str, int] = {}
    for step in steps:
        action = parse_action(step.action)
        if action.is_thought or lexicon.is_failure(step.observation):
            continue
        if action.verb in NAVIGATION_VERBS:
            buffer.append(action)
            continue
        if action.verb == "take":
            label = name(action.obj)
            seen = taken.get(label, 0)
            taken[label] = seen + 1
            wording = label if seen == 0 else f"another {label}"
            found = _find(label, wording, buffer, action.target)
            segments.append(found.model_copy(update={"object_class": action.obj}))
            segments.append(
                Segment(routine="take", text=f"take {label}", target=label, object_class=action.obj)
            )
        elif action.verb in _STATE_CHANGES:
            tool = action.target or "it"
            segments.append(Segment(routine="go to", text=f"go to {tool}", target=tool))
            segments.append(
                Segment(
                    routine=action.verb,
                    text=f"{action.verb} {name(action.obj)} with {tool}",
                    target=name(action.obj),
                    tool=tool,
                    object_class=action.obj,
                )
            )
        elif action.verb == "put":
            where = RECEPTACLE if action.target == receptacle else (action.target or "it")
            segments.append(Segment(routine="go to", text=f"go to {where}", target=where))
            segments.append(
                Segment(
                    routine="put",
                    text=f"put {name(action.obj)} in/on {where}",
                    target=name(action.obj),
                    object_class=action.obj,
                )
            )
        elif action.verb in ("use", "toggle"):
            tool = action.obj or "it"
            visited = [a.place for a in buffer if a.place]
            if _visits(buffer) > 1 or (visited and visited[-1] != tool):
                segments.append(_find(tool, tool, buffer, visited[-1] if visited else None))
            segments.append(Segment(routine="use", text=f"use {tool}", target=tool, tool=tool))
        else:
            segments.append(Segment(routine=action.verb or "act", text=action.raw))
        buffer = []
    if buffer and any(a.place for a in buffer):
        kinds, labels, opened = _places(buffer)
        segments.append(
            Segment(
                routine="find",
                text=f"ended after visiting {', '.join(labels)}",
                target="?",
                places=kinds,
                opened=opened,
            )
        )
    return segments
