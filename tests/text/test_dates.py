"""Relative time resolved against the note's timestamp."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from memory import AgenticMemory
from memory.text.dates import asks_for_time, mentions_time, resolve_dates

MONDAY = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("I went to a support group yesterday", "7 May 2023"),
        ("the day before yesterday", "6 May 2023"),
        ("see you tomorrow", "9 May 2023"),
        ("we met last Friday", "5 May 2023"),
        ("next Wednesday works", "10 May 2023"),
        ("this Sunday", "14 May 2023"),
        ("two weeks ago I ran", "the week of 24 April 2023"),
        ("in 3 days", "11 May 2023"),
        ("last weekend was fun", "the weekend of 6 May 2023"),
        ("next month", "June 2023"),
        ("a couple of years ago", "2021"),
        ("last year", "2022"),
    ],
)
def test_relative_time_is_resolved(text: str, label: str) -> None:
    [resolved] = resolve_dates(text, MONDAY)
    assert resolved.label == label


def test_ambiguous_or_absent_time_is_left_alone() -> None:
    assert resolve_dates("on Friday we baked bread", MONDAY) == []
    assert resolve_dates("no time here", MONDAY) == []


def test_overlapping_phrases_resolve_once_in_order() -> None:
    found = resolve_dates("the day before yesterday and next month", MONDAY)
    assert [r.start for r in found] == [date(2023, 5, 6), date(2023, 6, 1)]


def test_the_date_reaches_the_context(mem: AgenticMemory) -> None:
    note = mem.add(
        "Caroline: I went to the LGBTQ support group yesterday",
        timestamp="1:56 pm on 8 May, 2023",
        user_id="u",
    )
    assert "yesterday: 7 May 2023" in note.context


@pytest.mark.parametrize(
    "question",
    [
        "When did Caroline go to the support group?",
        "What year did Jon open his studio?",
        "Which month was the trip?",
        "How long has Melanie been painting?",
    ],
)
def test_questions_that_ask_for_a_time(question: str) -> None:
    assert asks_for_time(question)


@pytest.mark.parametrize(
    "question", ["What did Caroline research?", "Who moved to Boston?", "Whence the name?"]
)
def test_questions_that_do_not_ask_for_a_time(question: str) -> None:
    assert not asks_for_time(question)


@pytest.mark.parametrize(
    "text",
    [
        "I went to a support group yesterday",
        "we moved two weeks ago",
        "the launch is on May 3, 2023",
        "born on the 4th of July",
        "I started painting in 2016",
        "see you on Friday",
    ],
)
def test_texts_that_say_when(text: str) -> None:
    assert mentions_time(text)


@pytest.mark.parametrize("text", ["I love pottery", "we may go hiking", "I have 12 plants"])
def test_texts_that_do_not_say_when(text: str) -> None:
    assert not mentions_time(text)
