"""Utility simulation through the facade: prune removes notes that mislead, keeps those that help.

Memory: ``AgenticMemory(embedder=..., prune_min_uses=5, prune_min_ratio=0.5)`` learns
the 18 ALFWorld gold trajectories (helpful, 3 per task type) and 5 trajectories
whose steps are wrong for their task but which a faulty labeller marked successful:
one take/put cycle for a "put two" task, the stoveburner to heat, the sinkbasin to
cool, the microwave to clean, a floorlamp instead of the desklamp. Runs of one kind
merge into one procedure on learn: the first run's steps lead, the others are
listed as variants, each with its runs (``memory.procedures.variants``). A note is
labelled by the runs of its *leading* steps (what it tells an agent to do). Two
learning orders: "faulty last" (mislabelled runs join as variants of a helpful
lead) and "faulty first" (they lead, and pruning must retire their steps so the
helpful variant takes over). The user pins the note of the floorlamp run (pinned
notes are never pruned).

Stream: 150 tasks drawn (seeded) from the gold tasks, each given to ``recall(k=3,
kinds=["procedure"])`` as the full first observation (room, then "Your task is to:").
The agent follows one recalled procedure and the outcome is scripted: success when it
is a helpful procedure of the task's type, failure when it misleads or is for another
task type; a seeded 10 % of tasks fail anyway (a slip), so helpful notes are judged on
imperfect records too. ``feedback()`` gets the outcome and ``prune()`` runs every 10
tasks: a judged procedure below the ratio loses its leading steps when a variant can
take over (reported as pruned, by the label of the retired runs), else the note goes.

Policies (one row each per learning order, same task sequence, same slips):
    greedy / used         the agent follows the top recalled procedure; feedback
                          credits that note
    exploring / used      every 3rd task of a type it follows the next recalled
                          procedure for the same task instead (an LLM shown k notes
                          does not always follow the first); feedback credits the
                          note it followed
    exploring / recalled  as above, but feedback credits every recalled note

Recall orders the notes of one task by measured utility, so after its first use a
helpful note outranks an untried misleading one and the greedy agent never follows a
misleading note: it is never judged, so never pruned (it only takes a recall slot).
Recall breaks exact ties (same key, same utility) in an order that is not
reproducible from run to run, so the figures can move slightly between runs; the
"recalled" row is the most sensitive.

Every figure comes from the facade: learn, recall, feedback, prune, update, notes,
history. Each policy and order runs in its own process (``--jobs``), in memory.

    python benchmarks/utility_simulation.py [--embedder hashing|minilm] [--jobs N]

Data: ``$ZETTELMEM_DATA`` (default ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from itertools import groupby
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory import AgenticMemory  # noqa: E402
from memory.model import Note, SearchResult, Trajectory  # noqa: E402
from memory.procedures import distilled_metadata, lead_and_variants  # noqa: E402

__all__ = ["ORDERS", "POLICIES", "main", "simulate"]

DATA = Path(os.environ.get("ZETTELMEM_DATA", REPO.parent / "shared" / "data"))
GOLD = DATA / "alfworld" / "gold_trajectories.json"
TASKS = 150
K = 3
PRUNE_EVERY = 10
MIN_USES = 5
MIN_RATIO = 0.5
EXPLORE_EVERY = 3
SLIP = 0.1
SEED = 7
WINDOW = 30

ORDERS = ("faulty last", "faulty first")
"""When the mislabelled runs are learned: after the good runs of their kind, or before."""

# name -> (follow another recalled procedure every n-th task of a type (0: never), credit)
POLICIES: dict[str, tuple[int, str]] = {
    "greedy / used": (0, "used"),
    "exploring / used": (EXPLORE_EVERY, "used"),
    "exploring / recalled": (EXPLORE_EVERY, "recalled"),
}


def _steps(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"action": action, "observation": seen} for action, seen in pairs]


# Trajectories whose steps are wrong for their task, labelled successful by a faulty labeller.
FAULTY: list[dict[str, Any]] = [
    {
        "id": "faulty_puttwo",
        "type": "puttwo",
        "task": "put two creditcard in dresser.",
        "steps": _steps(
            ("go to countertop 1", "On the countertop 1, you see a creditcard 1."),
            ("take creditcard 1 from countertop 1", "You pick up the creditcard 1."),
            ("go to dresser 1", "On the dresser 1, you see nothing."),
            ("put creditcard 1 in/on dresser 1", "You put the creditcard 1 in/on the dresser 1."),
        ),
    },
    {
        "id": "faulty_heat",
        "type": "heat",
        "task": "heat some egg and put it in diningtable.",
        "steps": _steps(
            ("go to countertop 1", "On the countertop 1, you see an egg 1."),
            ("take egg 1 from countertop 1", "You pick up the egg 1 from the countertop 1."),
            ("go to stoveburner 1", "On the stoveburner 1, you see nothing."),
            ("heat egg 1 with stoveburner 1", "You heat the egg 1 using the stoveburner 1."),
            ("go to diningtable 1", "On the diningtable 1, you see a fork 1."),
            ("put egg 1 in/on diningtable 1", "You put the egg 1 in/on the diningtable 1."),
        ),
    },
    {
        "id": "faulty_cool",
        "type": "cool",
        "task": "cool some pan and put it in stoveburner.",
        "steps": _steps(
            ("go to stoveburner 1", "On the stoveburner 1, you see a pan 1."),
            ("take pan 1 from stoveburner 1", "You pick up the pan 1 from the stoveburner 1."),
            ("go to sinkbasin 1", "On the sinkbasin 1, you see nothing."),
            ("cool pan 1 with sinkbasin 1", "You cool the pan 1 using the sinkbasin 1."),
            ("go to stoveburner 1", "On the stoveburner 1, you see nothing."),
            ("put pan 1 in/on stoveburner 1", "You put the pan 1 in/on the stoveburner 1."),
        ),
    },
    {
        "id": "faulty_clean",
        "type": "clean",
        "task": "clean some apple and put it in sidetable.",
        "steps": _steps(
            ("go to garbagecan 1", "On the garbagecan 1, you see an apple 1."),
            ("take apple 1 from garbagecan 1", "You pick up the apple 1 from the garbagecan 1."),
            ("go to microwave 1", "The microwave 1 is closed."),
            ("clean apple 1 with microwave 1", "You clean the apple 1 using the microwave 1."),
            ("go to sidetable 1", "On the sidetable 1, you see nothing."),
            ("put apple 1 in/on sidetable 1", "You put the apple 1 in/on the sidetable 1."),
        ),
    },
    {
        "id": "faulty_examine",
        "type": "examine",
        "task": "look at bowl under the desklamp.",
        "steps": _steps(
            ("go to shelf 1", "On the shelf 1, you see a bowl 1."),
            ("take bowl 1 from shelf 1", "You pick up the bowl 1 from the shelf 1."),
            ("go to sidetable 1", "On the sidetable 1, you see a floorlamp 1."),
            ("use floorlamp 1", "You turn on the floorlamp 1."),
        ),
    },
]
PINNED = "faulty_examine"

Label = tuple[str, str]  # ("helpful" | "misleading" | "mixed", task type)


def load_gold() -> list[dict[str, Any]]:
    """The 18 gold trajectories, or exit with a clear message when the data is missing."""
    if not GOLD.exists():
        sys.exit(f"data not found: {GOLD} (set ZETTELMEM_DATA to the shared data folder)")
    return json.loads(GOLD.read_text())


def observation(item: dict[str, Any]) -> str:
    """What the agent sees first: the room, then its task."""
    return f"{item['setting']}\nYour task is to: {item['task']}"


def make_embedder(name: str) -> Any:
    from memory.embed import HashingEmbedder, SentenceTransformerEmbedder

    return HashingEmbedder() if name == "hashing" else SentenceTransformerEmbedder()


def learn_pool(
    mem: AgenticMemory, gold: list[dict[str, Any]], order: str = "faulty last"
) -> dict[str, Label]:
    """Learn the gold and the faulty trajectories; trajectory id -> what its note is.

    ``order`` "faulty last": the mislabelled runs come after the good ones, so they
    join the procedures of their kind as variants; "faulty first": they come first
    and lead those procedures, so pruning has to retire their steps.
    """
    origin: dict[str, Label] = {}
    helpful = [(g, "helpful") for g in gold]
    misleading = [(f, "misleading") for f in FAULTY]
    pool = helpful + misleading if order == "faulty last" else misleading + helpful
    for item, truth in pool:
        mem.learn(Trajectory(id=item["id"], task=item["task"], steps=item["steps"], success=True))
        origin[item["id"]] = (truth, item["type"])
    return origin


def label(note: Note, origin: dict[str, Label]) -> Label:
    """What a procedure tells an agent to do: what the runs its leading steps were
    distilled from are (the other runs of its kind are variants it only lists)."""
    lead, _ = lead_and_variants(distilled_metadata(note), note.sources)
    return label_of(lead, origin)


def label_of(sources: list[str], origin: dict[str, Label]) -> Label:
    """What the runs ``sources`` are, together."""
    found = {origin[s] for s in sources if s in origin}
    if len(found) == 1:
        return found.pop()
    return "mixed", "+".join(sorted(f"{truth} {kind}" for truth, kind in found))


def census(mem: AgenticMemory, origin: dict[str, Label]) -> dict[str, int]:
    """Procedures in the pool by what they are."""
    return dict(Counter(label(n, origin)[0] for n in mem.notes(kinds=["procedure"])))


def follow(hits: list[SearchResult], *, explore: bool) -> SearchResult:
    """The recalled procedure the scripted agent follows.

    The top one; when exploring, the next recalled procedure written for the same task
    (same *when to use* line), if there is one.
    """
    top = hits[0]
    others = [h for h in hits[1:] if h.note.when_to_use == top.note.when_to_use]
    return others[0] if explore and others else top


def prune_round(
    mem: AgenticMemory, origin: dict[str, Label], step: int
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """``mem.prune()``: the notes it pruned, and how many of each label it merged away."""
    before = {n.id: n for n in mem.notes(kinds=["procedure"])}
    pruned: list[dict[str, Any]] = []
    merged: Counter[str] = Counter()
    for removal in mem.prune():
        note = before.get(removal.note_id)
        if removal.merged_into:
            merged[label(note, origin)[0] if note else "other"] += 1
            continue
        what = label_of(removal.sources, origin) if removal.sources else ("other", removal.kind)
        pruned.append(
            {
                "step": step,
                "id": removal.note_id,
                "label": what,
                "kept": removal.kept,
                "uses": note.retrieved_count if note else 0,
                "wins": note.success_count if note else 0,
                "reason": removal.reason,
            }
        )
    return pruned, merged


def simulate(
    policy: str, embedder_name: str = "hashing", order: str = "faulty last"
) -> dict[str, Any]:
    """Run the stream under one policy and learning order; plain data back (it may
    cross a process boundary)."""
    every, credit = POLICIES[policy]
    started = time.perf_counter()
    gold = load_gold()
    mem = AgenticMemory(
        embedder=make_embedder(embedder_name), prune_min_uses=MIN_USES, prune_min_ratio=MIN_RATIO
    )
    try:
        origin = learn_pool(mem, gold, order)
        pinned = next(n for n in mem.notes(kinds=["procedure"]) if PINNED in n.sources)
        mem.update(pinned.id, pinned=True)
        tasks, slips = random.Random(SEED), random.Random(SEED + 1)
        seen: Counter[str] = Counter()
        pool = [(0, census(mem, origin))]
        outcomes: list[bool] = []
        followed_misleading = 0
        pruned: list[dict[str, Any]] = []
        merged: Counter[str] = Counter()
        for step in range(1, TASKS + 1):
            item = tasks.choice(gold)
            seen[item["type"]] += 1
            slipped = slips.random() < SLIP
            hits = mem.recall(observation(item), k=K, kinds=["procedure"])
            success = False
            if hits:
                used = follow(hits, explore=bool(every) and seen[item["type"]] % every == 0)
                truth, kind = label(used.note, origin)
                followed_misleading += truth == "misleading"
                success = truth == "helpful" and kind == item["type"] and not slipped
                credited = [used] if credit == "used" else hits
                mem.feedback([h.note.id for h in credited], success=success)
            outcomes.append(success)
            if step % PRUNE_EVERY == 0:
                round_pruned, round_merged = prune_round(mem, origin, step)
                pruned += round_pruned
                merged += round_merged
                pool.append((step, census(mem, origin)))
        survivors = [
            {
                "label": label(n, origin),
                "uses": n.retrieved_count,
                "wins": n.success_count,
                "pinned": n.pinned,
                "sources": len(n.sources),
            }
            for n in mem.notes(kinds=["procedure"])
        ]
        example = next((p for p in pruned if p["label"][0] == "misleading"), None)
        history = []
        if example is not None:
            history = [
                {"action": e.action, "actor": e.actor, "reason": e.reason}
                for e in mem.history(example["id"])
            ]
    finally:
        mem.close()
    return {
        "policy": f"{policy}, {order}",
        "outcomes": outcomes,
        "followed_misleading": followed_misleading,
        "pool": pool,
        "pruned": pruned,
        "merged": dict(merged),
        "survivors": survivors,
        "example": example,
        "history": history,
        "seconds": time.perf_counter() - started,
    }


def _rate(outcomes: list[bool]) -> str:
    return f"{sum(outcomes) / len(outcomes):.2f}" if outcomes else "-"


def _mix(counts: dict[str, int]) -> str:
    text = f"{counts.get('helpful', 0)}+{counts.get('misleading', 0)}"
    return text + (f"+{counts['mixed']}?" if counts.get("mixed") else "")


def _runs(actions: list[str]) -> str:
    """``create, link x2, feedback x5, prune`` from a list of event actions."""
    counted = [(action, len(list(group))) for action, group in groupby(actions)]
    return ", ".join(a if n == 1 else f"{a} x{n}" for a, n in counted)


def report(results: list[dict[str, Any]], embedder_name: str) -> None:
    n_bad = len(FAULTY)
    print(
        f"Utility simulation through AgenticMemory ({embedder_name} embedder): {TASKS} tasks, "
        f"recall k={K} procedures, prune every {PRUNE_EVERY} tasks (min_uses={MIN_USES}, "
        f"min_ratio={MIN_RATIO}), exploring: 1 task in {EXPLORE_EVERY} of a type, "
        f"slip={SLIP}, seed {SEED}."
    )
    print(
        f"Pool learned: {len(load_gold())} helpful procedures (6 types x 3) + {n_bad} "
        f"misleading (one per type but put; {PINNED} pinned by the user)."
    )
    print(
        "greedy: follows the top recalled procedure; exploring: on 1 task in "
        f"{EXPLORE_EVERY} of a type, the next one for the same task; "
        "used / recalled: what feedback credits.\n"
    )
    header = (
        f"{'policy':<34} {'misleading':>10} {'helpful':>7} {'helpful':>7} "
        f"{'misleading':>10} {'success':>7} {'success':>7} {'procedures':>11} {'time':>5}"
    )
    second = (
        f"{'':<34} {'pruned':>10} {'pruned':>7} {'merged':>7} {'followed':>10} "
        f"{f'1-{WINDOW}':>7} {f'{TASKS - WINDOW + 1}-{TASKS}':>7} {'start->end':>11} {'':>5}"
    )
    print(header)
    print(second)
    print("-" * len(header))
    for r in results:
        kinds = Counter(p["label"][0] for p in r["pruned"])
        start, end = r["pool"][0][1], r["pool"][-1][1]
        bad = f"{kinds['misleading']}/{n_bad}"
        print(
            f"{r['policy']:<34} {bad:>10} "
            f"{kinds['helpful']:>7} {r['merged'].get('helpful', 0):>7} "
            f"{r['followed_misleading']:>10} {_rate(r['outcomes'][:WINDOW]):>7} "
            f"{_rate(r['outcomes'][-WINDOW:]):>7} {f'{_mix(start)}->{_mix(end)}':>11} "
            f"{r['seconds']:>4.0f}s"
        )
        other = sum(n for k, n in kinds.items() if k not in ("helpful", "misleading"))
        if other:
            print(f"{'':<34} (also pruned: {other} other notes)")

    print("\nProcedures in the pool (helpful+misleading) after each prune:")
    print(f"{'after task':>10} " + " ".join(f"{r['policy']:>34}" for r in results))
    for row, (step, _) in enumerate(results[0]["pool"]):
        cells = " ".join(f"{_mix(r['pool'][row][1]):>34}" for r in results)
        print(f"{step:>10} {cells}")

    for r in results:
        print(f"\n== {r['policy']} ==")
        for p in r["pruned"]:
            truth, kind = p["label"]
            print(f"  task {p['step']:>3}: pruned {truth} {kind} note -- {p['reason']}")
        if not r["pruned"]:
            print("  nothing pruned")
        counted = "followed or recalled" if r["policy"].endswith("recalled") else "followed"
        for s in r["survivors"]:
            truth, kind = s["label"]
            if truth != "helpful" or s["pinned"]:
                pin = " (pinned)" if s["pinned"] else ""
                record = f"{s['wins']}/{s['uses']}"
                print(f"  kept {truth} {kind} note{pin}: {record} successes {counted}")
        helpful = [s for s in r["survivors"] if s["label"][0] == "helpful"]
        ratios = [s["wins"] / s["uses"] for s in helpful if s["uses"]]
        lowest = f"{min(ratios):.2f}" if ratios else "-"
        print(
            f"  helpful notes left: {len(helpful)}, carrying "
            f"{sum(s['sources'] for s in helpful)} trajectory sources; lowest success ratio "
            f"{lowest}"
        )

    shown = next((r for r in results if r["example"] is not None), None)
    if shown is not None:
        example, history = shown["example"], shown["history"]
        print(
            f"\nmem.history() of the misleading {example['label'][1]} note pruned at task "
            f"{example['step']} ({shown['policy']}):\n  {_runs([e['action'] for e in history])}"
            f"\n  last event: action={history[-1]['action']!r}, "
            f"reason={history[-1]['reason']!r}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=("hashing", "minilm"), default="hashing")
    parser.add_argument(
        "--jobs", type=int, default=min(len(POLICIES), os.cpu_count() or 1), help="processes"
    )
    args = parser.parse_args(argv)
    load_gold()  # fail fast without the data
    started = time.perf_counter()
    runs = [(policy, order) for order in ORDERS for policy in POLICIES]
    policies, orders = [p for p, _ in runs], [o for _, o in runs]
    if args.jobs > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            results = list(pool.map(simulate, policies, [args.embedder] * len(runs), orders))
    else:
        results = [simulate(p, args.embedder, o) for p, o in runs]
    report(results, args.embedder)
    print(f"\n(total {time.perf_counter() - started:.0f}s, {args.jobs} process(es))")


if __name__ == "__main__":
    main()
