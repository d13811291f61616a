"""Recall through the facade: any domain, bare task or whole observation, scopes kept apart."""

from __future__ import annotations

from typing import Any

import pytest
from domains_data import CODING, LAB, WEB, all_domains, trajectory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memory import AgenticMemory
from memory.errors import InvalidTrajectory
from memory.procedures import Hints, build_profile, recall_query


def _learn_all(mem: AgenticMemory, user: str = "u1") -> None:
    for ts in all_domains().values():
        for t in ts:
            mem.learn(t, user_id=user)


def _top(mem: AgenticMemory, query: str, user: str = "u1") -> Any:
    hits = mem.recall(query, k=3, user_id=user, kinds=["procedure"])
    return hits[0].note if hits else None


def test_recall_finds_the_kind_in_any_domain_from_a_new_task(mem: AgenticMemory) -> None:
    _learn_all(mem)
    assert "code_test_1" in _top(mem, "Fix the failing test test_io in tests/test_disk.py").sources
    assert "code_branches_1" in _top(mem, "clean up the stale branches merged into trunk").sources
    assert _top(mem, "book a flight to Oslo and put it in my calendar").sources == ["web_flight_1"]
    assert _top(mem, "connect the battery to the green wire and test the lamp").sources == [
        "lab_circuit_1"
    ]


def test_a_whole_observation_finds_the_same_procedure_as_its_task(mem: AgenticMemory) -> None:
    _learn_all(mem)
    observation = (
        "dev@box:~/shop (main)$ ls\nsrc/  tests/  README.md  pyproject.toml\n"
        "You have a shell in the repository shop. Python 3.11 and git are installed.\n"
        "Fix the failing test test_cart in tests/test_basket.py"
    )
    assert "code_test_1" in _top(mem, observation).sources
    profile = build_profile(mem._procedural.learned_notes(mem_scope()))
    query = recall_query(observation, profile)
    assert query.statement == "Fix the failing test test_cart in tests/test_basket.py"


def mem_scope() -> Any:
    from memory.model import Scope

    return Scope(user_id="u1")


def test_same_kind_is_merged_on_learn_with_every_source(mem: AgenticMemory) -> None:
    first = mem.learn(CODING[2], user_id="u1")
    second = mem.learn(CODING[3], user_id="u1")
    assert first[0].id == second[0].id
    assert second[0].sources == ["code_branches_1", "code_branches_2"]
    procedures = [n for n in mem._procedural.learned_notes(mem_scope()) if n.kind == "procedure"]
    assert len(procedures) == 1
    assert mem.learn(CODING[3], user_id="u1")[0].id == first[0].id  # learned twice: no change


def test_utility_orders_notes_of_one_key_never_across_keys(mem: AgenticMemory) -> None:
    _learn_all(mem)
    flight = _top(mem, "book a flight to Rome and put it in my calendar")
    cart = _top(mem, "search for a hdmi cable and add it to the cart")
    for _ in range(5):
        mem.feedback([cart.id], True, user_id="u1")
    again = _top(mem, "book a flight to Rome and put it in my calendar")
    assert again.id == flight.id


def test_recall_text_renders_steps_for_a_prompt(mem: AgenticMemory) -> None:
    _learn_all(mem)
    text = mem.recall_text("heat the oil sample to 80 degrees", k=2, user_id="u1")
    assert text.startswith("Lessons from past tasks")
    assert "[procedure] When to use: heat the <arg1> to 60 degrees" in text
    assert "wait (x3)" in text
    assert mem.recall_text("anything", user_id="nobody") == ""


def test_hints_are_optional_and_change_only_what_they_name(mem: AgenticMemory) -> None:
    learned = mem.learn(LAB[0], user_id="u1", hints=Hints(skill_words={"water"}))
    assert "water" in learned[0].metadata["distilled"]["skill"]
    plain = mem.learn(LAB[1], user_id="u1")
    assert plain[0].metadata["distilled"]["arguments"]["<arg1>"] == "salt solution"


def test_bad_trajectories_leave_nothing_stored(mem: AgenticMemory) -> None:
    bad: list[Any] = [
        {"id": "e", "task": "t", "steps": [], "success": True},
        {"id": "n", "task": "t", "steps": [{"action": 7}], "success": True},
        {
            "id": "h",
            "task": "t",
            "steps": [{"action": "a", "observation": "x" * 60_000}],
            "success": True,
        },
        "just text",
    ]
    for value in bad:
        with pytest.raises(InvalidTrajectory):
            mem.learn(value, user_id="u1")
    assert mem._procedural.learned_notes(mem_scope()) == []


_text = st.text(min_size=1, max_size=60)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    task=_text,
    actions=st.lists(_text, min_size=1, max_size=6),
    success=st.booleans(),
    query=_text,
)
def test_any_text_learns_or_is_rejected_and_recall_stays_in_scope(
    mem: AgenticMemory, task: str, actions: list[str], success: bool, query: str
) -> None:
    value = {
        "task": task,
        "steps": [{"action": a, "observation": a[::-1]} for a in actions],
        "success": success,
    }
    try:
        mem.learn(value, user_id="alice")
    except InvalidTrajectory as error:
        assert str(error)
    mem.learn(WEB[1], user_id="bob")
    try:
        hits = mem.recall(query, user_id="alice")
    except Exception as error:  # only the facade's own validation may refuse a query
        from memory.errors import InvalidInput

        assert isinstance(error, InvalidInput)
        return
    assert all(h.note.user_id == "alice" for h in hits)
    assert all("web_cart_1" not in h.note.sources for h in hits)


@settings(max_examples=40, deadline=None)
@given(task=_text, actions=st.lists(_text, min_size=1, max_size=8), query=_text)
def test_pure_functions_never_raise_on_any_text(task: str, actions: list[str], query: str) -> None:
    from memory.procedures import distill_batch, rank_recalled

    steps = [{"action": a} for a in actions]
    try:
        drafts = distill_batch(
            [
                {"id": "a", "task": task, "steps": steps, "success": True},
                {"id": "b", "task": task, "steps": steps, "success": False},
            ]
        )
    except InvalidTrajectory:
        return
    notes = [d.to_note(user_id="u") for d in drafts]
    for note, _ in rank_recalled(query, notes):
        assert note in notes


def test_a_failed_trajectory_in_a_fresh_scope_with_a_cause_is_an_avoid_note(
    mem: AgenticMemory,
) -> None:
    mem.learn(LAB[0], user_id="u1")
    failed = trajectory(
        "lab_fail",
        "heat the milk sample to 40 degrees",
        [("move milk sample to heater", "ok"), ("use thermometer on milk sample", "20 degrees")],
        success=False,
    )
    (avoid,) = mem.learn(failed, user_id="u1")
    assert "avoid" in avoid.tags and '"turn heater on"' in avoid.content
    hits = mem.recall("heat the milk sample to 40 degrees", k=3, user_id="u1")
    assert {h.note.id for h in hits} >= {avoid.id}


def test_a_short_fragment_does_not_pass_for_the_task_statement() -> None:
    from memory.procedures.statement import weigh_parts

    keys = [["store", "the", "in", "the", "pantry"], ["eat", "the"], ["go", "west", "then"]]
    idf = {"store": 2.0, "the": 0.1, "in": 0.3, "pantry": 1.5, "eat": 2.0, "go": 1.8}
    parts = [
        ["pantry"],  # a room header: one word of a key, a perfect cosine
        ["you", "see", "a", "box", "and", "a", "shelf"],  # a listing: no key word
        ["store", "the", "hat", "in", "the", "box"],  # the task
    ]
    at, weights = weigh_parts(
        parts,
        keys=keys,
        idf=lambda w: idf.get(w, 2.5),
        weight=lambda w: 1.0,
        task_vocabulary={w for key in keys for w in key},
    )
    assert at == 2
    assert weights[2] == 1.0
    assert weights[1] == 0.0  # matches no key
    assert 0.0 < weights[0] < 1.0  # covers less of its key than the task does
    # Nothing matches any key: nothing tells the parts apart, every part counts.
    assert weigh_parts(
        [["x"], ["y"]], keys=keys, idf=lambda w: 1.0, weight=lambda w: 1.0, task_vocabulary=set()
    ) == (0, [1.0, 1.0])


def test_words_spelt_inside_a_path_count_as_entities_not_as_the_kind(
    mem: AgenticMemory,
) -> None:
    from memory.procedures.recall import relevance

    rename = trajectory(
        "rename_billing",
        "Rename the function calc to compute_total everywhere in the codebase",
        [
            ("grep -rn calc src", "src/billing.py:3: def calc(items):"),
            ("sed -i s/calc/compute_total/g src/billing.py", "edited"),
        ],
    )
    failing = trajectory(
        "failing_cart",
        "The tests in tests/test_cart.py are failing, make them pass",
        [
            ("pytest tests/test_cart.py -q", "2 failed"),
            ("sed -n 1,40p src/cart.py", "def total(items): ..."),
            ("pytest tests/test_cart.py -q", "2 passed"),
        ],
    )
    for run in (rename, failing):
        mem.learn(run, user_id="u1")
    notes = mem._procedural.learned_notes(mem_scope())
    profile = build_profile(notes)
    query = recall_query(
        "Make tests/test_billing.py pass again; something in the billing code broke.", profile
    )
    # "billing" only ever named an argument (the file the rename edited): as a word of
    # the query's path it weighs its skill share; "pass" is not inside an identifier.
    assert query.weights["billing"] == pytest.approx(profile.skill_share("billing"))
    assert query.weights["billing"] < query.weights["pass"]
    scores = relevance(query, profile)
    by_source = {note.sources[0]: scores[note.id] for note in notes}
    assert by_source["failing_cart"] > by_source["rename_billing"]


def test_recalled_notes_are_copies_the_caller_may_change(mem: AgenticMemory) -> None:
    _learn_all(mem)
    query = "Fix the failing test test_io in tests/test_disk.py"
    first = mem.recall(query, k=1, user_id="u1")[0].note
    first.metadata["distilled"]["steps"].clear()
    first.tags.append("scribbled")
    again = mem.recall(query, k=1, user_id="u1")[0].note
    assert again.id == first.id
    assert again.metadata["distilled"]["steps"] and "scribbled" not in again.tags
