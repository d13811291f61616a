"""Feedback and prune through the facade: a scripted stream prunes what misleads, nothing else."""

from __future__ import annotations

import pytest
from procedures_data import by_id, gold_items, observation

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.errors import NotFound
from memory.model import Note, Step, Trajectory


def _faulty(
    trajectory_id: str, food: str, place: str, tool: str, table: str, then: str
) -> Trajectory:
    """A "heat" run with the wrong appliance that a faulty labeller marked successful.

    Each is phrased a little differently ("and then put it"): runs phrased alike
    with the same steps would merge into one procedure (its variants), and this
    test is about pruning separate procedures.
    """
    return Trajectory(
        id=trajectory_id,
        task=f"heat some {food} and {then} put it in {table}.",
        steps=[
            Step(action=f"go to {place} 1", observation=f"On the {place} 1, you see a {food} 1."),
            Step(action=f"take {food} 1 from {place} 1", observation=f"You pick up the {food} 1."),
            Step(action=f"go to {tool} 1", observation=f"On the {tool} 1, you see nothing."),
            Step(action=f"heat {food} 1 with {tool} 1", observation=f"You heat the {food} 1."),
            Step(action=f"go to {table} 1", observation=f"On the {table} 1, you see nothing."),
            Step(action=f"put {food} 1 in/on {table} 1", observation="You put it there."),
        ],
        success=True,
    )


def _procedure(notes: list[Note]) -> Note:
    return next(n for n in notes if n.kind == "procedure")


def test_scripted_stream_prunes_the_misleading_procedure_and_keeps_the_rest() -> None:
    with AgenticMemory(embedder=HashingEmbedder(), prune_min_uses=5, prune_min_ratio=0.5) as mem:
        helpful = _procedure(mem.learn(by_id("react_heat_0")))  # the microwave, as it should
        misleading = _procedure(
            mem.learn(
                _faulty("faulty_stove", "egg", "countertop", "stoveburner", "diningtable", "then")
            )
        )
        pinned = _procedure(
            mem.learn(
                _faulty(
                    "faulty_toaster", "bread", "diningtable", "toaster", "countertop", "afterwards"
                )
            )
        )
        mem.update(pinned.id, pinned=True)
        works = {helpful.id: True, misleading.id: False, pinned.id: False}
        # An unseen heat task, as the agent sees it (room description, then the task).
        task = observation(next(i for i in gold_items() if i["id"] == "react_heat_1"))

        removals = []
        for round_ in range(1, 6):
            hits = mem.recall(task, k=3, kinds=["procedure"])
            assert {h.note.id for h in hits} == set(works)
            # The agent tries each recalled procedure in turn; only the helpful one works.
            for hit in hits:
                mem.feedback([hit.note.id], success=works[hit.note.id])
            removals = [r for r in mem.prune() if r.merged_into is None]
            if round_ < 5:
                assert removals == []  # 0/4 is bad, but not yet judged (min_uses=5)

        (removal,) = removals
        assert removal.note_id == misleading.id and removal.kind == "procedure"
        assert "0/5" in removal.reason and "0.5" in removal.reason

        kept = {n.id: n for n in mem.notes(kinds=["procedure"])}
        assert set(kept) == {helpful.id, pinned.id}
        assert (kept[helpful.id].success_count, kept[helpful.id].retrieved_count) == (5, 5)
        assert kept[pinned.id].pinned
        assert (kept[pinned.id].success_count, kept[pinned.id].retrieved_count) == (0, 5)

        with pytest.raises(NotFound):
            mem.get(misleading.id)
        history = mem.history(misleading.id)
        assert [e.action for e in history].count("feedback") == 5
        assert history[-1].action == "prune" and history[-1].reason == removal.reason
        assert history[-1].before["sources"] == ["faulty_stove"]

        after = mem.recall(task, k=3, kinds=["procedure"])
        assert after[0].note.id == helpful.id
        assert misleading.id not in {h.note.id for h in after}


def _heat_run(trajectory_id: str, tool: str) -> Trajectory:
    """A heat run phrased like the others, so it merges into their procedure."""
    return Trajectory(
        id=trajectory_id,
        task="heat some egg and put it in diningtable.",
        steps=[
            Step(action="go to countertop 1", observation="On the countertop 1, you see an egg 1."),
            Step(action="take egg 1 from countertop 1", observation="You pick up the egg 1."),
            Step(action=f"go to {tool} 1", observation=f"On the {tool} 1, you see nothing."),
            Step(action=f"heat egg 1 with {tool} 1", observation="You heat the egg 1."),
            Step(action="go to diningtable 1", observation="On the diningtable 1, you see a fork."),
            Step(action="put egg 1 in/on diningtable 1", observation="You put it there."),
        ],
        success=True,
    )


def test_a_failing_lead_is_retired_and_the_runs_that_work_take_over() -> None:
    """A mislabelled run learned first leads the merged procedure; pruning retires its
    steps, keeps the note, and the steps of the runs that worked lead from then on."""
    with AgenticMemory(embedder=HashingEmbedder(), prune_min_uses=5, prune_min_ratio=0.5) as mem:
        (first,) = [
            n for n in mem.learn(_heat_run("wrong", "stoveburner")) if n.kind == "procedure"
        ]
        for trajectory_id in ("right_a", "right_b"):
            mem.learn(_heat_run(trajectory_id, "microwave"))
        (merged,) = mem.notes(kinds=["procedure"])
        assert merged.id == first.id and set(merged.sources) == {"wrong", "right_a", "right_b"}
        assert "heat <arg1> with stoveburner" in merged.content.split("Variants")[0]

        for _ in range(5):
            mem.feedback([merged.id], success=False)
        (removal,) = mem.prune(merge_duplicates=False)
        assert removal.kept and removal.note_id == merged.id and removal.sources == ["wrong"]

        (now,) = mem.notes(kinds=["procedure"])
        steps = now.content.split("Variants")[0]
        assert "microwave" in steps and "stoveburner" not in now.content
        assert (now.retrieved_count, now.success_count) == (0, 0)  # judged afresh
        distilled = now.metadata["distilled"]
        assert distilled["lead_sources"] == ["right_a", "right_b"]
        assert distilled["retired"][0]["sources"] == ["wrong"]
        assert set(now.sources) == {"wrong", "right_a", "right_b"}  # provenance kept
        event = mem.history(now.id)[-1]
        assert event.action == "prune" and "retired" in event.reason

        # The new lead is judged on its own record: failing again, with no variant
        # left, the procedure goes.
        for _ in range(5):
            mem.feedback([now.id], success=False)
        (gone,) = mem.prune(merge_duplicates=False)
        assert not gone.kept and gone.note_id == now.id
        assert mem.notes(kinds=["procedure"]) == []
