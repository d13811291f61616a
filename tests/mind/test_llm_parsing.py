"""Reply parsing (fences, prose, broken JSON) and the lenient parts of the reply schema."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from memory.errors import LLMError
from memory.llm.parsing import (
    MalformedReply,
    describe_error,
    extract_json_object,
    parse_reply,
    repair_json,
    strip_code_fences,
)
from memory.mind.llm.schema import NoteReply, RewrittenQuery

OBJECT = {"keywords": ["a {brace} in a string", 'a "quote"'], "tags": ["x"], "context": "c"}
TEXT = json.dumps(OBJECT)


@pytest.mark.parametrize(
    ("reply", "inside"),
    [
        (f"```json\n{TEXT}\n```", TEXT),
        (f"```JSON {TEXT}```", TEXT),
        (f"Here you go:\n```\n{TEXT}\n```\nAnything else?", TEXT),
        (f"```json\n{TEXT}", TEXT),  # never closed: a truncated reply
        (f"  {TEXT}  ", TEXT),
    ],
)
def test_strip_code_fences(reply: str, inside: str) -> None:
    assert strip_code_fences(reply) == inside


@pytest.mark.parametrize(
    "reply",
    [
        TEXT,
        f"Sure! Here is the JSON: {TEXT} Hope this helps.",
        f"Use the form {{key: value}} as asked: {TEXT}",
        f"{TEXT}\n\nNote: I added {{nothing}} else.",
    ],
)
def test_extract_json_object_finds_the_object(reply: str) -> None:
    assert json.loads(extract_json_object(reply)) == OBJECT


def test_extract_json_object_never_returns_a_nested_object_of_a_broken_one() -> None:
    broken = '{"links": [{"to": "n1", "strength": 0.5}],}'
    assert extract_json_object(broken) == broken  # reported as invalid, not half-used


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (None, "empty"),
        ("   ", "empty"),
        ("no object at all", "no JSON object"),
        ('{"keywords": ["a", "b"', "not closed"),
        ("{'keywords': ['single']}", "invalid JSON"),
    ],
)
def test_parse_reply_rejects_unusable_text(reply: str | None, message: str) -> None:
    with pytest.raises(MalformedReply, match=message) as info:
        parse_reply(reply, NoteReply)
    assert isinstance(info.value, LLMError)


def test_parse_reply_reports_validation_errors_by_field() -> None:
    reply = json.dumps({"keywords": ["a"], "links": [{"to": "n1", "strength": "high"}]})
    with pytest.raises(MalformedReply, match=r"links\.0\.strength"):
        parse_reply(reply, NoteReply)


def test_describe_error_is_bounded() -> None:
    bad = {"links": [{"to": i, "strength": "x"} for i in range(10)]}
    with pytest.raises(ValidationError) as info:
        NoteReply.model_validate(bad)
    text = describe_error(info.value)
    assert text.count(";") == 4  # four errors, then "... and N more"
    assert text.endswith("more")


def test_schema_is_lenient_where_slips_are_harmless() -> None:
    reply = NoteReply.model_validate(
        {
            "keywords": "painting, lake , charity show",
            "tags": None,
            "context": None,
            "links": None,
            "updates": [{"note": "n1", "add_tags": "art", "add_keywords": None}],
            "confidence": 0.9,
        }
    )
    assert reply.keywords == ["painting", "lake", "charity show"]
    assert reply.tags == [] and reply.context == "" and reply.links == []
    assert reply.updates[0].add_tags == ["art"] and reply.updates[0].add_keywords == []


def test_schema_is_strict_where_guessing_would_be_wrong() -> None:
    with pytest.raises(ValidationError):
        NoteReply.model_validate({"links": [{"to": "n1"}]})  # a link needs a strength
    with pytest.raises(ValidationError):
        NoteReply.model_validate({"keywords": [{"a": 1}]})
    with pytest.raises(ValidationError):
        RewrittenQuery.model_validate({})


def test_numeric_strings_are_accepted_for_strength() -> None:
    reply = parse_reply('{"links": [{"to": "n2", "strength": "0.75"}]}', NoteReply)
    assert reply.links[0].strength == 0.75


def test_bare_keys_and_trailing_commas_are_repaired() -> None:
    # a small model answering in the style of the schema outline (seen with a 1.5B model)
    text = (
        '{\n  keywords: ["pottery: class", "a,}"],\n  tags: ["hobby",],\n  context: "x {k: v}",\n}'
    )
    assert repair_json(text) == (
        '{\n  "keywords": ["pottery: class", "a,}"],\n  "tags": ["hobby"],\n'
        '  "context": "x {k: v}"\n}'
    )
    reply = parse_reply(text, NoteReply)
    assert reply.keywords == ["pottery: class", "a,}"] and reply.context == "x {k: v}"


def test_repair_leaves_valid_json_alone() -> None:
    valid = '{"keywords": ["a"], "tags": [], "context": "b, }"}'
    assert repair_json(valid) == valid
