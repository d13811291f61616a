"""Concepts (step runs shared by different kinds) and merging of one kind's trajectories."""

from __future__ import annotations

from domains_data import CODING, LAB, all_domains, trajectory
from procedures_data import gold_trajectories

from memory.procedures import (
    distill_batch,
    distill_trajectory,
    extract_concepts,
    kind_similarity,
    merge_drafts,
    rank_recalled,
)


def _lab_and_more() -> list:  # type: ignore[type-arg]
    return [t for ts in all_domains().values() for t in ts]


def test_a_run_shared_by_two_kinds_becomes_a_concept_with_its_users() -> None:
    notes = distill_batch(_lab_and_more())
    concepts = [n for n in notes if n.kind == "concept" and not n.is_avoid]
    heat = next(c for c in concepts if c.name.startswith("move <arg> to heater"))
    assert heat.name == "move <arg> to heater; turn heater on; wait"
    assert heat.when_to_use == heat.name
    assert sorted(heat.sources) == ["lab_boil_1", "lab_heat_1"]
    assert heat.metadata["support"] == 2 and heat.metadata["parameters"] == ["<arg>"]
    users = {n.sources[0]: n.uses_concepts for n in notes if n.kind == "procedure"}
    assert users["lab_heat_1"] == [heat.name] and users["lab_boil_1"] == [heat.name]
    assert users["code_http_1"] == []


def test_one_kind_alone_makes_no_concept() -> None:
    # Two trajectories of one kind share every step, but a concept needs two kinds.
    extraction = extract_concepts([distill_trajectory(t)[0] for t in CODING[:2]], min_support=2)
    assert extraction.concepts == []


def test_extraction_is_stable_and_names_are_unique() -> None:
    drafts = [n for n in distill_batch(gold_trajectories()) if n.kind == "procedure"]
    first, again = extract_concepts(drafts), extract_concepts(list(reversed(drafts)))
    assert sorted(c.name for c in first.concepts) == sorted(c.name for c in again.concepts)
    names = [c.name for c in first.concepts]
    assert len(names) == len(set(names)) and names
    for concept in first.concepts:
        assert len(concept.metadata["kinds"]) >= 2 and "<arg>" in concept.name


def test_trajectories_of_one_kind_merge_keeping_sources_and_variants() -> None:
    drafts = [distill_trajectory(t)[0] for t in CODING[2:4]]
    assert kind_similarity(drafts[0].metadata, drafts[1].metadata) > 0.5
    (merged,) = merge_drafts(drafts)
    assert merged.sources == ["code_branches_1", "code_branches_2"]
    assert merged.metadata["variants"] == [drafts[1].metadata["steps"]]
    assert "Variants seen:" not in merged.content or "git branch -d" in merged.content
    assert merged.metadata["tasks"] == [d.metadata["task"] for d in drafts]


def test_different_kinds_never_merge() -> None:
    drafts = [distill_trajectory(t)[0] for t in [*CODING, *LAB]]
    assert len(merge_drafts(drafts)) == len(drafts) - 2  # the two test fixes, the two cleanups
    gold = [n for n in distill_batch(gold_trajectories()) if n.kind == "procedure"]
    for note in gold:
        kinds = {t.metadata["type"] for t in gold_trajectories() if t.id in note.sources}
        assert len(kinds) == 1, note.sources


def test_tasks_without_skill_words_merge_only_when_they_read_the_same() -> None:
    # Every word of these tasks reappears in the action, so no skill word is left:
    # nothing says "run the test suite" and "publish the docs" are one kind.
    def whole_task_as_tool(tid: str, task: str) -> object:
        return trajectory(tid, task, [(f"tool {task}", "ok")])

    drafts = [
        distill_trajectory(whole_task_as_tool(tid, task))[0]  # type: ignore[arg-type]
        for tid, task in [("a", "Run the test suite"), ("b", "Publish the docs")]
    ]
    assert len(merge_drafts(drafts)) == 2
    again = distill_trajectory(whole_task_as_tool("c", "run the  test suite"))[0]  # type: ignore[arg-type]
    (merged,) = merge_drafts([drafts[0], again])
    assert merged.sources == ["a", "c"]


def test_a_concept_is_recalled_when_no_procedure_fits() -> None:
    notes = [n.to_note() for n in distill_batch(_lab_and_more())]
    ranked = rank_recalled("turn the heater on and wait", notes)
    assert ranked[0][0].kind == "concept" and "heater" in ranked[0][0].content
    # A task a procedure fits gets the procedure first.
    ranked = rank_recalled("heat the oil sample to 80 degrees", notes)
    assert ranked[0][0].kind == "procedure" and ranked[0][0].sources == ["lab_heat_1"]


def test_failures_in_a_batch_are_compared_with_its_successes() -> None:
    failed = trajectory(
        "lab_fail",
        "heat the milk sample to 40 degrees",
        [("move milk sample to heater", "ok"), ("use thermometer on milk sample", "20 degrees")],
        success=False,
    )
    notes = distill_batch([*LAB, failed])
    (avoid,) = [n for n in notes if n.is_avoid]
    assert "left the path" in avoid.content and '"turn heater on"' in avoid.content
