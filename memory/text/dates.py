"""Relative time in a note, resolved against the note's own timestamp.

"Yesterday", "last Friday", "next month", "two weeks ago" mean nothing a month
later; resolved against when the note was written they become dates that can be
shown and searched ("when did X happen?"). Only expressions whose meaning is
fixed by grammar are resolved; a bare "on Friday" (past or coming?) is left
alone, because a wrong date is worse than none.

Each resolution keeps its granularity: a day ("7 May 2023"), a week ("the week
of 1 May 2023"), a weekend, a month ("April 2023") or a year ("2022").

Search uses the same grammar from the other side: :func:`asks_for_time` tells a
question that wants a time ("when ...?", "what year ...?", "how long ...?") and
:func:`mentions_time` a note whose own words say when (a relative expression or
an explicit date), so such a question can favour the notes able to answer it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

__all__ = ["ResolvedDate", "asks_for_time", "date_phrase", "mentions_time", "resolve_dates"]

Granularity = Literal["day", "week", "weekend", "month", "year"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2, "a couple": 2,
}  # fmt: skip
_UNITS = r"(day|week|weekend|month|year)s?"
_COUNT = "(" + "|".join([r"\d{1,2}", *sorted(_NUMBERS, key=len, reverse=True)]) + ")"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("before_yesterday", re.compile(r"\bthe day before yesterday\b", re.I)),
    ("after_tomorrow", re.compile(r"\bthe day after tomorrow\b", re.I)),
    ("yesterday", re.compile(r"\byesterday\b", re.I)),
    ("today", re.compile(r"\b(today|tonight|this morning|this afternoon|this evening)\b", re.I)),
    ("tomorrow", re.compile(r"\btomorrow\b", re.I)),
    ("ago", re.compile(rf"\b{_COUNT} {_UNITS} ago\b", re.I)),
    ("in", re.compile(rf"\bin {_COUNT} {_UNITS}\b", re.I)),
    ("weekday", re.compile(rf"\b(last|next|this) ({'|'.join(_WEEKDAYS)})\b", re.I)),
    ("relative", re.compile(r"\b(last|next|this) (week|weekend|month|year)\b", re.I)),
]

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_EXPLICIT = re.compile(
    rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?\b"  # May 3, May 3rd
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b"  # 3 May, 3rd of May
    rf"|(?:{_MONTHS})\s+(?:19|20)\d\d\b"  # May 2023
    r"|(?:19|20)\d\d\b"  # 2023
    rf"|(?:on\s+)?(?:{'|'.join(_WEEKDAYS)})s?\b)",  # (on) Friday
    re.I,
)
_ANY_TIME = re.compile(
    "|".join(f"(?:{pattern.pattern})" for _, pattern in _PATTERNS) + "|" + _EXPLICIT.pattern, re.I
)  # one pass instead of ten: run on every note written
_TIME_QUESTION = re.compile(
    r"\b(?:when|how long|(?:what|which) (?:year|month|week|day|date|time))\b", re.I
)


def asks_for_time(question: str) -> bool:
    """Whether ``question`` asks for a time: "when", "how long", "what / which year,
    month, week, day, date, time"."""
    return bool(_TIME_QUESTION.search(question))


def mentions_time(text: str) -> bool:
    """Whether ``text`` itself says when: a relative expression :func:`resolve_dates`
    resolves ("yesterday", "two weeks ago") or an explicit date, month, year or weekday.

    The note's timestamp is not consulted: every note has one, so it tells nothing
    about which notes talk about a time.
    """
    return bool(_ANY_TIME.search(text))


@dataclass(frozen=True)
class ResolvedDate:
    """One relative expression of a text and the date it means."""

    phrase: str
    start: date
    granularity: Granularity

    @property
    def label(self) -> str:
        """The date in words at its granularity ("7 May 2023", "April 2023", ...)."""
        return date_phrase(self.start, self.granularity)


def date_phrase(day: date, granularity: Granularity) -> str:
    """``day`` written at ``granularity``."""
    if granularity == "year":
        return f"{day.year}"
    if granularity == "month":
        return f"{day:%B %Y}"
    text = f"{day.day} {day:%B %Y}"
    if granularity == "week":
        return f"the week of {text}"
    if granularity == "weekend":
        return f"the weekend of {text}"
    return text


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def _shift(anchor: date, amount: int, unit: str) -> tuple[date, Granularity]:
    unit = unit.lower().rstrip("s")
    if unit == "day":
        return anchor + timedelta(days=amount), "day"
    if unit == "week":
        start = anchor + timedelta(weeks=amount)
        return start - timedelta(days=start.weekday()), "week"
    if unit == "weekend":
        start = anchor + timedelta(weeks=amount)
        return start + timedelta(days=5 - start.weekday()), "weekend"
    if unit == "month":
        return (anchor + relativedelta(months=amount)).replace(day=1), "month"
    return (anchor + relativedelta(years=amount)).replace(month=1, day=1), "year"


def _resolve(kind: str, match: re.Match[str], anchor: date) -> tuple[date, Granularity]:
    if kind == "before_yesterday":
        return anchor - timedelta(days=2), "day"
    if kind == "after_tomorrow":
        return anchor + timedelta(days=2), "day"
    if kind == "yesterday":
        return anchor - timedelta(days=1), "day"
    if kind == "today":
        return anchor, "day"
    if kind == "tomorrow":
        return anchor + timedelta(days=1), "day"
    if kind == "ago":
        return _shift(anchor, -_count(match.group(1)), match.group(2))
    if kind == "in":
        return _shift(anchor, _count(match.group(1)), match.group(2))
    direction = match.group(1).lower()
    if kind == "weekday":
        # "last Friday": the latest Friday before the note; "next Friday": the
        # first one after it; "this Friday": the Friday of the note's week.
        target = _WEEKDAYS.index(match.group(2).lower())
        if direction == "last":
            back = (anchor.weekday() - target) % 7 or 7
            return anchor - timedelta(days=back), "day"
        if direction == "next":
            ahead = (target - anchor.weekday()) % 7 or 7
            return anchor + timedelta(days=ahead), "day"
        return anchor + timedelta(days=target - anchor.weekday()), "day"
    step = {"last": -1, "this": 0, "next": 1}[direction]
    return _shift(anchor, step, match.group(2))


def resolve_dates(text: str, anchor: datetime) -> list[ResolvedDate]:
    """Every relative time expression of ``text`` resolved against ``anchor``, in order.

    Args:
        text: the note's text.
        anchor: when the note was written (its timestamp).
    """
    found: list[tuple[int, ResolvedDate]] = []
    taken: list[tuple[int, int]] = []
    day = anchor.date()
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue  # "the day before yesterday" is not also "yesterday"
            taken.append(span)
            start, granularity = _resolve(kind, match, day)
            found.append((span[0], ResolvedDate(match.group(0), start, granularity)))
    return [resolved for _, resolved in sorted(found, key=lambda item: item[0])]
