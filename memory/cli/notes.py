"""Commands on single notes: add, search, show, list, update, delete."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import click
from rich.markup import escape

from memory.cli.render import (
    event_line,
    note_brief,
    note_json,
    print_json,
    print_note_table,
    print_results,
    shorten,
    stdout,
)
from memory.cli.target import Target, open_memory, target_options
from memory.errors import InvalidInput, NotFound
from memory.model import NOTE_KINDS, Event, Note

__all__ = ["add", "delete", "list_notes", "search", "show", "update"]

KIND = click.Choice(NOTE_KINDS)


def parse_json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A ``--metadata`` style option: a JSON object, or ``None`` when not given."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{option} is not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict):
        raise InvalidInput(f"{option} must be a JSON object")
    return value


def split_list(text: str | None) -> list[str] | None:
    """``"a, b"`` as ``["a", "b"]``; ``None`` when not given."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


@click.command()
@click.argument("content")
@click.option("--metadata", default=None, help="Your data as a JSON object, e.g. '{\"k\": 1}'.")
@click.option("--kind", type=KIND, default="episodic", show_default=True, help="Note kind.")
@click.option("--timestamp", default=None, help="When it happened (a date string); default now.")
@target_options
def add(
    content: str, metadata: str | None, kind: str, timestamp: str | None, target: Target
) -> None:
    """Store one memory as a note linked to related notes of its scope."""
    extra = parse_json_object(metadata, "--metadata")
    with open_memory(target, command="add", must_exist=False) as mem:
        note = mem.add(content, metadata=extra, kind=kind, timestamp=timestamp, **target.scope)
    if target.as_json:
        print_json(note_json(note))
        return
    stdout.print(f"stored [cyan]{note.id}[/cyan]")
    stdout.print(f"  keywords: {escape(', '.join(note.keywords))}")
    stdout.print(f"  tags:     {escape(', '.join(note.tags))}")
    stdout.print(f"  context:  {escape(note.context)}")
    stdout.print(f"  links:    {len(note.links)}")


@click.command()
@click.argument("query")
@click.option("--k", "k", type=int, default=5, show_default=True, help="How many results.")
@click.option("--kind", "kinds", type=KIND, multiple=True, help="Only this kind (repeatable).")
@click.option("--expand-links", is_flag=True, help="Add notes linked to the top hits.")
@target_options
def search(query: str, k: int, kinds: tuple[str, ...], expand_links: bool, target: Target) -> None:
    """Hybrid search (meaning and words) over the notes of the scope."""
    with open_memory(target, command="search") as mem:
        hits = mem.search(
            query, k, kinds=list(kinds) or None, expand_links=expand_links, **target.scope
        )
    if target.as_json:
        print_json([{"score": h.score, "found_by": h.found_by, **note_json(h.note)} for h in hits])
    elif not hits:
        stdout.print("no matching notes")
    else:
        print_results(hits, title=f"search: {shorten(query, 60)}")


def _thread(mem: Any, note: Note, scope: dict[str, Any], depth: int = 3) -> list[Note]:
    """The turns before and after ``note`` in its thread (Folgezettel), in order."""
    before: list[Note] = []
    current = note
    while current.follows and len(before) < depth:
        try:
            current = mem.get(current.follows, **scope)
        except NotFound:
            break
        before.insert(0, current)
    after: list[Note] = []
    current = note
    while len(after) < depth:
        following = [n for n in mem.neighbors(current.id, **scope) if n.follows == current.id]
        if not following:
            break
        current = following[0]
        after.append(current)
    return [*before, note, *after]


@click.command()
@click.argument("note_id", metavar="ID")
@target_options
def show(note_id: str, target: Target) -> None:
    """One note with its links, thread and history (a deleted note: its history)."""
    with open_memory(target, command="show", embeds=False) as mem:
        try:
            note = mem.get(note_id, **target.scope)
        except NotFound:
            # Deleted notes keep their history; anything else is unknown (NotFound again).
            _show_deleted(note_id, mem.history(note_id, **target.scope), target)
            return
        neighbours = mem.neighbors(note_id, **target.scope)
        thread = _thread(mem, note, target.scope)
        history = mem.history(note_id, **target.scope)
    if target.as_json:
        print_json(
            {
                "note": note_json(note),
                "links": [
                    {"id": n.id, "strength": note.links.get(n.id), "content": n.content}
                    for n in neighbours
                ],
                "thread": [n.id for n in thread],
                "history": [e.model_dump(mode="json") for e in history],
            }
        )
        return
    stdout.print(f"[bold cyan]{note.id}[/bold cyan]  {note.kind}  {note.timestamp:%Y-%m-%d %H:%M}")
    stdout.print(escape(note.content))
    for label, value in (
        ("keywords", ", ".join(note.keywords)),
        ("tags", ", ".join(note.tags)),
        ("context", note.context),
        ("when to use", note.when_to_use),
        ("scope", ", ".join(f"{k}={v}" for k, v in note.scope.model_dump().items() if v)),
        ("metadata", json.dumps(note.metadata, ensure_ascii=False) if note.metadata else ""),
        ("sources", ", ".join(note.sources)),
    ):
        if value:
            stdout.print(f"  {label}: {escape(value)}")
    if note.retrieved_count:
        stdout.print(f"  utility: {note.success_count}/{note.retrieved_count} successes")
    stdout.print(f"\n[bold]links[/bold] ({len(neighbours)})")
    for other in neighbours:
        strength = note.links.get(other.id, 0.0)
        stdout.print(f"  {strength:.2f} [cyan]{other.id}[/cyan] {escape(shorten(other.content))}")
    if len(thread) > 1:
        stdout.print("\n[bold]thread[/bold]")
        for turn in thread:
            mark = ">" if turn.id == note.id else " "
            stdout.print(f" {mark} [cyan]{turn.id}[/cyan] {escape(shorten(turn.content))}")
    stdout.print(f"\n[bold]history[/bold] ({len(history)} events)")
    for event in history:
        stdout.print(f"  {escape(event_line(event))}")


def _show_deleted(note_id: str, history: list[Event], target: Target) -> None:
    last = history[-1] if history else None
    content = str((last.before if last else {}).get("content", ""))
    if target.as_json:
        print_json(
            {
                "deleted": True,
                "id": note_id,
                "content": content,
                "history": [e.model_dump(mode="json") for e in history],
            }
        )
        return
    stdout.print(f"[bold cyan]{note_id}[/bold cyan]  [red]deleted[/red]")
    stdout.print(escape(content))
    stdout.print(f"\n[bold]history[/bold] ({len(history)} events)")
    for event in history:
        stdout.print(f"  {escape(event_line(event))}")


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    from memory.text.dialogue import parse_timestamp

    try:
        return parse_timestamp(text)
    except InvalidInput as exc:
        raise InvalidInput(f"--since: {exc}") from exc


@click.command(name="list")
@click.option("--kind", "kinds", type=KIND, multiple=True, help="Only this kind (repeatable).")
@click.option("--tag", "tags", multiple=True, help="Only notes with this tag (repeatable: any).")
@click.option("--since", default=None, help="Only notes that happened at or after this date.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most N notes.")
@target_options
def list_notes(
    kinds: tuple[str, ...],
    tags: tuple[str, ...],
    since: str | None,
    limit: int | None,
    target: Target,
) -> None:
    """List the notes of the scope, oldest first."""
    start = _since(since)
    with open_memory(target, command="list", embeds=False) as mem:
        notes = mem.notes(kinds=list(kinds) or None, **target.scope)
    if tags:
        notes = [n for n in notes if set(tags) & set(n.tags)]
    if start is not None:
        notes = [n for n in notes if n.timestamp >= start]
    notes = notes[:limit] if limit else notes
    if target.as_json:
        print_json([note_brief(n) for n in notes])
    elif not notes:
        stdout.print("no notes")
    else:
        print_note_table(notes, title=f"{len(notes)} notes")


@click.command()
@click.argument("note_id", metavar="ID")
@click.option("--content", default=None, help="New text (re-embedded; links are kept).")
@click.option("--keywords", default=None, help="New keywords, comma-separated.")
@click.option("--tags", default=None, help="New tags, comma-separated.")
@click.option("--context", default=None, help="New one-line context.")
@click.option("--metadata", default=None, help="New metadata, a JSON object (replaces it).")
@click.option("--pin/--unpin", "pinned", default=None, help="Pinned notes are never pruned.")
@target_options
def update(
    note_id: str,
    content: str | None,
    keywords: str | None,
    tags: str | None,
    context: str | None,
    metadata: str | None,
    pinned: bool | None,
    target: Target,
) -> None:
    """Change fields of a note; the change goes into its history."""
    changes: dict[str, Any] = {
        "content": content,
        "keywords": split_list(keywords),
        "tags": split_list(tags),
        "context": context,
        "metadata": parse_json_object(metadata, "--metadata"),
        "pinned": pinned,
    }
    with open_memory(target, command="update") as mem:
        note = mem.update(note_id, **changes, **target.scope)
    if target.as_json:
        print_json(note_json(note))
    else:
        stdout.print(f"updated [cyan]{note.id}[/cyan]")


@click.command()
@click.argument("note_id", metavar="ID")
@target_options
def delete(note_id: str, target: Target) -> None:
    """Delete a note and every link to it (show still prints its history)."""
    with open_memory(target, command="delete", embeds=False) as mem:
        note = mem.delete(note_id, **target.scope)
    if target.as_json:
        print_json({"deleted": note.id})
    else:
        stdout.print(f"deleted [cyan]{note.id}[/cyan] {escape(shorten(note.content, 70))}")
