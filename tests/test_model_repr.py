"""Notes, search results and history events print as one readable line."""

from __future__ import annotations

from datetime import datetime, timezone

from memory import AgenticMemory, Event, Note, SearchResult


def test_note_repr_is_short_and_names_what_matters() -> None:
    note = Note(
        id="0123456789abcdef0123456789abcdef",
        content="Melanie: " + "pottery " * 40,
        keywords=["pottery", "class"],
        tags=["hobbies"],
        links={"a": 0.5, "b": 0.7},
        user_id="u1",
    )
    text = repr(note)
    assert text.startswith("Note(id='01234567…', kind='episodic', content='Melanie: pottery")
    assert "keywords=['pottery', 'class']" in text and "tags=['hobbies']" in text
    assert "links=2" in text and "user_id='u1'" in text and "agent_id" not in text
    assert len(text) < 250 and "\n" not in text
    assert str(note) == note.content


def test_search_result_shows_score_and_route() -> None:
    note = Note(content="Caroline: the support group was powerful")
    direct = SearchResult(note=note, score=0.51234)
    linked = SearchResult(note=note, score=0.2, found_by="link", linked_from="f" * 32)
    assert repr(direct).startswith("SearchResult(score=0.512, found_by='direct', note=Note(")
    assert "linked_from='ffffffff…'" in repr(linked)
    assert str(direct) == "0.512  Caroline: the support group was powerful"
    assert str(linked).startswith("0.200 (via link)  Caroline")


def test_event_shows_what_changed() -> None:
    event = Event(
        note_id="n" * 32,
        action="update",
        at=datetime(2024, 5, 8, 13, 56, tzinfo=timezone.utc),
        before={"content": "I am vegetarian"},
        after={"content": "I eat fish now"},
        reason="updated by the caller",
    )
    assert repr(event) == (
        "Event(action='update', note_id='nnnnnnnn…', at='2024-05-08T13:56:00+00:00', "
        "actor='user', changed=['content'], reason='updated by the caller')"
    )
    assert str(event) == (
        "2024-05-08 13:56:00 update by user: content: I am vegetarian → I eat fish now "
        "(updated by the caller)"
    )


def test_a_creation_event_shows_the_content_not_every_field(mem: AgenticMemory) -> None:
    note = mem.add("Melanie: I signed up for a pottery class!")
    created = mem.history(note.id)[0]
    assert "content='Melanie: I signed up for a pottery class!'" in repr(created)
    assert "create by" in str(created) and "pottery class" in str(created)
    assert "retrieved_count" not in repr(created) + str(created)
