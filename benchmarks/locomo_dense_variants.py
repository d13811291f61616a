"""LoCoMo evidence recall with the note's structure in the DENSE index (issue 13).

A-MEM embeds a note's content together with its keywords and context. Zettelmem
embeds the content alone, before the mind has built the note. This script asks
what embedding the structure would give: every conversation is ingested once with
the defaults, then the same notes are written to in-memory stores whose vectors
embed other texts, and the product's own ``HybridSearch`` (same lexical index,
same settings) ranks every question against each store.

Rows:
    content                   the vectors the product stores (a check: equals the
                              defaults of ``locomo_retrieval.py``)
    content + context         the context line (speaker, date, resolved dates, theme)
    content + keywords
    mean(content, content + context)   one vector, both texts

Usage:
    python benchmarks/locomo_dense_variants.py [--conversations 26,30]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

import numpy as np
from harness import LOCOMO_CONVERSATIONS, format_table, load_locomo
from locomo_retrieval import MethodRun, engine_items, group_turns, recall_by_category

from memory import AgenticMemory
from memory.model import Event, Note, Scope
from memory.retrieve.search import HybridSearch
from memory.store import History, InMemoryNoteStore

VARIANTS: list[tuple[str, Callable[[Note], str]]] = [
    ("content + context", lambda note: f"{note.content}\n{note.context}"),
    ("content + keywords", lambda note: f"{note.content}\nkeywords: {', '.join(note.keywords)}"),
]


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms), dtype=np.float32)


def main(argv: Sequence[str] | None = None) -> None:
    """Ingest once, rank every question against each vector variant, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", default=",".join(LOCOMO_CONVERSATIONS))
    args = parser.parse_args(argv)
    conversations = [part.strip() for part in args.conversations.split(",") if part.strip()]
    turns, questions = load_locomo(conversations)
    memory = AgenticMemory()
    for conversation_turns in group_turns(turns).values():
        memory.add_many(engine_items(conversation_turns))
    notes = [stored.note for stored in memory._store.scan()]  # noqa: SLF001
    embed = memory.embedder.embed
    content = unit_rows(embed([note.content for note in notes]))
    variants = {"content": content}
    for label, text in VARIANTS:
        variants[label] = unit_rows(embed([text(note) for note in notes]))
    variants["mean(content, content + context)"] = unit_rows(
        content + variants["content + context"]
    )
    queries = embed([question.text for question in questions])
    index, settings = memory._search._index, memory._search.settings  # noqa: SLF001
    runs: list[MethodRun] = []
    for label, vectors in variants.items():
        store = InMemoryNoteStore()
        store.write(
            [
                (note, vector, History.of([Event(note_id=note.id, action="create")]))
                for note, vector in zip(notes, vectors, strict=True)
            ]
        )
        search = HybridSearch(store, index, settings)
        retrieved = [
            [
                hit.note.metadata.get("dia_id", "")
                for hit in search.rank(
                    question.text, query[None, :], 10, Scope(user_id=question.conversation)
                )
            ]
            for question, query in zip(questions, queries, strict=True)
        ]
        runs.append(MethodRun(label, retrieved, None))
        print(f"  {label}: done", flush=True)
    memory.close()
    headers = ["dense index embeds", "R@5 all", "R@10 all", "R@10 temporal", "R@10 multi-hop"]
    rows = []
    for run in runs:
        at5, at10 = (recall_by_category(run, questions, k) for k in (5, 10))
        rows.append([run.name, at5["all"], at10["all"], at10["temporal"], at10["multi-hop"]])
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
