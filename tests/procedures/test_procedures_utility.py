"""Prune rules at their thresholds, pinned notes, near-duplicates and merges."""

from __future__ import annotations

import importlib
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from procedures_data import gold_trajectories

import memory.procedures as procedures
from memory.errors import InvalidInput
from memory.model import Note, Trajectory
from memory.procedures import (
    merge_notes,
    near_duplicates,
    prune_decisions,
    utility_score,
)


def _note(uses: int, wins: int, **fields: object) -> Note:
    return Note(content="n", retrieved_count=uses, success_count=wins, **fields)  # type: ignore[arg-type]


def _pruned(notes: list[Note], **kwargs: object) -> set[str]:
    return {d.note_id for d in prune_decisions(notes, **kwargs)}  # type: ignore[arg-type]


def test_defaults_judge_only_after_five_uses_and_below_half() -> None:
    unseen = _note(4, 0)  # min_uses - 1: not judged yet, however bad
    below = _note(5, 2)  # 0.4 < 0.5
    equal = _note(6, 3)  # exactly 0.5: kept
    good = _note(5, 5)
    assert _pruned([unseen, below, equal, good]) == {below.id}


def test_thresholds_are_configurable_and_exact_at_the_boundary() -> None:
    at = _note(10, 7)  # 0.7 == 0.7 (7/10 in floats; 0.7 * 10 would not be exactly 7)
    just_below = _note(10, 6)
    too_few = _note(9, 0)
    assert _pruned([at, just_below, too_few], min_uses=10, min_ratio=0.7) == {just_below.id}
    assert _pruned([_note(3, 2)], min_uses=3, min_ratio=0.7) != set()
    assert _pruned([_note(1, 0)], min_uses=1, min_ratio=0.01) != set()
    assert _pruned([_note(100, 0)], min_ratio=0.0) == set()


def test_pinned_notes_survive_any_record() -> None:
    pinned = _note(50, 0, pinned=True)
    assert _pruned([pinned]) == set()


def test_kinds_filter_and_reason() -> None:
    procedure = _note(5, 1, kind="procedure")
    episodic = _note(5, 1)
    (decision,) = prune_decisions([procedure, episodic], kinds={"procedure"})
    assert decision.note_id == procedure.id
    assert (decision.retrieved_count, decision.success_count) == (5, 1)
    assert "1/5" in decision.reason and "0.5" in decision.reason


@pytest.mark.parametrize(("min_uses", "min_ratio"), [(0, 0.5), (5, -0.1), (5, 1.5), (True, 0.5)])
def test_bad_thresholds_are_rejected(min_uses: int, min_ratio: float) -> None:
    with pytest.raises(InvalidInput):
        prune_decisions([], min_uses=min_uses, min_ratio=min_ratio)


def test_utility_score_orders_by_smoothed_evidence() -> None:
    fresh, lucky, solid, bad = _note(0, 0), _note(1, 1), _note(10, 9), _note(4, 0)
    assert utility_score(fresh) == 0.5
    assert utility_score(solid) > utility_score(lucky) > utility_score(fresh) > utility_score(bad)


def test_near_duplicates_by_vectors_without_chaining() -> None:
    # a ~ b (cos 0.98), b ~ c (0.98) but a vs c only ~0.92: c must not join a's group.
    angle = np.deg2rad(11.5)
    vectors = {
        "a": [1.0, 0.0],
        "b": [np.cos(angle), np.sin(angle)],
        "c": [np.cos(2 * angle), np.sin(2 * angle)],
        "far": [0.0, 1.0],
        "zero": [0.0, 0.0],
    }
    assert near_duplicates(vectors, threshold=0.95) == [["a", "b"]]
    assert near_duplicates({"x": [1.0, 0.0]}) == []


def test_near_duplicates_by_token_sets_on_distilled_keys() -> None:
    trajectories = gold_trajectories()
    types = {t.id: t.metadata["type"] for t in trajectories}
    drafts = {
        t.id: set(procedures.distill_trajectory(t)[0].when_to_use.split()) for t in trajectories
    }
    groups = near_duplicates(drafts, threshold=1.0)
    # Identical keys: the same phrasing and the same kinds of step; never two task types.
    assert groups == [["react_heat_0", "react_heat_2"]]
    assert all(len({types[i] for i in group}) == 1 for group in groups)


def test_near_duplicates_rejects_mixed_inputs() -> None:
    with pytest.raises(InvalidInput):
        near_duplicates({"a": {"x"}, "b": [1.0]})
    with pytest.raises(InvalidInput):
        near_duplicates({"a": [1.0, 0.0], "b": [1.0]})


def test_merge_keeps_provenance_and_sums_utility() -> None:
    early = datetime(2024, 1, 1, tzinfo=timezone.utc)
    third = Note(content="elsewhere")
    keep = Note(
        content="keep",
        kind="procedure",
        sources=["t1"],
        keywords=["heat"],
        retrieved_count=4,
        success_count=3,
        links={third.id: 0.4},
    )
    dup = Note(
        content="dup",
        kind="procedure",
        sources=["t2", "t1"],
        keywords=["microwave"],
        retrieved_count=2,
        success_count=1,
        pinned=True,
        created_at=early,
        links={keep.id: 0.9, third.id: 0.7},
        when_to_use="heat ...",
    )
    now = early + timedelta(days=30)
    merged = merge_notes(keep, [dup], now=now)
    assert merged.id == keep.id and merged.content == "keep"
    assert merged.sources == ["t1", "t2"]
    assert merged.keywords == ["heat", "microwave"]
    assert (merged.retrieved_count, merged.success_count) == (6, 4)
    assert merged.pinned and merged.when_to_use == "heat ..."
    assert merged.links == {third.id: 0.7}
    assert merged.created_at == early and merged.updated_at == now
    assert keep.sources == ["t1"] and keep.retrieved_count == 4  # inputs untouched


def test_merge_refuses_other_scopes_kinds_and_self() -> None:
    keep = Note(content="a", kind="procedure", user_id="u1")
    with pytest.raises(InvalidInput):
        merge_notes(keep, [Note(content="b", kind="procedure", user_id="u2")])
    with pytest.raises(InvalidInput):
        merge_notes(keep, [Note(content="b", kind="concept", user_id="u1")])
    with pytest.raises(InvalidInput):
        merge_notes(keep, [keep])


def test_package_exports_exactly_its_public_api() -> None:
    # The model-backed modules are not re-exported; import them so they are always seen.
    importlib.import_module("memory.procedures.llm_distill")
    exported = {name for name in dir(procedures) if not name.startswith("_")}
    modules = {"concepts", "distill", "draft", "generalise", "merging", "recall", "steps", "text"}
    modules |= {"utility", "variants", "fusion", "coherence", "memo", "statement"}
    modules |= {"profile", "boilerplate", "dense_statement"}
    modules |= {"llm_distill", "llm_drafts", "llm_prompts"}
    assert exported - modules - {"annotations"} == set(procedures.__all__)
    for name in modules:
        assert getattr(procedures, name).__all__


def test_dedup_signature_groups_reruns_but_not_other_tools_or_tasks() -> None:
    trajectories = gold_trajectories()
    notes = {t.id: procedures.distill_trajectory(t)[0] for t in trajectories}
    heat = next(t for t in trajectories if t.id == "react_heat_0")

    def variant(new_id: str, old: str, new: str) -> Trajectory:
        steps = [s.model_copy(update={"action": s.action.replace(old, new)}) for s in heat.steps]
        return heat.model_copy(update={"id": new_id, "steps": steps})

    # A rerun on other instances ("egg 2", "countertop 2") is the same recipe.
    notes["rerun"] = procedures.distill_trajectory(variant("rerun", " 1", " 2"))[0]
    notes["wrong_tool"] = procedures.distill_trajectory(
        variant("wrong_tool", "microwave", "stoveburner")
    )[0]
    # A "put two" run that stopped after one cycle has fewer steps than the full one.
    puttwo = next(t for t in trajectories if t.id == "react_puttwo_1")
    first_put = next(i for i, s in enumerate(puttwo.steps) if s.action.startswith("put "))
    one_cycle = puttwo.model_copy(
        update={"id": "one_cycle", "steps": puttwo.steps[: first_put + 1]}
    )
    notes["one_cycle"] = procedures.distill_trajectory(one_cycle)[0]
    groups = near_duplicates({k: procedures.dedup_signature(n) for k, n in notes.items()})
    assert ["react_heat_0", "rerun"] in groups
    assert all("wrong_tool" not in g and "one_cycle" not in g for g in groups)
    assert all(len(g) == 2 for g in groups)
