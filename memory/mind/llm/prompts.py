"""Every prompt the LLM mind sends, and the rendering of notes into them.

    NoteRequest                  system + user text of one note decision, with its aliases
    build_note_request()         a draft and its candidates -> NoteRequest
    json_instructions()          "answer with JSON matching this schema" (text mode only)
    retry_message()              what is said after an unusable reply
    schema_outline()             a compact, generated outline of a reply model's JSON schema
    compact_json_schema()        a model's JSON schema without titles, defaults or $refs
    REWRITE_SYSTEM               the query-rewriting instruction

Prompts are short on purpose, so that a small local model follows them: the new note
comes first, closed by ``NEW_NOTE_END``, then at most five short candidates without their
context lines; the target is <= 700 prompt tokens per LoCoMo turn, schema included
(``benchmarks/llm_cost.py``). Candidates are shown under aliases (``n1``, ``n2``,
...) rather than ids: aliases are short, cannot be confused with each other, and a
reply naming anything else is detectably wrong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from memory.mind.base import Candidate, NoteDraft

__all__ = [
    "CANDIDATE_CHARS",
    "CANDIDATE_KEYWORDS",
    "CANDIDATE_TAGS",
    "MAX_CANDIDATES",
    "NEW_NOTE_CHARS",
    "NEW_NOTE_END",
    "NOTE_SYSTEM",
    "REWRITE_SYSTEM",
    "NoteRequest",
    "build_note_request",
    "clip",
    "compact_json_schema",
    "json_instructions",
    "retry_message",
    "schema_outline",
]

logger = logging.getLogger(__name__)

CANDIDATE_CHARS = 160
"""A candidate's content is cut to this many characters (a small model reads short
candidates more reliably, and they keep a LoCoMo turn's prompt under 700 tokens)."""
CANDIDATE_KEYWORDS = 3
CANDIDATE_TAGS = 2
NEW_NOTE_END = "---"
"""The line closing the new note, so no model reads the candidates as part of it."""
NEW_NOTE_CHARS = 2000
"""The new note's content is cut to this many characters (bounds the cost of long documents)."""
MAX_CANDIDATES = 5
"""At most this many candidates are shown; the rest are dropped (the facade puts the
previous turn first, then the nearest notes). Five keeps a short chat turn's prompt
under ~700 tokens (benchmarks/llm_cost.py)."""

NOTE_SYSTEM = """\
You keep an agent's memory as a Zettelkasten. Describe the NEW NOTE only: keywords are words \
from its own text, the context one line about it; never copy existing notes' words into them. \
Link it to EXISTING NOTES (n1, n2, ...) about the same person, event, topic or cause; skip \
weak matches. Update an existing note (add tags, keywords or a better context) only when the \
new note changes how it reads. Name existing notes by alias only."""

REWRITE_SYSTEM = """\
Rewrite the question as a search query for a personal memory store: keep names, dates and \
key terms, add close synonyms, drop filler words. At most 25 words."""

_JSON_INSTRUCTIONS = (
    "Answer with one JSON object and nothing else, keys and strings in double quotes, "
    "shaped like this:\n"
)
_RETRY = "That answer was not usable: {error}\nAnswer again with only the JSON object."


@dataclass(frozen=True)
class NoteRequest:
    """The text of one note decision and the aliases it introduced.

    Attributes:
        system: The system prompt.
        user: The user message: the new note and the aliased candidates.
        aliases: Alias (``"n1"``) to the real note id it stands for.
    """

    system: str
    user: str
    aliases: dict[str, str] = field(default_factory=dict)


def clip(text: str, limit: int) -> str:
    """Collapse whitespace and cut ``text`` to about ``limit`` characters on a word boundary.

    Args:
        text: Any text.
        limit: The maximum length of the result, ellipsis included.

    Returns:
        The text, shortened with a trailing ``…`` when it was longer than ``limit``.
    """
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut + "…"


def _when(stamp: datetime, *, with_time: bool) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def _metadata_line(metadata: Mapping[str, Any]) -> str:
    """Scalar metadata (speaker, session, ...) as ``k=v``; nested values are left out."""
    pairs = [
        f"{key}={value}"
        for key, value in metadata.items()
        if isinstance(value, str | int | float | bool) and str(value).strip()
    ]
    return clip("; ".join(pairs), 120)


def _candidate_block(alias: str, candidate: Candidate) -> str:
    """One existing note: short content, date, a few keywords and tags -- no context line,
    which a small model would otherwise copy as the new note's."""
    note = candidate.note
    facts = [_when(note.timestamp, with_time=False)]
    if note.keywords:
        facts.append("keywords: " + ", ".join(note.keywords[:CANDIDATE_KEYWORDS]))
    if note.tags:
        facts.append("tags: " + ", ".join(note.tags[:CANDIDATE_TAGS]))
    return f"{alias}: {clip(note.content, CANDIDATE_CHARS)}\n  ({'; '.join(facts)})"


def build_note_request(draft: NoteDraft, candidates: Sequence[Candidate]) -> NoteRequest:
    """Render one note decision: the new note, its candidates under aliases.

    Candidates naming the same note twice are shown once; beyond ``MAX_CANDIDATES``
    the rest are dropped. The system prompt carries no schema: the caller adds
    ``json_instructions`` only when the model answers in plain text.

    Args:
        draft: The new note before it is built.
        candidates: Possible neighbours, best first.

    Returns:
        The request, with ``aliases`` mapping ``n1``... back to note ids.
    """
    shown: list[Candidate] = []
    seen: set[str] = set()
    for candidate in candidates:
        if candidate.note.id not in seen:
            seen.add(candidate.note.id)
            shown.append(candidate)
    if len(shown) > MAX_CANDIDATES:
        logger.debug("showing %d of %d candidates", MAX_CANDIDATES, len(shown))
        shown = shown[:MAX_CANDIDATES]

    aliases = {f"n{index}": c.note.id for index, c in enumerate(shown, start=1)}
    header = f"NEW NOTE ({draft.kind}, {_when(draft.timestamp, with_time=True)}"
    meta = _metadata_line(draft.metadata)
    header += f"; {meta})" if meta else ")"
    parts = [
        f"{header} - describe this note:",
        clip(draft.content, NEW_NOTE_CHARS),
        NEW_NOTE_END,
        "EXISTING NOTES:",
    ]
    if shown:
        parts.extend(_candidate_block(alias, c) for alias, c in zip(aliases, shown, strict=True))
    else:
        parts.append("none")
    return NoteRequest(system=NOTE_SYSTEM, user="\n".join(parts), aliases=aliases)


def _inline(node: Any, defs: Mapping[str, Any]) -> Any:
    """Resolve ``$ref``s and drop what a model does not need (titles, defaults)."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "default", "$defs"):
            continue
        if key == "properties":
            out[key] = {name: _inline(prop, defs) for name, prop in value.items()}
        elif key == "description" and "properties" in node:
            continue  # a model's docstring; the prompt already says what the object is
        else:
            out[key] = _inline(value, defs)
    variants = out.get("anyOf")
    if variants and all(set(v) == {"type"} for v in variants):
        del out["anyOf"]
        out["type"] = [v["type"] for v in variants]
    return out


def compact_json_schema(model: type[BaseModel]) -> str:
    """The model's JSON schema, minified: no titles, defaults, docstrings or ``$defs``.

    Args:
        model: A pydantic model class.

    Returns:
        A one-line JSON Schema string.
    """
    schema = model.model_json_schema()
    return json.dumps(_inline(schema, schema.get("$defs", {})), separators=(",", ":"))


def _outline(node: Mapping[str, Any], indent: str) -> str:
    kind = node.get("type")
    if "properties" in node:
        inner = indent + "  "
        lines = []
        for name, prop in node["properties"].items():
            line = f"{inner}{name}: {_outline(prop, inner)}"
            if prop.get("description"):
                line += f"  // {prop['description']}"
            lines.append(line)
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    if kind == "array":
        return _outline(node.get("items", {}), indent) + "[]"
    if isinstance(kind, list):
        return " | ".join(kind)
    return kind or "any"


def schema_outline(model: type[BaseModel]) -> str:
    """A TypeScript-like outline of the model's JSON schema, with field descriptions.

    About a third of the tokens of the JSON Schema itself, and read as easily by
    chat models; generated, so it never drifts from the pydantic models.

    Args:
        model: A pydantic model class.

    Returns:
        The outline, e.g. ``{\n  query: string  // the rewritten query\n}``.
    """
    schema = model.model_json_schema()
    return _outline(_inline(schema, schema.get("$defs", {})), "")


def json_instructions(model: type[BaseModel]) -> str:
    """The paragraph asking for a plain JSON answer shaped like ``model``."""
    return _JSON_INSTRUCTIONS + schema_outline(model)


def retry_message(error: str) -> str:
    """What the model is told after a reply that could not be parsed or validated."""
    return _RETRY.format(error=error)
