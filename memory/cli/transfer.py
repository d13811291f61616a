"""Moving memories in and out: import (messages, conversations, snapshots) and export.

Imports of messages and conversations are resumable: every item gets a stable
key (a hash of its position and its content) stored in its metadata as
``import_key``; a second run of the same file skips the items already stored,
so an import interrupted by Ctrl-C or a crash is finished by running it again.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memory.cli.render import print_json, stderr, stdout
from memory.cli.target import Target, check_store_path, open_memory, target_options
from memory.errors import InvalidInput

__all__ = ["export", "import_", "message_items", "read_items"]

IMPORT_KEY = "import_key"
_MESSAGE_KEYS = ("content", "text")
_SPEAKER_KEYS = ("speaker", "name", "role")


def _key(index: int, item: dict[str, Any]) -> str:
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{index}\x00{canonical}".encode()).hexdigest()[:24]


def message_items(lines: list[str], source: str) -> list[dict[str, Any]]:
    """``add_many`` items from JSON Lines messages.

    Each line is an object with ``content`` (or ``text``); optional ``speaker``,
    ``name`` or ``role`` (written before the text, "Ann: ...", and kept in
    metadata), ``timestamp`` and ``metadata`` (an object).
    """
    items = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{source} line {number} is not JSON: {exc.msg}") from exc
        if not isinstance(message, dict):
            raise InvalidInput(f"{source} line {number} must be a JSON object")
        text = next((message[k] for k in _MESSAGE_KEYS if k in message), None)
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{source} line {number} has no 'content' text")
        metadata = message.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise InvalidInput(f"{source} line {number}: 'metadata' must be an object")
        speaker = next((message[k] for k in _SPEAKER_KEYS if message.get(k)), None)
        item: dict[str, Any] = {"content": f"{speaker}: {text}" if speaker else text}
        if speaker:
            metadata = {"speaker": str(speaker), **metadata}
        item["metadata"] = metadata
        if message.get("timestamp") is not None:
            item["timestamp"] = message["timestamp"]
        items.append(item)
    return items


def read_items(path: Path, kind: str) -> list[dict[str, Any]]:
    """The ``add_many`` items of a messages (JSONL) or LoCoMo-layout conversation file."""
    from memory.conversations import conversation_items

    text = _read_text(path)
    if kind == "auto":
        kind = (
            "conversation" if text.lstrip().startswith("{") and "session_1" in text else "messages"
        )
    if kind == "conversation":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path} is not valid JSON: {exc.msg}") from exc
        try:
            return conversation_items(data)
        except InvalidInput as exc:
            raise InvalidInput(f"{path} is not a LoCoMo-layout conversation: {exc}") from exc
    return message_items(text.splitlines(), str(path))


def _read_text(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    if not path.is_file():
        raise InvalidInput(f"no file at {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text") from exc


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        disable=quiet,
        transient=False,
    )


@click.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "kind",
    type=click.Choice(["auto", "messages", "conversation"]),
    default="auto",
    show_default=True,
    help="messages: JSON Lines of {content, speaker|role, timestamp, metadata}; "
    "conversation: a LoCoMo-layout JSON file.",
)
@click.option(
    "--notes",
    "snapshot",
    is_flag=True,
    help="FILE is a 'zettelmem export' snapshot: restore the notes with their ids, "
    "links, history and utility.",
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=256, show_default=True, help="Notes per write."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@target_options
def import_(file: Path, kind: str, snapshot: bool, batch: int, quiet: bool, target: Target) -> None:
    """Import messages, a conversation, or a snapshot made by export (FILE or - for stdin).

    Running the same import again skips what is already stored, so an
    interrupted import is finished by running it again.
    """
    if not target.server:
        check_store_path(target.path, must_exist=False)  # before reading a large file
    if snapshot:
        _restore(file, target)
        return
    items = read_items(file, kind)
    for index, item in enumerate(items):
        item["metadata"] = {**item.get("metadata", {}), IMPORT_KEY: _key(index, item)}
        item.update({k: v for k, v in target.scope.items() if v is not None})
    with open_memory(target, command="import", must_exist=False) as mem:
        # A scope-wide listing (no embedding) tells which items a previous run stored.
        done = {
            n.metadata.get(IMPORT_KEY)
            for n in mem.notes(**target.scope)
            if IMPORT_KEY in n.metadata
        }
        todo = [item for item in items if item["metadata"][IMPORT_KEY] not in done]
        with _progress(quiet or target.as_json) as bar:
            task = bar.add_task("import", total=len(todo))
            for start in range(0, len(todo), batch):
                chunk = todo[start : start + batch]
                mem.add_many(chunk, batch_size=batch)
                bar.advance(task, len(chunk))
    summary = {"read": len(items), "stored": len(todo), "skipped": len(items) - len(todo)}
    if target.as_json:
        print_json(summary)
    else:
        stdout.print(
            f"stored {summary['stored']} notes from {file} "
            f"({summary['skipped']} already there were skipped)"
        )


def _restore(file: Path, target: Target) -> None:
    from memory.snapshot import read_snapshot

    records = read_snapshot(_read_text(file).splitlines(), source=str(file))
    with open_memory(target, command="import --notes", must_exist=False) as mem:
        written = mem.restore(records)
    summary = {"read": len(records), "stored": len(written), "skipped": len(records) - len(written)}
    if target.as_json:
        print_json(summary)
    else:
        stdout.print(
            f"restored {summary['stored']} notes from {file} "
            f"({summary['skipped']} already there were skipped)"
        )


def _snapshot_lines(mem: Any, target: Target) -> Iterator[str]:
    from memory.snapshot import dump_snapshot, export_snapshot

    for record in export_snapshot(mem, **target.scope):
        yield dump_snapshot(record)


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write to this file (default: stdout).",
)
@target_options
def export(output: Path | None, target: Target) -> None:
    """Write every note of the scope with its links, history and utility as JSON Lines."""
    with open_memory(target, command="export", embeds=False) as mem:
        if output is None:
            for line in _snapshot_lines(mem, target):
                print(line)
            return
        count = 0
        partial = output.with_name(output.name + ".partial")
        with partial.open("w", encoding="utf-8") as handle:
            for line in _snapshot_lines(mem, target):
                handle.write(line + "\n")
                count += 1
        partial.replace(output)
    stderr.print(f"exported {count} notes to {output}")
