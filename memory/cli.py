"""The ``zettelmem`` command: a demo on a conversation file, and search / stats on a store.

zettelmem demo [--file CONVERSATION.json] [--path DIR]
zettelmem search QUERY --path DIR [--k 5] [--user-id ID]
zettelmem stats --path DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from memory.conversations import conversation_items
from memory.errors import InvalidInput

__all__ = ["main"]

_DEFAULT_DEMO = Path("examples/data/conversation.json")


def _demo(args: argparse.Namespace) -> int:
    from memory import AgenticMemory

    source = Path(args.file)
    if not source.exists():
        print(f"no conversation file at {source}; pass --file (LoCoMo layout)", file=sys.stderr)
        return 2
    conversation = json.loads(source.read_text(encoding="utf-8"))
    try:
        items = conversation_items(
            conversation, metadata_keys=("dia_id", "speaker"), user_id="demo"
        )
    except InvalidInput as exc:
        print(f"{source} is not a LoCoMo-layout conversation: {exc}", file=sys.stderr)
        return 2
    with AgenticMemory(args.path) as mem:
        notes = mem.add_many(items, show_progress=True)
        print(f"\nstored {len(notes)} notes; a few of them:")
        for note in notes[:3]:
            print(f"  {note.content[:70]!r}\n    keywords={note.keywords} tags={note.tags}")
            print(f"    context={note.context!r} links={len(note.links)}")
        questions = [q for q in conversation.get("qa", []) if q.get("question")][: args.questions]
        for qa in questions:
            hits = mem.search(qa["question"], k=3, user_id="demo")
            print(f"\nQ: {qa['question']}")
            for hit in hits:
                mark = "*" if hit.note.metadata.get("dia_id") in qa.get("evidence", []) else " "
                dia_id = hit.note.metadata.get("dia_id")
                print(f" {mark} {hit.score:.3f} [{dia_id}] {hit.note.content[:90]}")
        print("\n(* = annotated evidence)")
    return 0


def _search(args: argparse.Namespace) -> int:
    from memory import AgenticMemory

    with AgenticMemory(args.path) as mem:
        for hit in mem.search(args.query, k=args.k, user_id=args.user_id):
            print(f"{hit.score:.3f} {hit.note.id} {hit.note.content[:100]}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from memory import AgenticMemory

    with AgenticMemory(args.path) as mem:
        notes = mem.notes()
        kinds: dict[str, int] = {}
        for note in notes:
            kinds[note.kind] = kinds.get(note.kind, 0) + 1
        links = sum(len(n.links) for n in notes) // 2
        print(json.dumps({"notes": len(notes), "kinds": kinds, "links": links}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zettelmem`` console script."""
    parser = argparse.ArgumentParser(prog="zettelmem", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="ingest a conversation and answer its questions")
    demo.add_argument("--file", default=str(_DEFAULT_DEMO), help="LoCoMo-layout JSON file")
    demo.add_argument("--path", default=None, help="persist to this folder (default: memory)")
    demo.add_argument("--questions", type=int, default=7)
    demo.set_defaults(run=_demo)
    search = commands.add_parser("search", help="search a persistent store")
    search.add_argument("query")
    search.add_argument("--path", required=True)
    search.add_argument("--k", type=int, default=5)
    search.add_argument("--user-id", default=None)
    search.set_defaults(run=_search)
    stats = commands.add_parser("stats", help="count the notes and links of a store")
    stats.add_argument("--path", required=True)
    stats.set_defaults(run=_stats)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
