"""Commands on the whole store: stats, graph, mcp, demo."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from memory.cli.render import print_json, shorten, stderr, stdout
from memory.cli.target import Target, open_memory, target_options
from memory.errors import InvalidInput
from memory.model import Note

__all__ = ["demo", "graph", "mcp", "stats", "store_stats"]


def _folder_bytes(folder: Path) -> dict[str, int]:
    """Bytes on disk: Chroma's SQLite file (records, metadata, history) and vector index."""
    sizes = {"sqlite_bytes": 0, "vector_index_bytes": 0}
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        if path.name.startswith("chroma.sqlite3"):
            sizes["sqlite_bytes"] += path.stat().st_size
        elif path.parent != folder:  # one folder per HNSW segment
            sizes["vector_index_bytes"] += path.stat().st_size
    return sizes


def store_stats(notes: list[Note], folder: Path | None) -> dict[str, Any]:
    """Counts of a store's notes: per kind, per scope, links, thread steps, tags, sizes."""
    ids = {n.id for n in notes}
    scopes = Counter(
        " ".join(f"{k}={v}" for k, v in n.scope.model_dump().items() if v) or "(no scope)"
        for n in notes
    )
    tags = Counter(tag for n in notes for tag in n.tags)
    stats: dict[str, Any] = {
        "notes": len(notes),
        "kinds": dict(Counter(n.kind for n in notes)),
        "scopes": dict(scopes.most_common()),
        "links": sum(len(n.links) for n in notes) // 2,
        "thread_steps": sum(1 for n in notes if n.follows in ids),
        "tags": dict(tags.most_common(20)),
        "distinct_tags": len(tags),
        "index": {"vectors": len(notes), "lexical_documents": len(notes)},
    }
    if folder is not None:
        stats["index"].update(_folder_bytes(folder))
    return stats


@click.command()
@target_options
def stats(target: Target) -> None:
    """Notes per kind and scope, links, tags and index sizes (loads no model)."""
    with open_memory(target, command="stats", embeds=False) as mem:
        notes = mem.notes(**target.scope)
    data = store_stats(notes, None if target.server else target.path)
    if target.as_json:
        print_json(data)
        return
    stdout.print(
        f"[bold]{data['notes']}[/bold] notes, {data['links']} links, "
        f"{data['thread_steps']} thread steps, {data['distinct_tags']} tags  ({target.where})"
    )
    for title, counts in (("kind", data["kinds"]), ("scope", data["scopes"])):
        table = Table(title=f"notes per {title}")
        table.add_column(title)
        table.add_column("notes", justify="right")
        for name, count in counts.items():
            table.add_row(escape(str(name)), str(count))
        stdout.print(table)
    if data["tags"]:
        stdout.print(
            "top tags: " + escape(", ".join(f"{t} ({c})" for t, c in data["tags"].items()))
        )
    index = data["index"]
    sizes = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in index.items())
    stdout.print(f"index: {sizes}")


@click.command()
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("zettelmem-graph.html"),
    show_default=True,
    help="The HTML file to write.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Draw at most this many notes (the most linked first).",
)
@target_options
def graph(output: Path, limit: int, target: Target) -> None:
    """Write the note network as one HTML page that opens offline in any browser."""
    from memory.graph import render_page

    with open_memory(target, command="graph", embeds=False) as mem:
        notes = mem.notes(**target.scope)
    if len(notes) > limit:
        keep = {n.id for n in sorted(notes, key=lambda n: -len(n.links))[:limit]}
        notes = [n for n in notes if n.id in keep]
    page = render_page(notes, title=f"Zettelmem: {len(notes)} notes")
    output.write_text(page, encoding="utf-8")
    if target.as_json:
        print_json({"output": str(output), "notes": len(notes)})
    else:
        stdout.print(f"wrote {output} ({len(notes)} notes); open it in a browser")


@click.command()
@target_options
def mcp(target: Target) -> None:
    """Serve this memory to MCP clients over stdio (needs the mcp extra).

    Every tool works in the scope given by --user/--agent/--run; clients
    cannot choose another one.
    """
    from integrations.mcp_server import build_server

    if not any(target.scope.values()):
        raise InvalidInput("zettelmem mcp needs a scope for its clients: --user, --agent or --run")
    with open_memory(target, command="mcp", must_exist=False) as mem:
        server = build_server(mem, **target.scope)
        stderr.print(f"serving {target.where} over stdio to MCP clients (scope: {target.scope})")
        server.run("stdio")


def _demo_file(file: Path | None) -> Any:
    if file is not None:
        if not file.is_file():
            raise InvalidInput(f"no conversation file at {file}")
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{file} is not valid JSON: {exc.msg}") from exc
    bundled = resources.files("memory.cli") / "data" / "conversation.json"
    return json.loads(bundled.read_text(encoding="utf-8"))


@click.command()
@click.option(
    "--file",
    type=click.Path(path_type=Path),
    default=None,
    help="A LoCoMo-layout conversation (default: the sample that ships with the package).",
)
@click.option(
    "--questions",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="How many of its questions to search for.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Store the notes at --path (default: in memory only, nothing is written).",
)
@target_options
def demo(file: Path | None, questions: int, keep: bool, target: Target) -> None:
    """Store a conversation as notes, then show the turns retrieved for its questions."""
    from memory.conversations import conversation_items
    from memory.facade import AgenticMemory

    conversation = _demo_file(file)
    try:
        items = conversation_items(
            conversation, metadata_keys=("dia_id", "speaker"), user_id="demo"
        )
    except InvalidInput as exc:
        raise InvalidInput(f"not a LoCoMo-layout conversation: {exc}") from exc
    if keep:
        opened: Any = open_memory(target, command="demo", must_exist=False)
    else:
        from contextlib import closing

        from memory.cli.target import embedder_for

        opened = closing(AgenticMemory(embedder=embedder_for(target.embedder)))
    report: dict[str, Any] = {"stored": 0, "questions": []}
    with opened as mem:
        stderr.print(f"storing {len(items)} turns as notes...")
        notes = mem.add_many(items)
        report["stored"] = len(notes)
        qa = [q for q in conversation.get("qa", []) if isinstance(q, dict) and q.get("question")]
        for question in qa[:questions]:
            hits = mem.search(question["question"], k=3, user_id="demo")
            evidence = set(question.get("evidence") or [])
            report["questions"].append(
                {
                    "question": question["question"],
                    "retrieved": [
                        {
                            "dia_id": h.note.metadata.get("dia_id"),
                            "score": round(h.score, 4),
                            "content": h.note.content,
                            "evidence": h.note.metadata.get("dia_id") in evidence,
                        }
                        for h in hits
                    ],
                }
            )
    if target.as_json:
        print_json(report)
        return
    stdout.print(f"stored {report['stored']} notes; a few of them:")
    for note in notes[:3]:
        stdout.print(f"  {escape(shorten(note.content, 70))}")
        keywords, tags = escape(", ".join(note.keywords)), escape(", ".join(note.tags))
        stdout.print(f"    keywords: {keywords}  tags: {tags}  links: {len(note.links)}")
    for entry in report["questions"]:
        stdout.print(f"\n[bold]Q: {escape(entry['question'])}[/bold]  turns retrieved:")
        for hit in entry["retrieved"]:
            mark = "*" if hit["evidence"] else " "
            turn = escape(f"[{hit['dia_id']}] {shorten(hit['content'])}")
            stdout.print(f" {mark} {hit['score']:.3f} {turn}")
    if report["questions"]:
        stdout.print("\n(* = a turn the question's annotation names as evidence)")
