"""Links mean "related": the conversation thread is kept apart, and links say why."""

from __future__ import annotations

from memory import AgenticMemory
from memory.mind.base import Candidate, LinkChoice, MindDecision
from memory.mind.linking import entities, link_choices, related_thread_links
from memory.model import Note


def test_an_unrelated_previous_turn_is_followed_not_linked(mem: AgenticMemory) -> None:
    lag = mem.add("Postgres replication lag hit 40 seconds on the replica", user_id="u")
    allergy = mem.add("I have a severe peanut allergy", user_id="u")
    assert allergy.follows == lag.id and lag.id not in allergy.links


def test_a_related_previous_turn_is_both(mem: AgenticMemory) -> None:
    first = mem.add("The pottery class made clay bowls and mugs", user_id="u")
    second = mem.add("Pottery class again: clay bowls and a glaze", user_id="u")
    assert second.follows == first.id and first.id in second.links
    reasons = [e.reason for e in mem.history(first.id) if e.action == "link"]
    assert reasons and "similarity" in reasons[0]


def test_links_never_cross_scopes(mem: AgenticMemory) -> None:
    first = mem.add("The pottery class made clay bowls and mugs", user_id="a")
    second = mem.add("The pottery class made clay bowls and mugs", user_id="b")
    assert not second.links and second.follows is None and not mem.get(first.id).links


def test_link_reason_names_shared_entities() -> None:
    target = Note(content="Our flight to Lisbon leaves from Gatwick", keywords=["flight"])
    choices = link_choices(
        ["hotel"],
        [Candidate(note=target, similarity=0.2)],
        threshold=0.3,
        entity_weight=0.15,
        content="The hotel in Lisbon is near the castle",
    )
    assert [c.target_id for c in choices] == [target.id]
    assert "shared names lisbon" in choices[0].reason
    assert not link_choices(
        ["hotel"], [Candidate(note=target, similarity=0.2)], threshold=0.3, content="a hotel"
    )


def test_entities_skip_sentence_starts_and_speakers() -> None:
    assert entities("Melanie: We met Priya. Then we saw Lisbon!") == {"priya", "lisbon"}
    assert entities("Melanie: We met Priya. Lisbon was next") == {"priya"}
    assert entities("Today I flew to Lisbon") == {"lisbon"}


def test_thread_links_kept_only_when_related() -> None:
    thread = {"prev": (0.5, "follows the previous turn")}
    unrelated = MindDecision(links=[LinkChoice(target_id="other", strength=0.6)])
    assert related_thread_links(thread, unrelated) == {}
    related = MindDecision(links=[LinkChoice(target_id="prev", strength=0.6, reason="similar")])
    assert related_thread_links(thread, related) == {
        "prev": (0.5, "similar; follows the previous turn")
    }


def test_neighbors_keeps_the_thread_apart(mem: AgenticMemory) -> None:
    lag = mem.add("Postgres replication lag hit 40 seconds on the replica", user_id="u")
    allergy = mem.add("I have a severe peanut allergy", user_id="u")
    after = mem.add("Peanut allergy: carry two adrenaline pens, severe allergy", user_id="u")
    assert lag.id not in [n.id for n in mem.neighbors(allergy.id, user_id="u")]
    threaded = [n.id for n in mem.neighbors(allergy.id, user_id="u", include_thread=True)]
    assert lag.id in threaded and after.id in threaded
    assert threaded.count(after.id) == 1


def test_deleting_a_turn_cuts_the_thread_of_the_next(mem: AgenticMemory) -> None:
    lag = mem.add("Postgres replication lag hit 40 seconds on the replica", user_id="u")
    allergy = mem.add("I have a severe peanut allergy", user_id="u")
    assert allergy.follows == lag.id and not allergy.links
    mem.delete(lag.id, user_id="u")
    assert mem.get(allergy.id, user_id="u").follows is None
    assert any(e.before == {"follows": lag.id} for e in mem.history(allergy.id, user_id="u"))
