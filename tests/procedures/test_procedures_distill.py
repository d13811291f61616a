"""Distillation: every action kept and generalised, failures compared with the closest success."""

from __future__ import annotations

import re

import pytest
from domains_data import CODING, LAB, TEXTGAME, WEB, all_domains, trajectory
from procedures_data import by_id, gold_items, gold_trajectories

from memory.errors import InvalidTrajectory
from memory.model import Step, Trajectory
from memory.procedures import (
    AVOID_TAG,
    CHOICE,
    DistilledNote,
    action_template,
    coerce_trajectory,
    diagnose_failure,
    distill_trajectory,
    fold,
    instance_words,
)
from memory.procedures.distill import MAX_STEPS, MAX_TEXT_CHARS
from memory.procedures.steps import is_thought, unfold


def _procedure(t: Trajectory) -> DistilledNote:
    (note,) = distill_trajectory(t)
    assert note.kind == "procedure"
    return note


def _step_texts(note: DistilledNote) -> list[str]:
    return [m.group(1) for m in re.finditer(r"(?m)^\d+\. (.*)$", note.content)]


@pytest.mark.parametrize("domain", ["coding", "web", "lab", "textgame"])
def test_every_action_is_kept_in_order_as_a_step(domain: str) -> None:
    for t in all_domains()[domain]:
        note = _procedure(t)
        actions = [s for s in t.steps if not is_thought(s)]
        expanded: list[str] = []
        for line in note.metadata["steps"]:
            body, _, count = line.rpartition(" (x")
            parts = unfold(line)
            times = int(count.rstrip(")")) if body else 1
            expanded += parts * times
        assert len(expanded) == len(actions) == note.metadata["actions"], t.id
        assert note.metadata["thoughts"] == len(t.steps) - len(actions)
        assert _step_texts(note) == note.metadata["steps"]


def test_actions_without_numbered_objects_survive() -> None:
    circuit = _step_texts(_procedure(LAB[2]))
    assert circuit[:2] == ["open door to workshop", "look around"]
    assert "connect <arg1> to <arg2>" in circuit
    heat = _step_texts(_procedure(LAB[0]))
    assert heat == [
        "move <arg1> to heater",
        "turn heater on",
        "wait (x3)",
        "use thermometer on <arg1>",
    ]


def test_disambiguation_answers_become_choose_the_matching_option() -> None:
    steps = _step_texts(_procedure(TEXTGAME[0]))
    assert steps[2] == CHOICE and "1" not in steps
    # A bare number not answering a question stays as it is.
    plain = trajectory("n", "press 2", [("look", "a keypad"), ("2", "beep")])
    assert _step_texts(_procedure(plain))[-1] == "2"


def test_instance_numbers_go_only_where_observations_number_things() -> None:
    instances = instance_words(["You see a cabinet 3 and a drawer 1.", "sleep"])
    assert instances == {"cabinet", "drawer"}
    assert action_template("open cabinet 3", {}, instances) == "open cabinet"
    assert action_template("sleep 5", {}, instances) == "sleep 5"
    assert "sleep 5" in _step_texts(_procedure(CODING[4]))
    for t in gold_trajectories():
        for step in _step_texts(_procedure(t)):
            assert not re.search(r"\b[a-z]+ \d+\b", step), (t.id, step)


def test_arguments_become_placeholders_in_steps_of_every_domain() -> None:
    flight = _step_texts(_procedure(WEB[0]))
    assert "type destination <arg2>" in flight and "Lisbon" not in " ".join(flight)
    test_fix = _procedure(CODING[0])
    assert all("test_totals" not in s for s in _step_texts(test_fix))
    heat = _step_texts(_procedure(by_id("react_heat_0")))
    assert "heat <arg1> with microwave" in heat
    assert heat[-2:] == ["go to <arg2>", "put <arg1> in/on <arg2>"]


def test_repeats_fold_with_their_count() -> None:
    assert fold(["wait", "wait", "wait"]) == ["wait (x3)"]
    assert fold(["go to a", "open a", "go to a", "open a", "take x"]) == [
        "go to a; open a (x2)",
        "take x",
    ]
    assert fold(["a", "b", "a"]) == ["a", "b", "a"]


def test_procedure_fields_and_provenance() -> None:
    for t in gold_trajectories():
        note = _procedure(t)
        assert note.sources == [t.id]
        assert note.when_to_use.startswith(note.metadata["phrase"])
        assert note.content.startswith(f"When to use: {note.metadata['phrase']}\nSteps:\n1. ")
        assert f"Learned from: {t.task.strip()}" in note.content


def test_notes_are_shorter_than_the_trajectory_they_come_from() -> None:
    for item in gold_items():
        raw = "\n".join(f"> {s['action']}\n{s['observation']}" for s in item["steps"])
        assert len(_procedure(by_id(item["id"])).content) < len(raw), item["id"]


def _failed_fix(tail: list[tuple[str, str]], **metadata: object) -> Trajectory:
    head = [("pytest tests/test_cart.py::test_sum -q", "1 failed")]
    return trajectory(
        "fail_fix",
        "Fix the failing test test_sum in tests/test_cart.py",
        head + tail,
        success=False,
        **metadata,
    )


def test_failure_names_where_it_left_the_closest_success() -> None:
    known = [_procedure(t) for t in CODING]
    failed = _failed_fix([("git commit -am wip", "[main] wip")])
    (note,) = distill_trajectory(failed, known=known)
    assert note.kind == "concept" and AVOID_TAG in note.tags and note.is_avoid
    assert note.sources == ["fail_fix"]
    (cause,) = [c for c in note.metadata["causes"] if c["kind"] == "diverged"]
    # Step 1 (the test run) is on the path; step 2 commits where the success reads the code.
    assert "at step 2" in cause["detail"] and '"git commit -am wip"' in cause["detail"]
    assert 'where it does "sed -n 1,40p src/' in cause["detail"]
    assert "the failing" in note.name and "What went wrong:" in note.content


def test_failure_that_stops_short_is_told_what_comes_next() -> None:
    known = [_procedure(t) for t in LAB]
    failed = trajectory(
        "fail_heat",
        "heat the oil sample to 80 degrees",
        [("move oil sample to heater", "ok"), ("turn heater on", "on")],
        success=False,
    )
    causes = diagnose_failure(failed, known=known)
    assert [c.kind for c in causes] == ["stopped_early"]
    assert '"wait"' in causes[0].detail


def test_loops_and_reported_reasons_are_causes_without_known_procedures() -> None:
    looping = trajectory(
        "loop",
        "open the vault",
        [("push door", "It is stuck.")] * 3,
        success=False,
        failure_reason="timeout",
    )
    kinds = [c.kind for c in diagnose_failure(looping)]
    assert kinds == ["reported", "loop"]
    assert distill_trajectory(looping)[0].is_avoid


def test_failure_without_visible_cause_teaches_nothing() -> None:
    silent = trajectory("quiet", "open the vault", [("push door", "It opens a bit.")], False)
    assert diagnose_failure(silent) == []
    assert distill_trajectory(silent) == []
    # Unrelated known procedures share no step: no path to leave, still nothing.
    assert distill_trajectory(silent, known=[_procedure(t) for t in CODING]) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "x", "task": "t", "steps": [], "success": True},
        {"id": "x", "task": "t", "steps": [{"action": 3}], "success": True},
        {"id": "x", "task": "t", "steps": [{"action": "a"}]},
        {"id": "x", "task": " ", "steps": [{"action": "a"}], "success": True},
        {
            "id": "x",
            "task": "t",
            "steps": [{"action": "a", "observation": "o" * (MAX_TEXT_CHARS + 1)}],
            "success": True,
        },
        {"id": "x", "task": "t", "steps": [{"action": "a"}] * (MAX_STEPS + 1), "success": True},
        ["not", "a", "trajectory"],
    ],
)
def test_bad_trajectories_are_rejected_with_a_clear_error(bad: object) -> None:
    with pytest.raises(InvalidTrajectory) as error:
        coerce_trajectory(bad)  # type: ignore[arg-type]
    assert str(error.value)


def test_to_note_maps_fields_and_keeps_the_callers_metadata_apart() -> None:
    draft = _procedure(by_id("react_clean_0"))
    note = draft.to_note(user_id="u1", metadata={"run": 7})
    assert note.kind == "procedure" and note.user_id == "u1"
    assert note.when_to_use == draft.when_to_use and note.sources == ["react_clean_0"]
    assert note.metadata["run"] == 7
    assert note.metadata["distilled"]["arguments"] == {"<arg1>": "lettuce", "<arg2>": "diningtable"}


def test_thought_steps_are_counted_not_kept() -> None:
    t = Trajectory(
        id="th",
        task="ping the server",
        success=True,
        steps=[Step(action="think: check it first"), Step(action="ping server", observation="up")],
    )
    note = _procedure(t)
    assert note.metadata["thoughts"] == 1 and _step_texts(note) == ["ping <arg1>"]
