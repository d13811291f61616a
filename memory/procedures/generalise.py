"""From a task (or a whole agent observation) to its generalised *when to use* key.

    strip_room_description(text)   drop "You are in the middle of a room ... you see ..."
    extract_task(text)             the task sentence ("Your task is to: ..." when present)
    parse_task(text)               -> TaskIntent: family, object, receptacle, tool, count, verbs
    recall_key(text, verbs=None)   the key procedures are indexed on and queried with

The key replaces object and location names with placeholders and names the
canonical verbs, so "put a hot apple in fridge." and "heat some egg and put it in
diningtable." both become ``heat some <object> and put it in/on <receptacle>
(verbs: find, take, heat, put)``. The same function runs on a stored procedure's
task and on a new query, which is what makes the two meet in one index even when
the query is a full observation full of furniture names.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memory.procedures.lexicon import HOUSEHOLD, Lexicon, singular

__all__ = [
    "OBJECT",
    "RECEPTACLE",
    "TaskFamily",
    "TaskIntent",
    "extract_task",
    "normalise_text",
    "parse_task",
    "recall_key",
    "strip_room_description",
]

OBJECT = "<object>"
RECEPTACLE = "<receptacle>"

TaskFamily = Literal["put", "puttwo", "clean", "heat", "cool", "examine", "other"]

# The room listing never contains a full stop before its end, so "[^.]*" is safe.
_ROOM = re.compile(
    r"you are in the middle of a room\.?\s*(?:looking quickly around you, you see[^.]*\.)?",
    re.IGNORECASE,
)
_TASK_MARKER = re.compile(r"your task is to\s*:?\s*", re.IGNORECASE)
_TOKEN = re.compile(r"<[a-z]+>|[a-z0-9]+")

# Canonical verb sequences per family: what the steps of such a task do, in order.
_FAMILY_VERBS: dict[str, tuple[str, ...]] = {
    "put": ("find", "take", "put"),
    "puttwo": ("find", "take", "put"),
    "clean": ("find", "take", "clean", "put"),
    "heat": ("find", "take", "heat", "put"),
    "cool": ("find", "take", "cool", "put"),
    "examine": ("find", "take", "use"),
}


_STATE_FAMILIES: dict[str, TaskFamily] = {"heat": "heat", "cool": "cool", "clean": "clean"}


class TaskIntent(BaseModel):
    """What a task asks for, as far as the lexicon can tell.

    ``family`` is ``"other"`` when the text matches no known task family; the
    key then falls back to the normalised text with placeholders.
    """

    model_config = ConfigDict(frozen=True)

    task: str = Field(description="The task sentence, boilerplate removed.")
    family: TaskFamily = "other"
    object: str | None = Field(default=None, description="Class of the thing to act on.")
    receptacle: str | None = Field(default=None, description="Class of the destination.")
    tool: str | None = Field(default=None, description="Lamp or appliance named in the task.")
    count: int = Field(default=1, ge=1)
    verbs: tuple[str, ...] = Field(default=(), description="Canonical verbs, in step order.")
    phrase: str = Field(default="", description="The generalised task, placeholders in.")


def strip_room_description(text: str) -> str:
    """Remove the "You are in the middle of a room ... you see a, b, and c." boilerplate.

    Args:
        text: An agent observation or a task.

    Returns:
        The text without the room listing, whitespace trimmed.
    """
    return _ROOM.sub(" ", text).strip()


def extract_task(text: str) -> str:
    """The task sentence of ``text``.

    When ``text`` contains "Your task is to:", the first line after it is the task;
    otherwise the room description is stripped and the remainder returned.

    Args:
        text: A bare task or a full observation.

    Returns:
        The task text (possibly empty when ``text`` held only boilerplate).
    """
    marker = _TASK_MARKER.search(text)
    if marker:
        rest = text[marker.end() :].strip()
        return rest.splitlines()[0].strip() if rest else ""
    return " ".join(strip_room_description(text).split())


def _with_next(tokens: list[str]) -> list[tuple[str, str]]:
    """Each token with the one after it ("" after the last)."""
    return [(t, tokens[i + 1] if i + 1 < len(tokens) else "") for i, t in enumerate(tokens)]


def normalise_text(text: str, lexicon: Lexicon = HOUSEHOLD) -> list[str]:
    """Lowercase tokens with aliases folded onto class names and plurals singularised.

    Numbered mentions ("cabinet 3") lose their number: the instance never matters
    for recall, only the class does.
    """
    lowered = text.lower().replace("in/on", "in")
    # Longest aliases first so "side table" wins over "table".
    for alias in sorted(lexicon.aliases, key=len, reverse=True):
        if alias in lowered:
            lowered = re.sub(rf"\b{re.escape(alias)}\b", lexicon.aliases[alias], lowered)
    known = lexicon.classes
    raw = [singular(token, known) for token in _TOKEN.findall(lowered)]
    # "cabinet 3" -> "cabinet"; only a number before a class ("2 apples") is a count.
    return [token for token, after in _with_next(raw) if not token.isdigit() or after in known]


def _family(tokens: list[str], lexicon: Lexicon) -> tuple[TaskFamily, str | None]:
    """The task family and the lamp named, judged from the words alone."""
    lamp = next((t for t in tokens if t in lexicon.lamps), None)
    state = next((lexicon.state_verbs[t] for t in tokens if t in lexicon.state_verbs), None)
    if state is None and tokens and tokens[0] in lexicon.imperative_tools:
        state = lexicon.imperative_tools[tokens[0]]
    places = any(t in lexicon.place_verbs for t in tokens)
    # "look for a mug" is a search, not an examination: "look" only counts without "for".
    examines = any(
        t in lexicon.examine_words and not (t == "look" and nxt == "for")
        for t, nxt in _with_next(tokens)
    )
    if lamp is not None or (examines and state is None and not places):
        return "examine", lamp
    family = _STATE_FAMILIES.get(state or "")
    if family is not None:
        return family, None
    pair = any(t in lexicon.pair_words for t in tokens)
    if places or pair:
        return ("puttwo" if pair else "put"), None
    return "other", None


def _slots(
    tokens: list[str], family: TaskFamily, lexicon: Lexicon
) -> tuple[str | None, str | None]:
    """The object (before the first destination/tool preposition) and the destination."""
    skip = (
        lexicon.fillers
        | lexicon.place_verbs
        | lexicon.examine_words
        | lexicon.pair_words
        | set(lexicon.state_verbs)
        | {"at", "for", "from"}
    )
    if tokens and tokens[0] in lexicon.imperative_tools:
        tokens = tokens[1:]  # "microwave an apple": the verb, not the object
    preps = lexicon.destination_preps | lexicon.tool_preps
    split = next(
        (i for i, t in enumerate(tokens) if t in preps and i > 0 and tokens[i - 1] != "look"),
        len(tokens),
    )
    head = [t for t in tokens[:split] if t not in skip and t not in lexicon.lamps]
    tail = [t for t in tokens[split + 1 :] if t not in skip]
    obj = next(
        (t for t in head if t in lexicon.objects),
        next((t for t in head if t in lexicon.classes), head[-1] if head else None),
    )
    if family == "examine":
        return obj, None
    # "cook an apple in the microwave, then store it in the fridge": the destination is
    # the last place named, and the appliance the state change needs is not it.
    places = [t for t in tail if t in lexicon.receptacles]
    tool = lexicon.tools.get(family)
    places = [t for t in places if t != tool] or places
    receptacle = places[-1] if places else (tail[0] if tail else None)
    return obj, receptacle


def _phrase(family: TaskFamily, count: int, tool: str | None, receptacle: str | None) -> str:
    amount = "two" if count > 1 else "some"
    pronoun = "them" if count > 1 else "it"
    where = f" in/on {RECEPTACLE}" if receptacle else ""
    if family == "examine":
        return f"look at {OBJECT} under the {tool or 'desklamp'}"
    if family in ("put", "puttwo"):
        return f"put {amount} {OBJECT}{where}"
    tail = f" and put {pronoun}{where}" if receptacle else ""
    return f"{family} {amount} {OBJECT}{tail}"


def _generic_phrase(tokens: list[str], lexicon: Lexicon) -> str:
    """Placeholders for known classes; the rest of the words kept as they are."""
    out = []
    for token in tokens:
        if token in lexicon.receptacles:
            out.append(RECEPTACLE)
        elif token in lexicon.objects:
            out.append(OBJECT)
        else:
            out.append(token)
    return " ".join(out)


def parse_task(text: str, *, lexicon: Lexicon = HOUSEHOLD) -> TaskIntent:
    """Read a task (or a full observation) into a :class:`TaskIntent`.

    Args:
        text: "heat some egg and put it in diningtable.", or the room description
            followed by "Your task is to: ...".
        lexicon: The domain vocabulary.

    Returns:
        The intent; ``family="other"`` when no known family matches.

    Example:
        >>> parse_task("put two cellphone in sofa.").family
        'puttwo'
    """
    task = extract_task(text)
    tokens = normalise_text(task, lexicon)
    family, lamp = _family(tokens, lexicon)
    if family == "other":
        return TaskIntent(task=task, phrase=_generic_phrase(tokens, lexicon))
    obj, receptacle = _slots(tokens, family, lexicon)
    # "heat two apples" is not an ALFWorld family, but its key should still say "two".
    count = 2 if family == "puttwo" or any(t in lexicon.pair_words for t in tokens) else 1
    tool = lamp if family == "examine" else lexicon.tools.get(family)
    return TaskIntent(
        task=task,
        family=family,
        object=obj,
        receptacle=receptacle,
        tool=tool,
        count=count,
        verbs=_FAMILY_VERBS[family],
        phrase=_phrase(family, count, lamp, receptacle),
    )


def recall_key(
    text: str, *, verbs: list[str] | tuple[str, ...] | None = None, lexicon: Lexicon = HOUSEHOLD
) -> str:
    """The generalised *when to use* key of a task or observation.

    Index stored procedures on ``recall_key(trajectory.task, verbs=<their step verbs>)``
    and query with ``recall_key(new_task_or_observation)``: both go through the
    same generalisation, so tasks of one family meet whatever their objects.

    Args:
        text: A task or a full observation ("You are in the middle of a room ...
            Your task is to: put a clean apple in sidetable.").
        verbs: The canonical verbs the steps actually used; inferred from the task
            family when omitted.
        lexicon: The domain vocabulary.

    Returns:
        e.g. ``"clean some <object> and put it in/on <receptacle> (verbs: find, take,
        clean, put)"``; for unknown task families, the normalised text with known
        classes replaced by placeholders.
    """
    intent = parse_task(text, lexicon=lexicon)
    named = list(verbs) if verbs is not None else list(intent.verbs)
    if not intent.phrase:
        return ""
    if not named:
        return intent.phrase
    return f"{intent.phrase} (verbs: {', '.join(named)})"
