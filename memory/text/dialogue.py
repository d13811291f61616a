"""Reading who said something and when: speaker prefixes and timestamps."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from memory.errors import InvalidInput

__all__ = ["parse_timestamp", "split_speaker", "speaker_of"]

# "Melanie: I signed up ..." -- a short capitalised name before a colon.
_SPEAKER = re.compile(r"^\s*([A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30}){0,2})\s*:\s+(.*)$", re.S)
_SPEAKER_KEYS = ("speaker", "role", "author", "name")


def split_speaker(content: str) -> tuple[str | None, str]:
    """Split ``"Name: text"`` into ``("Name", "text")``; ``(None, content)`` otherwise."""
    match = _SPEAKER.match(content)
    if not match:
        return None, content
    return match.group(1), match.group(2)


def speaker_of(content: str, metadata: dict[str, Any]) -> str | None:
    """The speaker named by the caller's metadata, else by a ``Name:`` prefix."""
    for key in _SPEAKER_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return split_speaker(content)[0]


def parse_timestamp(value: Any) -> datetime:
    """Accept a datetime, a POSIX number or a date string in any common format.

    Naive values are taken as UTC. Strings such as ``"2023-07-03 13:36"`` and
    LoCoMo's ``"1:56 pm on 8 May, 2023"`` both parse.

    Raises:
        InvalidInput: the value is not a time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool):
        raise InvalidInput("timestamp must be a datetime, a number or a date string, not bool")
    elif isinstance(value, (int, float)):
        try:
            parsed = datetime.fromtimestamp(float(value), tz=timezone.utc)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidInput(f"timestamp {value!r} is out of range") from exc
    elif isinstance(value, str):
        parsed = _parse_string(value)
    else:
        raise InvalidInput(
            f"timestamp must be a datetime, a number or a date string, not {type(value).__name__}"
        )
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _parse_string(text: str) -> datetime:
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput("timestamp must not be an empty string")
    try:
        return datetime.fromisoformat(cleaned)
    except ValueError:
        pass
    from dateutil import parser as date_parser

    # "1:56 pm on 8 May, 2023": dateutil trips over the word "on".
    cleaned = re.sub(r"\bon\b", " ", cleaned)
    try:
        return date_parser.parse(cleaned, dayfirst=False, fuzzy=False)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(f"timestamp {text!r} is not a recognisable date") from exc
