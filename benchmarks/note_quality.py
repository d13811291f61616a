"""Do the notes mean something? Tags, links and superseded facts on a labelled set.

``benchmarks/data/notes_labelled.json`` holds 62 short notes of one person's
life and work (14 topics in 7 areas) and 16 update pairs (an old fact, the new
fact that replaces it, a question whose answer is the new fact). All are added
to one scope in a fixed shuffled order, 15 minutes apart, every old fact before
its new one -- so consecutive notes are usually about different things, as in a
real day. Then:

    tags     pairwise precision / recall of "share a tag" against "same topic"
    links    share of links joining same-topic notes (all links, and the links
             that are not just the conversation thread)
    updates  share of update questions where the new fact ranks above the old
             one in the top 10 (the old one absent counts; the new one absent fails),
             and how many notes were marked superseded rightly / wrongly

``--sweep`` also replays the open-vocabulary tagger over the same vectors and
keywords at several thresholds, and a zero-shot taxonomy of the area names, to
show how precision and recall move with the confidence a tag needs.

Usage:
    python benchmarks/note_quality.py [--embedder minilm|hashing] [--sweep] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

from harness import format_table, load_engine

DATA = Path(__file__).parent / "data" / "notes_labelled.json"
USER = "labelled"
START = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
STEP = timedelta(minutes=15)


def ingest_plan(data: dict[str, Any], seed: int = 7) -> list[dict[str, Any]]:
    """The items in ingest order: notes and old facts shuffled, each new fact later."""
    rng = random.Random(seed)
    items = [
        {"text": n["text"], "topic": n["topic"], "area": n["area"], "role": "note"}
        for n in data["notes"]
    ]
    olds = [
        {"text": u["old"], "topic": u["topic"], "area": u["area"], "role": "old", "pair": i}
        for i, u in enumerate(data["updates"])
    ]
    news = [
        {"text": u["new"], "topic": u["topic"], "area": u["area"], "role": "new", "pair": i}
        for i, u in enumerate(data["updates"])
    ]
    first = items[: len(items) // 2] + olds
    rng.shuffle(first)
    second = items[len(items) // 2 :] + news
    rng.shuffle(second)
    plan = first + second
    for position, item in enumerate(plan):
        item["at"] = START + position * STEP
    return plan


def pairwise(groups: dict[str, set[str]], truth: dict[str, str]) -> tuple[float, float]:
    """Precision and recall of "share a group" against "same truth label"."""
    ids = sorted(truth)
    tp = fp = fn = 0
    for a, b in combinations(ids, 2):
        predicted = bool(groups.get(a, set()) & groups.get(b, set()))
        actual = truth[a] == truth[b]
        tp += predicted and actual
        fp += predicted and not actual
        fn += actual and not predicted
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def link_precision(notes: list[Any], truth: dict[str, str]) -> dict[str, float]:
    """Share of links joining same-topic notes: all links, and off-thread ones."""
    all_links: set[tuple[str, str]] = set()
    thread: set[tuple[str, str]] = set()
    for note in notes:
        for target in note.links:
            all_links.add(tuple(sorted((note.id, target))))  # type: ignore[arg-type]
        if note.follows:
            thread.add(tuple(sorted((note.id, note.follows))))  # type: ignore[arg-type]
    semantic = all_links - thread

    def share(pairs: set[tuple[str, str]]) -> float:
        if not pairs:
            return 0.0
        return sum(truth[a] == truth[b] for a, b in pairs if a in truth and b in truth) / len(pairs)

    return {
        "links": len(all_links),
        "link_precision_all": share(all_links),
        "off_thread_links": len(semantic),
        "link_precision_off_thread": share(semantic),
        "thread_links": len(all_links & thread),
    }


def update_order(mem: Any, data: dict[str, Any], ids: dict[tuple[str, int], str]) -> float:
    """Share of update questions whose new fact ranks above the old one in the top 10."""
    wins = 0
    for index, update in enumerate(data["updates"]):
        hits = [h.note.id for h in mem.search(update["question"], k=10, user_id=USER)]
        new, old = ids[("new", index)], ids[("old", index)]
        if new in hits and (old not in hits or hits.index(new) < hits.index(old)):
            wins += 1
    return wins / len(data["updates"])


def sweep(embedder: Any, plan: list[dict[str, Any]], notes: list[Any]) -> list[list[object]]:
    """Tag precision / recall of the open tagger and of a zero-shot taxonomy per threshold."""
    try:
        from memory.mind.tagging import Tagger, Taxonomy
    except ImportError:  # code without the open tagger
        return []
    from memory.embed import resolve_embedder

    vectors = resolve_embedder(embedder).embed([item["text"] for item in plan])
    truth = {str(i): item["topic"] for i, item in enumerate(plan)}
    rows: list[list[object]] = []
    for threshold in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7):
        tagger = Tagger(threshold=threshold)
        groups = {
            str(i): set(tagger.choose("s", vectors[i], notes[i].keywords).tags)
            for i in range(len(plan))
        }
        precision, recall = pairwise(groups, truth)
        rows.append(["open (topic)", threshold, round(precision, 3), round(recall, 3)])
    # Zero-shot: the area names alone as a taxonomy, judged against the area labels.
    areas = sorted({item["area"] for item in plan})
    area_truth = {str(i): item["area"] for i, item in enumerate(plan)}
    for threshold in (0.1, 0.15, 0.2, 0.25, 0.3):
        taxonomy = Tagger(resolve_embedder(embedder), taxonomy=Taxonomy(areas), threshold=threshold)
        groups = {str(i): set(taxonomy.choose("s", vectors[i], []).tags) for i in range(len(plan))}
        precision, recall = pairwise(groups, area_truth)
        rows.append(["taxonomy (area)", threshold, round(precision, 3), round(recall, 3)])
    return rows


def run(embedder_name: str, do_sweep: bool) -> dict[str, Any]:
    data = json.loads(DATA.read_text())
    plan = ingest_plan(data)
    engine = load_engine()
    assert engine is not None
    if embedder_name == "hashing":
        from memory.embed import HashingEmbedder

        embedder: Any = HashingEmbedder()
    else:
        from harness import load_minilm

        embedder = load_minilm()
    mem = engine(embedder=embedder)
    notes = mem.add_many(
        [{"content": item["text"], "timestamp": item["at"], "user_id": USER} for item in plan]
    )
    truth = {note.id: item["topic"] for note, item in zip(notes, plan, strict=True)}
    ids = {
        (item["role"], item["pair"]): note.id
        for note, item in zip(notes, plan, strict=True)
        if "pair" in item
    }
    stored = mem.notes(user_id=USER)
    precision, recall = pairwise({n.id: set(n.tags) for n in stored}, truth)
    figures: dict[str, Any] = {
        "notes": len(stored),
        "tag_precision": precision,
        "tag_recall": recall,
        "tagged": sum(bool(n.tags) for n in stored) / len(stored),
        "distinct_tags": len({t for n in stored for t in n.tags}),
        **link_precision(stored, truth),
        "current_fact_first": update_order(mem, data, ids),
    }
    marked = {n.id: getattr(n, "superseded_by", None) for n in stored}
    right = sum(marked.get(ids[("old", i)]) == ids[("new", i)] for i in range(len(data["updates"])))
    figures["superseded_right"] = right
    figures["superseded_wrong"] = sum(bool(v) for v in marked.values()) - right
    if do_sweep:
        figures["sweep"] = sweep(embedder, plan, notes)
    mem.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--sweep", action="store_true", help="tag threshold sweep")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures = run(args.embedder, args.sweep)
    rows = [
        [k, round(v, 3) if isinstance(v, float) else v] for k, v in figures.items() if k != "sweep"
    ]
    print(format_table(["measure", "value"], rows))
    if figures.get("sweep"):
        print()
        print(format_table(["tagger", "threshold", "precision", "recall"], figures["sweep"]))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
