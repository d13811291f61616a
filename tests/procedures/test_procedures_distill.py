"""Distilling the real gold trajectories into procedures, and failures into avoid notes."""

from __future__ import annotations

import re

import pytest
from procedures_data import by_id, gold_items, gold_trajectories

from memory.errors import InvalidTrajectory
from memory.model import Step, Trajectory
from memory.procedures import (
    AVOID_TAG,
    OBJECT,
    RECEPTACLE,
    DistilledNote,
    diagnose_failure,
    distill_trajectory,
    parse_task,
    recall_key,
)


def _procedure(trajectory_id: str) -> DistilledNote:
    (note,) = distill_trajectory(by_id(trajectory_id))
    return note


def _steps(note: DistilledNote) -> list[str]:
    body = note.content.split("Steps:\n", 1)[1].split("\nLearned from:", 1)[0]
    return [re.sub(r"^\d+\. ", "", line) for line in body.splitlines()]


def test_each_success_gives_one_procedure_with_provenance_and_key() -> None:
    for trajectory in gold_trajectories():
        notes = distill_trajectory(trajectory)
        assert len(notes) == 1
        (note,) = notes
        assert note.kind == "procedure" and not note.is_avoid
        assert note.sources == [trajectory.id]
        assert note.when_to_use == recall_key(trajectory.task)
        assert note.content.startswith(f"When to use: {parse_task(trajectory.task).phrase}\n")
        assert "\nSteps:\n1. " in note.content


def test_steps_are_generalised_without_names_numbers_or_thoughts() -> None:
    for trajectory in gold_trajectories():
        intent = parse_task(trajectory.task)
        steps = _steps(distill_trajectory(trajectory)[0])
        text = "\n".join(steps)
        assert not re.search(r"\b[a-z]+ \d+\b", text), (trajectory.id, text)
        assert "think" not in text and "Nothing happens" not in text
        assert intent.object not in text.split(), (trajectory.id, text)
        assert f"take {OBJECT}" in steps
        if intent.receptacle:
            assert steps[-2:] == [f"go to {RECEPTACLE}", f"put {OBJECT} in/on {RECEPTACLE}"]


def test_heat_procedure_reads_as_the_recipe() -> None:
    steps = _procedure("react_heat_0").content
    assert _steps(_procedure("react_heat_0")) == [
        f"find {OBJECT}: check fridge, countertops one by one, opening closed ones "
        "(found at countertop)",
        f"take {OBJECT}",
        "go to microwave",
        f"heat {OBJECT} with microwave",
        f"go to {RECEPTACLE}",
        f"put {OBJECT} in/on {RECEPTACLE}",
    ]
    assert "Learned from: heat some egg and put it in diningtable." in steps


def test_clean_cool_heat_differ_by_the_verbs_and_tools_used() -> None:
    expected = {"clean": "sinkbasin", "cool": "fridge", "heat": "microwave"}
    for item in gold_items():
        if item["type"] not in expected:
            continue
        note = distill_trajectory(item)[0]
        verb, tool = item["type"], expected[item["type"]]
        assert note.metadata["verbs"] == ["find", "take", verb, "put"]
        assert f"{verb} {OBJECT} with {tool}" in _steps(note)
        assert verb in note.keywords and tool in note.tags
        others = set(expected) - {verb}
        assert not others & set(note.metadata["verbs"])


def test_puttwo_repeats_the_cycle_and_examine_uses_the_lamp() -> None:
    puttwo = _steps(_procedure("react_puttwo_2"))
    assert puttwo.count(f"take {OBJECT}") == 2
    assert puttwo.count(f"put {OBJECT} in/on {RECEPTACLE}") == 2
    assert puttwo[4].startswith(f"find another {OBJECT}: check shelves, cabinets")
    examine = _steps(_procedure("react_examine_0"))
    assert examine[-2:] == [
        "find desklamp: check desk, sidetables one by one (found at sidetable)",
        "use desklamp",
    ]
    assert _procedure("react_examine_0").tags == ["examine", "desklamp"]


def test_searches_collapse_and_folded_log_lines_are_recovered() -> None:
    # react_cool_0 logs "go to stoveburner 1/2" inside a thought's observation.
    find = _steps(_procedure("react_cool_0"))[0]
    assert find == f"find {OBJECT}: check stoveburners one by one (found at stoveburner)"
    # react_put_2 opened four cabinets: one find step, cabinets named once.
    find = _steps(_procedure("react_put_2"))[0]
    assert find.count("cabinet") == 1 and "opening closed ones" in find
    assert len(_steps(_procedure("react_put_2"))) == 4


def test_dicts_are_accepted_and_bad_ones_rejected() -> None:
    item = gold_items()[0]
    assert distill_trajectory(item)[0].sources == [item["id"]]
    with pytest.raises(InvalidTrajectory):
        distill_trajectory({"id": "x", "task": "put a mug in shelf.", "steps": []})


def _failed_heat(steps_tail: list[Step], **extra: object) -> Trajectory:
    base = by_id("react_heat_0")
    cut = next(i for i, s in enumerate(base.steps) if s.action.startswith("heat "))
    return Trajectory(
        id="fail_heat", task=base.task, steps=[*base.steps[:cut], *steps_tail], **extra
    )  # type: ignore[arg-type]


def test_failure_gives_an_avoid_note_naming_what_went_wrong() -> None:
    wrong_tool = Step(action="heat egg 2 with fridge 1", observation="Nothing happens.")
    failed = _failed_heat([wrong_tool, wrong_tool], success=False)
    (note,) = distill_trajectory(failed)
    assert note.kind == "concept" and AVOID_TAG in note.tags and note.is_avoid
    assert note.sources == ["fail_heat"]
    assert note.when_to_use == recall_key(failed.task)
    kinds = [c["kind"] for c in note.metadata["causes"]]
    assert kinds == ["no_effect", "missing_stage", "missing_stage"]
    assert f'"heat {OBJECT} with fridge" did nothing (2 times)' in note.content
    assert f"never got to: heat {OBJECT} with microwave" in note.content
    assert "make sure to heat <object> with microwave" in note.content


def test_reward_below_half_is_a_failure_and_loops_are_detected() -> None:
    looping = [Step(action="go to cabinet 1", observation="The cabinet 1 is closed.")] * 3
    failed = _failed_heat(looping, reward=0.0)
    causes = diagnose_failure(failed)
    loop = [c for c in causes if c.kind == "loop"]
    assert len(loop) == 1 and 'repeated "go to cabinet" 3 times' in loop[0].detail
    assert distill_trajectory(failed)[0].is_avoid


def test_wrong_object_and_reported_reason_are_causes() -> None:
    failed = Trajectory(
        id="wrong",
        task="put some spraybottle on toilet.",
        steps=[
            Step(action="go to cabinet 1", observation="On the cabinet 1, you see a soapbottle 1."),
            Step(action="take soapbottle 1 from cabinet 1", observation="You pick up it."),
            Step(action="go to toilet 1", observation="On the toilet 1, you see nothing."),
            Step(action="put soapbottle 1 in/on toilet 1", observation="You put it."),
        ],
        success=False,
        metadata={"failure_reason": "episode judged wrong object"},
    )
    kinds = [c.kind for c in diagnose_failure(failed)]
    assert kinds[0] == "reported"
    assert "wrong_object" in kinds
    assert "took soapbottle instead of spraybottle" in distill_trajectory(failed)[0].content


def test_failure_without_visible_cause_teaches_nothing() -> None:
    # Every stage done, right object and place, no no-op: nothing to blame.
    silent = by_id("react_heat_0").model_copy(update={"id": "silent", "success": False})
    assert diagnose_failure(silent) == []
    assert distill_trajectory(silent) == []


def test_to_note_maps_fields_and_keeps_the_callers_metadata_apart() -> None:
    draft = _procedure("react_clean_0")
    note = draft.to_note(user_id="u1", metadata={"run": 7})
    assert note.kind == "procedure" and note.user_id == "u1"
    assert note.when_to_use == draft.when_to_use and note.sources == ["react_clean_0"]
    assert note.metadata["run"] == 7
    assert note.metadata["distilled"]["family"] == "clean"
    assert note.metadata["distilled"]["segments"][0]["routine"] == "find"
