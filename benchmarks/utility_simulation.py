"""Utility simulation: notes that help survive pruning, notes that mislead do not.

Pool: the 18 procedures distilled from the ALFWorld gold trajectories (helpful)
plus 6 scripted misleading procedures under the same *when to use* keys -- the
kind a noisy reward or a bad LLM distillation leaves behind: put without taking
the object, one cycle of a put-two, the wrong appliance for heat/cool/clean, the
lamp used before the object is taken. The user has pinned the misleading
examine note, to show that pinned notes are never pruned.

Stream: tasks drawn (seeded) from the gold tasks, each given as the full first
observation. Recall ranks the pool by recall-key similarity with random tie
breaks (so every matching note gets exposure) and returns the top k; the agent
follows the top note and succeeds with p=0.9 when it is helpful, 0.1 when it
misleads (scripted, seeded). Every 10 tasks: ``prune_decisions`` (min_uses=5,
min_ratio=0.5), then near-duplicate merging (``dedup_signature`` +
``near_duplicates`` + ``merge_notes``).

Two feedback policies are compared: credit only the note the agent used, or
every recalled note.

    python benchmarks/utility_simulation.py
"""

from __future__ import annotations

import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory.model import Note, Trajectory  # noqa: E402
from memory.procedures import (  # noqa: E402
    dedup_signature,
    distill_trajectory,
    merge_notes,
    near_duplicates,
    prune_decisions,
    recall_key,
    utility_score,
)

__all__ = ["main", "simulate"]

DATA = Path(os.environ.get("ZETTELMEM_DATA", REPO.parent / "shared" / "data"))
GOLD = DATA / "alfworld" / "gold_trajectories.json"
TASKS = 150
K = 2
PRUNE_EVERY = 10
P_SUCCESS = {"helpful": 0.9, "misleading": 0.1}
SEED = 7

# One misleading recipe per task type: (type, steps), keyed like that type's procedures.
MISLEADING: dict[str, list[str]] = {
    "put": ["find <object>", "go to <receptacle>", "put <object> in/on <receptacle>"],
    "puttwo": [
        "find <object>",
        "take <object>",
        "go to <receptacle>",
        "put <object> in/on <receptacle>",
    ],
    "heat": [
        "find <object>",
        "take <object>",
        "go to stoveburner",
        "heat <object> with stoveburner",
        "go to <receptacle>",
        "put <object> in/on <receptacle>",
    ],
    "cool": [
        "find <object>",
        "take <object>",
        "go to sinkbasin",
        "cool <object> with sinkbasin",
        "go to <receptacle>",
        "put <object> in/on <receptacle>",
    ],
    "clean": [
        "find <object>",
        "take <object>",
        "go to microwave",
        "clean <object> with microwave",
        "go to <receptacle>",
        "put <object> in/on <receptacle>",
    ],
    "examine": ["find desklamp", "use desklamp", "find <object>", "take <object>"],
}
PINNED = "examine"


def load_gold() -> list[dict[str, Any]]:
    if not GOLD.exists():
        sys.exit(f"data not found: {GOLD} (set ZETTELMEM_DATA to the shared data folder)")
    return json.loads(GOLD.read_text())


def initial_pool(gold: list[dict[str, Any]]) -> dict[str, Note]:
    """Helpful procedures distilled from the gold set, plus the scripted misleading ones."""
    pool: dict[str, Note] = {}
    for item in gold:
        trajectory = Trajectory(
            id=item["id"], task=item["task"], steps=item["steps"], success=item["success"]
        )
        (draft,) = distill_trajectory(trajectory)
        note = draft.to_note(metadata={"truth": "helpful", "type": item["type"]})
        pool[note.id] = note
    for kind, steps in MISLEADING.items():
        task = next(item["task"] for item in gold if item["type"] == kind)
        key = recall_key(task)
        body = "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))
        note = Note(
            content=f"When to use: {key.split(' (verbs')[0]}\nSteps:\n{body}",
            kind="procedure",
            when_to_use=key,
            sources=[f"mislabeled_{kind}"],
            metadata={"truth": "misleading", "type": kind},
            pinned=kind == PINNED,
        )
        pool[note.id] = note
    return pool


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"<[a-z]+>|[a-z0-9]+", text.lower()))


def _similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _merge_duplicates(pool: dict[str, Note]) -> int:
    """Merge near-duplicate procedures in place (best first leads); returns notes removed."""
    ordered = sorted(pool.values(), key=lambda n: -utility_score(n))
    groups = near_duplicates({n.id: dedup_signature(n) for n in ordered})
    removed = 0
    for leader, *rest in groups:
        pool[leader] = merge_notes(pool[leader], [pool[r] for r in rest])
        for note_id in rest:
            del pool[note_id]
            removed += 1
    return removed


def _count(pool: dict[str, Note], truth: str) -> int:
    return sum(1 for n in pool.values() if n.metadata["truth"] == truth)


def simulate(gold: list[dict[str, Any]], *, credit: str) -> dict[str, Any]:
    """Run the scripted stream under one feedback policy ("used" or "recalled")."""
    rng = random.Random(SEED)
    pool = initial_pool(gold)
    rows = [(0, len(pool), _count(pool, "helpful"), _count(pool, "misleading"), 0, 0, None)]
    pruned: list[tuple[int, Note, str]] = []
    merged = 0
    outcomes: list[bool] = []
    for step in range(1, TASKS + 1):
        item = rng.choice(gold)
        query = _tokens(recall_key(f"{item['setting']}\nYour task is to: {item['task']}"))
        ranked = sorted(
            pool.values(), key=lambda n: (-_similarity(query, _tokens(n.when_to_use)), rng.random())
        )
        recalled = ranked[:K]
        success = rng.random() < P_SUCCESS[recalled[0].metadata["truth"]]
        outcomes.append(success)
        for note in recalled[:1] if credit == "used" else recalled:
            pool[note.id] = note.model_copy(
                update={
                    "retrieved_count": note.retrieved_count + 1,
                    "success_count": note.success_count + int(success),
                }
            )
        if step % PRUNE_EVERY == 0:
            for decision in prune_decisions(pool.values(), min_uses=5, min_ratio=0.5):
                pruned.append((step, pool.pop(decision.note_id), decision.reason))
            merged += _merge_duplicates(pool)
            window = outcomes[-PRUNE_EVERY:]
            rows.append(
                (
                    step,
                    len(pool),
                    _count(pool, "helpful"),
                    _count(pool, "misleading"),
                    len(pruned),
                    merged,
                    sum(window) / len(window),
                )
            )
    return {"rows": rows, "pruned": pruned, "pool": pool, "outcomes": outcomes}


def _report(name: str, result: dict[str, Any]) -> None:
    print(f"\n== feedback credits {name} ==")
    print(
        f"{'after task':>10} {'pool':>5} {'helpful':>8} {'misleading':>10} {'pruned':>7} "
        f"{'merged':>7} {'success (last 10)':>18}"
    )
    for step, size, helpful, misleading, pruned, merged, rate in result["rows"]:
        shown = "-" if rate is None else f"{rate:.1f}"
        print(
            f"{step:>10} {size:>5} {helpful:>8} {misleading:>10} {pruned:>7} {merged:>7} "
            f"{shown:>18}"
        )
    gone = result["pruned"]
    bad_gone = sorted(n.metadata["type"] for _, n, _ in gone if n.metadata["truth"] == "misleading")
    good_gone = sorted(n.metadata["type"] for _, n, _ in gone if n.metadata["truth"] == "helpful")
    print(
        f"misleading pruned: {len(bad_gone)}/{len(MISLEADING)} ({', '.join(bad_gone)}); "
        f"helpful pruned: {len(good_gone)}" + (f" ({', '.join(good_gone)})" if good_gone else "")
    )
    for step, note, reason in gone[:3]:
        print(
            f"  e.g. task {step}: {note.metadata['truth']} {note.metadata['type']} note -- {reason}"
        )
    for note in result["pool"].values():
        if note.pinned:
            print(
                f"pinned {note.metadata['truth']} {note.metadata['type']} note kept at "
                f"{note.success_count}/{note.retrieved_count} successes"
            )
    helpful = [n for n in result["pool"].values() if n.metadata["truth"] == "helpful"]
    print(
        f"helpful notes left: {len(helpful)}, carrying {sum(len(n.sources) for n in helpful)} "
        "trajectory sources (merges keep provenance)"
    )
    outcomes = result["outcomes"]
    print(
        f"task success: first 30 tasks {sum(outcomes[:30]) / 30:.2f}, "
        f"last 30 tasks {sum(outcomes[-30:]) / 30:.2f}"
    )


def main() -> None:
    gold = load_gold()
    print(
        f"Utility simulation: {TASKS} tasks, recall k={K}, prune every {PRUNE_EVERY} tasks "
        f"(min_uses=5, min_ratio=0.5), success p={P_SUCCESS}, seed {SEED}."
    )
    print("Computed with the pure memory.procedures functions (no store).")
    for credit, label in (
        ("used", "only the note the agent used"),
        ("recalled", f"every recalled note (k={K})"),
    ):
        _report(label, simulate(gold, credit=credit))


if __name__ == "__main__":
    main()
