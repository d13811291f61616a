"""Turning a model's text into a validated pydantic object.

    MalformedReply (LLMError)    the reply could not be parsed or validated
    strip_code_fences()          remove Markdown ``` fences
    extract_json_object()        the outermost JSON object inside surrounding prose
    repair_json()                quote bare keys, drop trailing commas (small models' slips)
    parse_reply()                text -> validated model, or MalformedReply
    describe_error()             a short, model-readable account of what was wrong

Models wrap JSON in fences, add a sentence before or after it, write bare keys or
trailing commas, or answer with nothing at all. The first four are tolerated;
everything else becomes a ``MalformedReply`` whose message is fed back to the model on
retry.
"""

from __future__ import annotations

import json
import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from memory.errors import LLMError

__all__ = [
    "MalformedReply",
    "describe_error",
    "extract_json_object",
    "parse_reply",
    "repair_json",
    "strip_code_fences",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

_FENCE = re.compile(r"```[ \t]*[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_ERRORS = 4


class MalformedReply(LLMError):
    """The model answered, but not with a usable object; the message says why."""


def strip_code_fences(text: str) -> str:
    """Return the inside of the first Markdown code fence, or ``text`` unchanged.

    An opening fence that is never closed (a truncated reply) is removed too.

    Args:
        text: A model reply.

    Returns:
        The fenced content when there is a fence, else the stripped text.
    """
    match = _FENCE.search(text)
    if match:
        return match.group(1).strip()
    stripped = text.strip()
    if stripped.startswith("```"):
        first_newline = stripped.find("\n")
        return stripped[first_newline + 1 :].strip() if first_newline != -1 else ""
    return stripped


def _object_end(text: str, start: int) -> int | None:
    """Index just past the object opening at ``start``, or ``None`` if never closed."""
    depth = 0
    in_string = False
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
    return None


def extract_json_object(text: str) -> str:
    """Find the outermost ``{...}`` in ``text``, skipping braces inside JSON strings.

    When prose before the object holds braces of its own (``"use {x}: {...}"``), the
    first balanced span that parses as a JSON object wins.

    Args:
        text: A reply that may carry prose before and after the object.

    Returns:
        The substring holding a complete top-level JSON object (the first one that
        parses, else the first balanced one, so that its JSON error can be reported).

    Raises:
        MalformedReply: When the text holds no object, or it is never closed.
    """
    start = text.find("{")
    if start == -1:
        raise MalformedReply("no JSON object found in the reply")
    first: str | None = None
    while start != -1:
        end = _object_end(text, start)
        if end is None:
            break
        span = text[start:end]
        try:
            if isinstance(json.loads(span), dict):
                return span
        except json.JSONDecodeError:
            pass
        first = first or span
        start = text.find("{", end)  # never an object nested inside a broken one
    if first is None:
        raise MalformedReply("the JSON object is not closed (reply truncated?)")
    return first


_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)(\s*:)")
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _outside_strings(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is a JSON string literal, piece) runs."""
    pieces: list[tuple[bool, str]] = []
    start, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                pieces.append((True, text[start : index + 1]))
                start, in_string = index + 1, False
        elif char == '"':
            pieces.append((False, text[start:index]))
            start, in_string = index, True
    pieces.append((in_string, text[start:]))
    return pieces


def repair_json(text: str) -> str:
    """Fix the two slips small models make most: bare keys and trailing commas.

    ``{keywords: ["a",], tags: []}`` becomes ``{"keywords": ["a"], "tags": []}`` -- a
    model shown a TypeScript-like outline of the schema often answers in its style.
    String literals are left untouched.

    Args:
        text: A JSON-like object text.

    Returns:
        The repaired text (unchanged when there was nothing to repair).
    """
    out = []
    for literal, piece in _outside_strings(text):
        if not literal:
            piece = _BARE_KEY.sub(r'\1"\2"\3', piece)
            piece = _TRAILING_COMMA.sub(r"\1", piece)
        out.append(piece)
    return "".join(out)


def describe_error(error: BaseException) -> str:
    """A short description of a parse or validation error, fit to show the model."""
    if isinstance(error, ValidationError):
        lines = []
        for item in error.errors()[:_MAX_ERRORS]:
            where = ".".join(str(part) for part in item["loc"]) or "reply"
            lines.append(f"{where}: {item['msg']}")
        more = error.error_count() - _MAX_ERRORS
        if more > 0:
            lines.append(f"... and {more} more")
        return "; ".join(lines)
    if isinstance(error, json.JSONDecodeError):
        return f"invalid JSON ({error.msg} at character {error.pos})"
    return str(error)


def parse_reply(text: str | None, schema: type[ModelT]) -> ModelT:
    """Parse a model's text reply into ``schema``.

    Code fences and prose around the object are tolerated; the object must then be
    valid JSON and validate against ``schema``.

    Args:
        text: The reply text (``None`` counts as empty).
        schema: The pydantic model to validate against.

    Returns:
        The validated object.

    Raises:
        MalformedReply: Empty reply, no object, invalid JSON or failed validation;
            the message is short enough to send back to the model.
    """
    if text is None or not text.strip():
        raise MalformedReply("the reply was empty")
    body = extract_json_object(strip_code_fences(text))
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        try:
            data = json.loads(repair_json(body))
        except json.JSONDecodeError:
            raise MalformedReply(describe_error(exc)) from exc
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise MalformedReply(describe_error(exc)) from exc
