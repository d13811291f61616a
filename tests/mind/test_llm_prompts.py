"""Prompt rendering: aliases, truncation, the generated schema outline, the token budget."""

from __future__ import annotations

from datetime import datetime, timezone

from memory.llm.tokens import estimate_prompt_tokens
from memory.mind.base import Candidate, NoteDraft
from memory.mind.llm.prompts import (
    CANDIDATE_CHARS,
    MAX_CANDIDATES,
    NEW_NOTE_END,
    build_note_request,
    clip,
    json_instructions,
    schema_outline,
)
from memory.mind.llm.schema import NoteReply, RewrittenQuery
from memory.model import Note

WHEN = datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)

# Short chat turns in the style of LoCoMo, with the structure a mind gives them.
TURNS = [
    "Caroline: I went to a LGBTQ support group yesterday and it was so powerful.",
    "Melanie: Wow, that's cool, Caroline! What happened that was so awesome? Did you hear "
    "any inspiring stories?",
    "Caroline: The transgender stories were so inspiring! I was so happy and thankful for "
    "all the support.",
    "Melanie: That's really cool. You've got guts. What now?",
    "Caroline: Gonna continue my edu and check out career options, which is pretty exciting!",
]


def _candidate(content: str, index: int = 0) -> Candidate:
    note = Note(
        id=f"note-{index}",
        content=content,
        keywords=["support group", "transgender stories", "Caroline", "career options"],
        tags=["community", "identity"],
        context="Caroline tells Melanie about her support group and plans, 8 May 2023",
        timestamp=WHEN,
    )
    return Candidate(note=note, similarity=0.6)


def _draft(content: str) -> NoteDraft:
    return NoteDraft(
        content=content, timestamp=WHEN, metadata={"speaker": "Melanie", "dia_id": "D1:7"}
    )


def test_aliases_follow_candidate_order_and_skip_duplicates() -> None:
    first, second = _candidate("a", 1), _candidate("b", 2)
    request = build_note_request(_draft("new"), [first, second, first])
    assert request.aliases == {"n1": "note-1", "n2": "note-2"}
    assert "n3" not in request.user
    assert "note-1" not in request.user


def test_candidates_are_capped() -> None:
    candidates = [_candidate(f"turn {i}", i) for i in range(MAX_CANDIDATES + 3)]
    request = build_note_request(_draft("new"), candidates)
    assert len(request.aliases) == MAX_CANDIDATES


def test_candidate_content_is_truncated() -> None:
    long = "word " * 400
    request = build_note_request(_draft("new"), [_candidate(long)])
    line = next(line for line in request.user.splitlines() if line.startswith("n1:"))
    assert len(line) <= len("n1: ") + CANDIDATE_CHARS
    assert line.endswith("…")


def test_new_note_shows_time_and_scalar_metadata_only() -> None:
    draft = NoteDraft(
        content="hello", timestamp=WHEN, metadata={"speaker": "Jon", "nested": {"a": 1}}
    )
    header = build_note_request(draft, []).user.splitlines()[0]
    assert header == "NEW NOTE (episodic, 2023-05-08 13:56; speaker=Jon) - describe this note:"


def test_new_note_comes_first_and_is_closed_before_the_candidates() -> None:
    request = build_note_request(_draft("Melanie: my pottery bowl!"), [_candidate(TURNS[0])])
    lines = request.user.splitlines()
    assert lines[1] == "Melanie: my pottery bowl!"
    assert lines[2:4] == [NEW_NOTE_END, "EXISTING NOTES:"]
    assert lines[4].startswith("n1: Caroline: I went")
    assert "NEW NOTE" in request.system and "never copy" in request.system


def test_candidates_show_no_context_and_few_keywords() -> None:
    request = build_note_request(_draft("new"), [_candidate(TURNS[0])])
    assert "support group and plans" not in request.user  # the candidate's context line
    facts = request.user.splitlines()[-1]
    assert (
        facts == "  (2023-05-08; keywords: support group, transgender stories, Caroline; "
        "tags: community, identity)"
    )


def test_clip() -> None:
    assert clip("  a  b\n c ", 10) == "a b c"
    assert clip("alpha beta gamma delta", 12) == "alpha beta…"
    assert len(clip("x" * 50, 10)) == 10


def test_schema_outline_is_generated_from_the_models() -> None:
    outline = schema_outline(NoteReply)
    for name, field in NoteReply.model_fields.items():
        assert f"{name}: " in outline
        if field.description:
            assert field.description in outline
    assert "strength: number" in outline
    assert "context: string | null" in outline
    assert schema_outline(RewrittenQuery) == "{\n  query: string  // the rewritten query\n}"


def test_short_chat_turn_with_five_candidates_fits_the_budget() -> None:
    candidates = [_candidate(turn, i) for i, turn in enumerate(TURNS)]
    request = build_note_request(
        _draft("Melanie: Wow, Caroline! I'm painting a sunrise for the charity show."), candidates
    )
    text_mode = [
        ("system", f"{request.system}\n\n{json_instructions(NoteReply)}"),
        ("user", request.user),
    ]
    tokens = estimate_prompt_tokens(text_mode)
    print(f"prompt tokens (text mode, 5 candidates): {tokens}")
    assert tokens <= 700
