"""What commands print: rich tables for people, JSON for scripts.

Results go to stdout; progress bars and messages to stderr, so
``zettelmem export > notes.jsonl`` or ``zettelmem search q --json | jq`` stay clean.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from memory.model import Event, Note, SearchResult

__all__ = [
    "note_brief",
    "note_json",
    "print_json",
    "print_note_table",
    "print_results",
    "shorten",
    "stderr",
    "stdout",
]

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)
if not stdout.is_terminal:
    # Piped or captured: rows are not squeezed into 80 columns (a pager or file wraps).
    stdout.width = 200


def shorten(text: str, limit: int = 90) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def note_json(note: Note) -> dict[str, Any]:
    """A note as plain JSON values."""
    data: dict[str, Any] = note.model_dump(mode="json")
    return data


def note_brief(note: Note) -> dict[str, Any]:
    """The fields a listing shows."""
    return {
        "id": note.id,
        "kind": note.kind,
        "content": note.content,
        "tags": note.tags,
        "links": len(note.links),
        "timestamp": note.timestamp.isoformat(),
    }


def print_json(data: Any) -> None:
    """One JSON document on stdout (plain print: rich would wrap long lines)."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


def print_note_table(notes: Sequence[Note], *, title: str | None = None) -> None:
    """A table of notes: id, kind, when, content, tags, link count."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("kind", no_wrap=True)
    table.add_column("when", no_wrap=True)
    table.add_column("content", ratio=1)
    table.add_column("tags", max_width=24)
    table.add_column("links", justify="right", no_wrap=True)
    for note in notes:
        table.add_row(
            note.id,
            note.kind,
            note.timestamp.strftime("%Y-%m-%d"),
            escape(shorten(note.content)),
            escape(", ".join(note.tags)),
            str(len(note.links)),
        )
    stdout.print(table)


def print_results(results: Iterable[SearchResult], *, title: str) -> None:
    """Search or recall hits: score, id, kind, content."""
    table = Table(title=title)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("id", no_wrap=True, style="cyan")
    table.add_column("kind", no_wrap=True)
    table.add_column("content", ratio=1)
    for hit in results:
        table.add_row(
            f"{hit.score:.3f}", hit.note.id, hit.note.kind, escape(shorten(hit.note.content, 100))
        )
    stdout.print(table)


def event_line(event: Event) -> str:
    """One history event, for ``show``."""
    detail = event.reason or ""
    if event.action in ("update", "evolve") and event.after:
        detail = f"{', '.join(sorted(event.after))}; {detail}".strip("; ")
    return f"{event.at:%Y-%m-%d %H:%M:%S}  {event.action:<8} {event.actor:<10} {detail}"
