"""Facts that supersede: the older note stays, marked, and search shows the current first."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from memory import AgenticMemory
from memory.mind.base import Candidate, NoteDraft
from memory.model import Note
from memory.supersede import change_cue, current_first, supersessions, value_change

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _draft(text: str, minutes: int = 60) -> NoteDraft:
    return NoteDraft(content=text, timestamp=T0 + timedelta(minutes=minutes))


def test_cues_and_value_changes() -> None:
    assert change_cue("The stand-up moved to 10:15") == "moved"
    assert change_cue("The stand-up is at 9:30") is None
    assert value_change("Priya is the on-call engineer", "Marco is the on-call engineer") == (
        {"priya"},
        {"marco"},
    )
    assert value_change("The stand-up is at 9:30", "Lunch is at 12:30") is None


def test_the_rule_needs_subject_similarity_and_a_cue() -> None:
    old = Note(content="The team stand-up is at 9:30", keywords=["team stand-up"], timestamp=T0)
    new = _draft("The team stand-up moved to 10:15")
    assert [
        s.target_id
        for s in supersessions(new, ["team stand-up"], [Candidate(note=old, similarity=0.8)])
    ] == [old.id]
    # Too dissimilar, a question, another subject, or a newer "old" note: nothing.
    assert not supersessions(new, ["team stand-up"], [Candidate(note=old, similarity=0.4)])
    asked = _draft("Is the team stand-up still at 9:30?")
    assert not supersessions(asked, ["team stand-up"], [Candidate(note=old, similarity=0.9)])
    assert not supersessions(new, ["lunch"], [Candidate(note=old, similarity=0.8)])
    later = old.model_copy(update={"timestamp": T0 + timedelta(days=1)})
    assert not supersessions(new, ["team stand-up"], [Candidate(note=later, similarity=0.8)])


def test_a_value_swap_without_a_cue_is_a_new_event_not_an_update() -> None:
    old = Note(content="I ran 5 km along the river", keywords=["river"], timestamp=T0)
    new = _draft("I ran 10 km along the river")
    assert not supersessions(new, ["river"], [Candidate(note=old, similarity=0.9)])


def test_another_speaker_does_not_supersede() -> None:
    old = Note(content="Ana: my stand-up is at 9:30", keywords=["stand-up"], timestamp=T0)
    new = _draft("Ben: my stand-up moved to 10:15")
    assert not supersessions(new, ["stand-up"], [Candidate(note=old, similarity=0.9)])


def test_current_first_pulls_the_successor_up() -> None:
    table = {"old": "new", "new": None, "x": None}
    lookup = lambda ids: {i: table[i] for i in ids if i in table}  # noqa: E731
    ranked = [("x", 3.0), ("old", 2.0), ("y", 1.0), ("new", 0.5)]
    assert current_first(ranked, lookup) == [("x", 3.0), ("new", 2.0), ("old", 2.0), ("y", 1.0)]
    assert current_first(ranked, lookup, include_superseded=False) == [
        ("x", 3.0),
        ("new", 2.0),
        ("y", 1.0),
    ]
    # A deleted successor: the old note is current again.
    assert current_first([("old", 1.0)], lambda ids: {i: "gone" for i in ids if i == "old"}) == [
        ("old", 1.0)
    ]


def test_current_first_pulls_up_only_relevant_successors() -> None:
    table = {"old": "new", "new": None, "x": None, "y": None}
    lookup = lambda ids: {i: table.get(i) for i in ids}  # noqa: E731
    ranked = [("x", 3.0), ("old", 2.0), ("y", 1.0)]
    # The query did not rank the successor: it does not push "y" out.
    assert current_first(ranked, lookup, relevant={"x", "old", "y"}) == ranked
    # Ranked with the old note: moved right above it, nothing leaves the list.
    window = [*ranked, ("new", 0.5)]
    assert current_first(window, lookup, relevant={nid for nid, _ in window}) == [
        ("x", 3.0),
        ("new", 2.0),
        ("old", 2.0),
        ("y", 1.0),
    ]
    # Dropping superseded notes still shows the current version in their place.
    assert current_first(ranked, lookup, include_superseded=False, relevant={"x"}) == [
        ("x", 3.0),
        ("new", 2.0),
        ("y", 1.0),
    ]


def test_supersession_in_the_memory(mem: AgenticMemory) -> None:
    old = mem.add("The team stand-up is at 9:30 every morning", user_id="u", timestamp=T0)
    mem.add("Lunch with the design team on Friday", user_id="u", timestamp=T0 + timedelta(hours=1))
    new = mem.add(
        "The team stand-up moved to 10:15 every morning",
        user_id="u",
        timestamp=T0 + timedelta(days=1),
    )
    stored = mem.get(old.id)
    assert stored.superseded_by == new.id
    [event] = [e for e in mem.history(old.id) if e.action == "supersede"]
    assert event.after == {"superseded_by": new.id} and "moved" in event.reason
    hits = [h.note.id for h in mem.search("What time is the team stand-up?", k=3, user_id="u")]
    assert hits.index(new.id) < hits.index(old.id)
    current = mem.search("team stand-up at 9:30", k=3, user_id="u", include_superseded=False)
    assert old.id not in [h.note.id for h in current] and current[0].note.id == new.id


def test_supersession_never_crosses_scopes(mem: AgenticMemory) -> None:
    old = mem.add("The team stand-up is at 9:30 every morning", user_id="a", timestamp=T0)
    mem.add(
        "The team stand-up moved to 10:15 every morning",
        user_id="b",
        timestamp=T0 + timedelta(days=1),
    )
    assert mem.get(old.id).superseded_by is None
