"""Concepts: sub-routines shared by several procedures, abstracted once and linked."""

from __future__ import annotations

import json

from procedures_data import gold_items, gold_trajectories

from memory.model import Step, Trajectory
from memory.procedures import (
    OBJECT,
    distill_batch,
    distill_trajectory,
    extract_concepts,
)


def _by_type() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in gold_items():
        out.setdefault(item["type"], []).append(item["id"])
    return out


def test_gold_set_yields_the_expected_concepts_once_each() -> None:
    notes = distill_batch(gold_trajectories())
    concepts = [n for n in notes if n.kind == "concept"]
    names = [c.name for c in concepts]
    assert sorted(names) == sorted(
        [f"find {OBJECT}", f"heat {OBJECT}", f"cool {OBJECT}", f"clean {OBJECT}", "use desklamp"]
    )
    assert len(names) == len(set(names))
    assert [n.kind for n in notes].count("procedure") == 18


def test_procedures_are_linked_to_the_concepts_they_use() -> None:
    notes = distill_batch(gold_trajectories())
    procedures = {n.sources[0]: n for n in notes if n.kind == "procedure"}
    types = _by_type()
    for family in ("heat", "cool", "clean"):
        for trajectory_id in types[family]:
            assert procedures[trajectory_id].uses_concepts == [
                f"find {OBJECT}",
                f"{family} {OBJECT}",
            ]
    for trajectory_id in types["examine"]:
        assert procedures[trajectory_id].uses_concepts == [f"find {OBJECT}", "use desklamp"]
    for trajectory_id in types["put"] + types["puttwo"]:
        assert procedures[trajectory_id].uses_concepts == [f"find {OBJECT}"]


def test_concept_provenance_is_the_union_of_its_users() -> None:
    notes = distill_batch(gold_trajectories())
    concepts = {n.name: n for n in notes if n.kind == "concept"}
    types = _by_type()
    assert concepts[f"heat {OBJECT}"].sources == types["heat"]
    assert concepts["use desklamp"].sources == types["examine"]
    assert len(concepts[f"find {OBJECT}"].sources) == 18
    heat = concepts[f"heat {OBJECT}"]
    assert heat.metadata["used_by"] == types["heat"] and heat.metadata["support"] == 3
    assert "go to microwave and heat <object> with microwave" in heat.content
    assert "Objects it worked on: apple, bread, egg" in heat.content


def test_find_concept_aggregates_what_single_trajectories_cannot_tell() -> None:
    notes = distill_batch(gold_trajectories())
    find = next(n for n in notes if n.name == f"find {OBJECT}")
    assert "open closed ones (fridge, cabinet, drawer)" in find.content
    assert "apple: garbagecan, diningtable" in find.content
    assert "Places checked most often: countertop (8)" in find.content


def test_min_support_keeps_one_off_routines_out() -> None:
    trajectories = [t for t in gold_trajectories() if t.id in ("react_heat_0", "react_put_0")]
    extraction = extract_concepts([distill_trajectory(t)[0] for t in trajectories])
    assert [c.name for c in extraction.concepts] == [f"find {OBJECT}"]
    assert extraction.uses["react_heat_0"] == [f"find {OBJECT}"]
    many = extract_concepts([distill_trajectory(t)[0] for t in trajectories], min_support=3)
    assert many.concepts == [] and many.uses["react_put_0"] == []


def test_stored_notes_keyed_by_id_and_avoid_notes_ignored() -> None:
    drafts = [distill_trajectory(t)[0] for t in gold_trajectories() if t.id.startswith("react_c")]
    stored = {f"note-{i}": d.to_note() for i, d in enumerate(drafts)}
    failure = Trajectory(
        id="f",
        task="heat some egg and put it in diningtable.",
        steps=[Step(action="heat egg 1 with fridge 1", observation="Nothing happens.")] * 2,
        success=False,
    )
    (avoid,) = distill_trajectory(failure)
    stored["avoid"] = avoid.to_note()
    extraction = extract_concepts(stored)
    assert set(extraction.uses) == {k for k in stored if k != "avoid"}
    names = {c.name for c in extraction.concepts}
    assert names == {f"find {OBJECT}", f"clean {OBJECT}", f"cool {OBJECT}"}
    assert "f" not in {s for c in extraction.concepts for s in c.sources}


def test_extraction_is_stable_as_the_pool_grows() -> None:
    trajectories = gold_trajectories()
    small = extract_concepts([distill_trajectory(t)[0] for t in trajectories[:9]])
    large = extract_concepts([distill_trajectory(t)[0] for t in trajectories])
    assert {c.name for c in small.concepts} <= {c.name for c in large.concepts}
    for concept in small.concepts:
        grown = next(c for c in large.concepts if c.name == concept.name)
        assert set(concept.sources) <= set(grown.sources)


def test_every_draft_becomes_a_note_whose_metadata_survives_json() -> None:
    failure = Trajectory(
        id="f",
        task="cool some potato and put it in diningtable.",
        steps=[Step(action="cool potato 1 with sinkbasin 1", observation="Nothing happens.")],
        success=False,
    )
    drafts = distill_batch([*gold_trajectories(), failure])
    assert {d.kind for d in drafts} == {"procedure", "concept"} and any(d.is_avoid for d in drafts)
    for draft in drafts:
        note = draft.to_note(metadata={"caller": [1, 2]})
        assert json.loads(json.dumps(note.metadata, allow_nan=False)) == note.metadata
        assert note.metadata["caller"] == [1, 2]
        assert note.metadata["distilled"]["name"] == draft.name
        assert note.when_to_use == draft.when_to_use and note.sources == draft.sources
