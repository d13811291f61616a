"""Keywords, speakers, timestamps, tokens."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from memory.errors import InvalidInput
from memory.text.dialogue import parse_timestamp, split_speaker
from memory.text.keywords import extract_keywords
from memory.text.tokens import lexical_tokens


def test_keywords_leave_out_names_dates_and_fillers() -> None:
    keywords = extract_keywords(
        "Wow, Caroline! Yesterday in May I finally finished the watercolor landscape painting.",
        exclude=["Caroline"],
    )
    assert keywords and any("watercolor" in k or "landscape" in k for k in keywords)
    assert not any(w in k for k in keywords for w in ("caroline", "yesterday", "may", "wow"))


def test_keywords_of_empty_or_punctuation() -> None:
    assert extract_keywords("   ") == []
    assert extract_keywords("?!...") == []


def test_keywords_of_awkward_text() -> None:
    # A lone surrogate is a valid Python str but not UTF-8; the extractor is Rust.
    assert "pottery class" in extract_keywords("\ud800 my pottery class and a painting")
    # One unbroken run is not a keyword, however salient YAKE finds it.
    assert extract_keywords("x" * 5000) == []
    assert extract_keywords("deadbeef" * 20 + " pottery") == ["pottery"]


def test_split_speaker() -> None:
    assert split_speaker("Melanie: I paint.") == ("Melanie", "I paint.")
    assert split_speaker("note: lowercase is no speaker") == (None, "note: lowercase is no speaker")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)),
        ("2023-07-03 13:36", datetime(2023, 7, 3, 13, 36, tzinfo=timezone.utc)),
        (0, datetime(1970, 1, 1, tzinfo=timezone.utc)),
    ],
)
def test_parse_timestamp(text: object, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("bad", ["", "not a date", True, [2023], float("inf")])
def test_parse_timestamp_rejects(bad: object) -> None:
    with pytest.raises(InvalidInput):
        parse_timestamp(bad)


def test_lexical_tokens_stem_and_drop_stop_words() -> None:
    assert lexical_tokens("The paintings she painted") == ["paint", "paint"]
