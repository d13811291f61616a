"""Procedural memory commands: learn, recall, feedback, prune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from memory.cli.render import note_json, print_json, print_results, shorten, stdout
from memory.cli.target import Target, open_memory, target_options
from memory.errors import InvalidInput

__all__ = ["feedback", "learn", "prune", "read_trajectories", "recall"]

_LEARNED = ("procedure", "concept")


def read_trajectories(path: Path) -> list[dict[str, Any]]:
    """Trajectories from a JSON file (one object or a list) or JSON Lines (one per line)."""
    if not path.is_file():
        raise InvalidInput(f"no file at {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"{path} line {number} is not JSON: {exc.msg}") from exc
    trajectories = data if isinstance(data, list) else [data]
    if not trajectories:
        raise InvalidInput(f"{path} holds no trajectory")
    for number, item in enumerate(trajectories, start=1):
        if not isinstance(item, dict):
            raise InvalidInput(f"trajectory {number} in {path} must be a JSON object")
    return trajectories


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@target_options
def learn(file: Path, target: Target) -> None:
    """Distil trajectories (a JSON file or JSON Lines) into procedures and concepts.

    Each trajectory: {"task": ..., "steps": [{"action": ..., "observation": ...}],
    "success": true} (or a "reward"). Learning a trajectory id twice is a no-op.
    """
    from memory.procedures import coerce_trajectory

    trajectories = [coerce_trajectory(t) for t in read_trajectories(file)]
    learned = []
    with open_memory(target, command="learn", must_exist=False) as mem:
        for trajectory in trajectories:
            learned.extend(mem.learn(trajectory, **target.scope))
    if target.as_json:
        print_json([note_json(n) for n in learned])
        return
    stdout.print(f"learned {len(learned)} notes from {len(trajectories)} trajectories")
    for note in learned:
        stdout.print(f"  [cyan]{note.id}[/cyan] {note.kind}: {escape(shorten(note.content))}")


@click.command()
@click.argument("task")
@click.option("--k", "k", type=int, default=3, show_default=True, help="How many notes.")
@target_options
def recall(task: str, k: int, target: Target) -> None:
    """Procedures and concepts for a new task, most useful first."""
    with open_memory(target, command="recall") as mem:
        hits = mem.recall(task, k, **target.scope)
    if target.as_json:
        print_json([{"score": h.score, **note_json(h.note)} for h in hits])
    elif not hits:
        stdout.print("nothing learned for this task yet")
    else:
        print_results(hits, title=f"recall: {shorten(task, 60)}")


@click.command()
@click.argument("note_ids", nargs=-1, required=True, metavar="ID...")
@click.option(
    "--success/--failure",
    default=None,
    help="Whether the task that used these notes succeeded (one is required).",
)
@target_options
def feedback(note_ids: tuple[str, ...], success: bool | None, target: Target) -> None:
    """Record that notes were used for a task and whether it succeeded."""
    if success is None:
        raise click.UsageError("say how the task went: --success or --failure")
    with open_memory(target, command="feedback", embeds=False) as mem:
        notes = mem.feedback(list(note_ids), success, **target.scope)
    if target.as_json:
        print_json(
            [
                {"id": n.id, "retrieved": n.retrieved_count, "successes": n.success_count}
                for n in notes
            ]
        )
        return
    for note in notes:
        stdout.print(
            f"[cyan]{note.id}[/cyan] {note.success_count}/{note.retrieved_count} successes"
        )


def planned_removals(mem: Any, target: Target, min_uses: int, min_ratio: float) -> list[dict]:
    """What ``prune`` would remove, decided by the same rules, without writing."""
    from memory.procedures import (
        dedup_signature,
        near_duplicates,
        prune_decisions,
        retired_lead,
        utility_score,
    )

    notes = mem.notes(**target.scope)
    by_id = {n.id: n for n in notes}
    planned = [
        # The ledger's rule: a procedure whose lead a variant can take over is kept.
        {"id": d.note_id, "reason": d.reason, "kept": retired_lead(by_id[d.note_id]) is not None}
        for d in prune_decisions(
            [n for n in notes if n.retrieved_count > 0], min_uses=min_uses, min_ratio=min_ratio
        )
    ]
    removed = {p["id"] for p in planned if not p["kept"]}
    learned = [n for n in notes if n.kind in _LEARNED and n.id not in removed]
    for scope in {n.scope for n in learned}:
        for kind in _LEARNED:
            pool = sorted(
                (n for n in learned if n.scope == scope and n.kind == kind),
                key=lambda n: -utility_score(n),
            )
            for group in near_duplicates({n.id: dedup_signature(n) for n in pool}):
                planned.extend(
                    {
                        "id": other,
                        "reason": f"merged into {group[0]} (near-duplicate)",
                        "kept": False,
                    }
                    for other in group[1:]
                )
    return planned


@click.command()
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@click.option(
    "--min-uses",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Judge a note after this many feedback reports.",
)
@click.option(
    "--min-ratio",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="Remove judged notes whose success ratio is below this.",
)
@target_options
def prune(dry_run: bool, min_uses: int, min_ratio: float, target: Target) -> None:
    """Remove notes with low measured utility and merge near-duplicate procedures."""
    with open_memory(target, command="prune", embeds=not dry_run) as mem:
        if dry_run:
            removals = planned_removals(mem, target, min_uses, min_ratio)
        else:
            removals = [
                {"id": r.note_id, "reason": r.reason, "kept": r.kept}
                for r in mem.prune(min_uses=min_uses, min_ratio=min_ratio, **target.scope)
            ]
    if target.as_json:
        print_json({"dry_run": dry_run, "removed": removals})
        return
    verb = "would remove" if dry_run else "removed"
    retired = sum(r["kept"] for r in removals)
    also = (
        f" and retire the leading steps of {retired}"
        if dry_run
        else f", retired the leading steps of {retired}"
    )
    stdout.print(f"{verb} {len(removals) - retired} notes" + (also if retired else ""))
    for removal in removals:
        label = " (leading steps retired; the note stays)" if removal["kept"] else ""
        stdout.print(f"  [cyan]{removal['id']}[/cyan] {escape(removal['reason'])}{label}")
