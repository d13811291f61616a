"""The standalone API on a conversation: notes that link, then questions answered by search.

Every turn of a conversation between two friends over several dated sessions
(``examples/data/conversation.json``, written for this example) becomes a note,
stamped with its session's date and keeping its ``dia_id``; Zettelmem adds
keywords, tags, a context line and links as it goes. Then the file's questions
are asked, showing the top notes and whether they are the annotated evidence.

    python examples/standalone.py
    python examples/standalone.py --data path/to/locomo/26.json --sessions 10

Any conversation in the LoCoMo layout works (``--data``), e.g. a conversation of
the LoCoMo dataset. The default embedder is the bundled all-MiniLM-L6-v2;
``ZETTELMEM_EMBEDDER=hashing`` uses the fast test embedder instead.

To let an LLM build, link and evolve the notes, pass any LangChain chat model or
LlamaIndex LLM as ``llm=`` (e.g. ``AgenticMemory(llm=ChatOpenAI(model="gpt-4o-mini"))``
or ``llm=Ollama(model="llama3.1")``); add ``path="./mem"`` to keep the notes on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # a fresh clone runs without installing

from memory import AgenticMemory  # noqa: E402
from memory.conversations import conversation_items  # noqa: E402

USER = "friend-chat"
SAMPLE = HERE / "data" / "conversation.json"
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def make_memory() -> AgenticMemory:
    choice = os.environ.get("ZETTELMEM_EMBEDDER")
    if choice == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=choice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SAMPLE, help="conversation file (JSON)")
    parser.add_argument("--sessions", type=int, default=None, help="only the first N sessions")
    parser.add_argument("--questions", type=int, default=4, help="questions shown in full")
    args = parser.parse_args()

    path = args.data
    record = json.loads(path.read_text(encoding="utf-8"))
    items = conversation_items(
        record, sessions=args.sessions, metadata_keys=("dia_id", "session"), user_id=USER
    )

    start = time.perf_counter()
    with make_memory() as memory:  # closed (and its path released) at the end
        notes = memory.add_many(items)
        print(f"{len(notes)} turns from {path.name} stored in {time.perf_counter() - start:.1f}s")
        sample = notes[len(notes) // 2]
        print(f"\none note, as Zettelmem built it:\n  {sample.content}")
        print(f"  keywords {sample.keywords}, tags {sample.tags}")
        print(f"  context  {sample.context}")
        for linked in memory.neighbors(sample.id, user_id=USER)[:3]:
            print(f"  linked   {linked.content[:90]}")

        known = {item["metadata"]["dia_id"] for item in items}
        questions = [
            q
            for q in record["qa"]
            if q.get("category") in CATEGORIES and q.get("evidence") and set(q["evidence"]) <= known
        ]
        shown = []
        for category in CATEGORIES:  # one question per category first, then the rest in order
            shown.extend([q for q in questions if q["category"] == category][:1])
        for question in shown[: args.questions]:
            hits = memory.search(question["question"], k=5, user_id=USER)
            print(f"\nQ ({CATEGORIES[question['category']]}): {question['question']}")
            print(f"  answer: {question.get('answer')}   evidence: {question['evidence']}")
            for hit in hits:
                dia_id = hit.note.metadata["dia_id"]
                mark = "*" if dia_id in question["evidence"] else " "
                print(
                    f"  {mark} {dia_id:>7} {hit.note.timestamp:%d %b %Y}  {hit.note.content[:80]}"
                )

        start = time.perf_counter()
        found = 0.0
        for question in questions:
            hits = memory.search(question["question"], k=5, user_id=USER)
            top = {hit.note.metadata["dia_id"] for hit in hits}
            found += len(top & set(question["evidence"])) / len(question["evidence"])
        if questions:
            recall = found / len(questions)
            seconds = time.perf_counter() - start
            asked = len(questions)
            print(f"\nevidence recall@5 over {asked} questions: {recall:.3f} ({seconds:.1f}s)")


if __name__ == "__main__":
    main()
