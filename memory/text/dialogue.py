"""Reading who said something and when: speaker prefixes and timestamps."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timezone
from typing import Any

from memory.errors import InvalidInput

__all__ = ["SpeakerEvidence", "parse_timestamp", "split_speaker", "speaker_of", "speaks"]

# "Melanie: I signed up ..." -- a short capitalised name before a colon.
_SPEAKER = re.compile(r"^\s*([A-Z][\w.'-]{0,30}(?: [A-Z][\w.'-]{0,30}){0,2})\s*:\s+(.*)$", re.S)
_SPEAKER_KEYS = ("speaker", "role", "author", "name")
# Grammatical person, not a topic list: an utterance says "I", "we" or "you";
# a label such as "Bug: checkout fails" or "Reminder: renew the cert" does not.
_SPEECH = re.compile(
    r"\b(i|i'm|i've|i'll|i'd|me|my|mine|we|we're|we've|us|our|you|you're|you've|your)\b",
    re.I,
)
_LOWER_WORD = re.compile(r"\b([a-z][a-z'-]+)\b")


def split_speaker(content: str) -> tuple[str | None, str]:
    """Split ``"Name: text"`` into ``("Name", "text")``; ``(None, content)`` otherwise."""
    match = _SPEAKER.match(content)
    if not match:
        return None, content
    return match.group(1), match.group(2)


class SpeakerEvidence:
    """What one scope's notes say about which ``Word:`` prefixes are people.

    A prefix such as "Bug:" or "Reminder:" has the shape of a speaker label. It
    is taken for a person only on evidence from the scope's own text:

    * it was seen before as the prefix of a note (people speak more than once), or
    * the text after it is speech (first or second person: "I", "we", "you");

    and never when the word is used in lower case somewhere in the scope ("the
    bug", "a reminder"): names stay capitalised, common nouns do not. The
    evidence grows with every note observed; it is per scope and thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._prefixes: dict[str, int] = {}
        self._lowercase: set[str] = set()

    def observe(self, content: str) -> None:
        """Record a note's prefix and the words it uses in lower case."""
        prefix, body = split_speaker(content)
        words = set(_LOWER_WORD.findall(body if prefix else content))
        with self._lock:
            if prefix:
                self._prefixes[prefix] = self._prefixes.get(prefix, 0) + 1
            self._lowercase.update(words)

    def is_speaker(self, prefix: str, body: str) -> bool:
        """Whether ``prefix`` labels a person saying ``body`` (call before observing it)."""
        with self._lock:
            if any(word.lower() in self._lowercase for word in prefix.split()):
                return False
            if any(word.lower() in set(_LOWER_WORD.findall(body)) for word in prefix.split()):
                return False
            return self._prefixes.get(prefix, 0) > 0 or speaks(body)


def speaks(body: str) -> bool:
    """Whether ``body`` reads as speech: it uses the first or second person."""
    return _SPEECH.search(body) is not None


def speaker_of(
    content: str, metadata: dict[str, Any], evidence: SpeakerEvidence | None = None
) -> str | None:
    """The speaker named by the caller's metadata, else by a ``Name:`` prefix.

    A prefix counts only if it passes :class:`SpeakerEvidence` (the scope's, when
    given; otherwise just the speech test on this note), so "Bug: checkout
    fails" has no speaker.
    """
    for key in _SPEAKER_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    prefix, body = split_speaker(content)
    if prefix is None:
        return None
    judge = evidence if evidence is not None else SpeakerEvidence()
    return prefix if judge.is_speaker(prefix, body) else None


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
