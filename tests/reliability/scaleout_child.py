"""Child process of the server scale-out stress test: one writer on a shared scope.

Usage: ``python scaleout_child.py PORT PREFIX WRITER N JOURNAL``

Opens an ``AgenticMemory`` on the Chroma server at 127.0.0.1:PORT (collections
PREFIX, hashing embedder) and makes N adds to the shared scope ``user_id="shared"``
(similar texts, so they link to other writers' notes and evolve them), updating
one of its earlier notes every 7th add and deleting one every 11th, plus a note
in a scope of its own every 20th. Each call is journaled as one JSON line, flushed
*after* it returns, so the journal never claims more than the store promised.
"""

from __future__ import annotations

import json
import random
import sys

import chromadb
from chromadb.config import Settings

from memory import AgenticMemory
from memory.embed import HashingEmbedder

TOPICS = [
    "pottery class clay bowls glaze kiln",
    "hiking mountains trail dog weekend",
    "painting sunrise lake canvas colours",
    "support group meeting tuesday friends",
]


def main() -> None:
    port, prefix, writer, n, journal_path = sys.argv[1:6]
    rng = random.Random(int(writer))
    client = chromadb.HttpClient(
        host="127.0.0.1", port=int(port), settings=Settings(anonymized_telemetry=False)
    )
    mem = AgenticMemory(
        client=client, embedder=HashingEmbedder(), collection_prefix=prefix, link_threshold=0.3
    )
    mine: list[str] = []
    with open(journal_path, "a", encoding="utf-8") as journal:

        def log(**entry: object) -> None:
            journal.write(json.dumps(entry) + "\n")
            journal.flush()

        print("ready", flush=True)
        for i in range(int(n)):
            topic = TOPICS[rng.randrange(len(TOPICS))]
            note = mem.add(f"{topic} writer {writer} turn {i}", user_id="shared")
            mine.append(note.id)
            log(op="add", id=note.id, scope="shared")
            if i % 7 == 6 and len(mine) > 2:
                target = mine[rng.randrange(len(mine) - 1)]
                mem.update(target, content=f"{topic} revised by writer {writer} at {i}")
                log(op="update", id=target)
            if i % 11 == 10 and len(mine) > 3:
                target = mine.pop(rng.randrange(len(mine) - 1))
                mem.delete(target)
                log(op="delete", id=target)
            if i % 20 == 19:
                own = mem.add(f"{topic} private to writer {writer}", user_id=f"own-{writer}")
                log(op="add", id=own.id, scope=f"own-{writer}")
    mem.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
