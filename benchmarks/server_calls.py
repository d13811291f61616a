"""Chroma calls per ``add`` and per ``search`` of a memory on a shared client.

A deterministic companion to ``server_scaleout.py``: each call counted here is one
HTTP round trip on a Chroma server, whose cost depends on how busy the machine
is, so the count is what a change to the read path can be judged by when the
machine is loaded. The client is Chroma's in-process one, handed over as a
shared client (so the memory behaves as on a server: it follows the change feed).

Usage:
    python benchmarks/server_calls.py [--notes 1000] [--queries 100]
"""

from __future__ import annotations

import argparse
import collections
import time
import uuid
from typing import Any

import chromadb
from chromadb.config import Settings
from server_scaleout import texts

from memory import AgenticMemory
from memory.embed import HashingEmbedder


class Counting:
    """A collection whose every method call is counted by name."""

    def __init__(self, inner: Any, calls: collections.Counter[str]) -> None:
        self._inner = inner
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls[name] += 1
            return attribute(*args, **kwargs)

        return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    prefix = f"calls-{uuid.uuid4().hex[:8]}"
    mem = AgenticMemory(client=client, embedder=HashingEmbedder(), collection_prefix=prefix)
    items = texts(args.notes + 50, " (calls)")
    mem.add_many([{"content": t, "user_id": "shared"} for t in items[: args.notes]])
    calls: collections.Counter[str] = collections.Counter()
    records = mem._store._records  # type: ignore[attr-defined]
    for name in ("notes", "links", "events", "tombstones"):
        setattr(records, name, Counting(getattr(records, name), calls))
    for text in items[args.notes :]:
        mem.add(text, user_id="shared")
    per_add = sum(calls.values()) / 50
    queries = [t.split(":", 1)[-1] for t in items[: args.queries]]
    for query in queries[:5]:
        mem.search(query, k=10, user_id="shared")
    calls.clear()
    started = time.perf_counter()
    for query in queries:
        mem.search(query, k=10, user_id="shared")
    took = (time.perf_counter() - started) / len(queries) * 1000
    per_search = sum(calls.values()) / len(queries)
    print(
        f"{args.notes} notes: Chroma calls per add {per_add:.1f}, per search {per_search:.2f} "
        f"({dict(calls)}); search {took:.1f} ms mean, in-process client"
    )
    mem.close()
    for suffix in ("notes", "tombstones", "links", "events"):
        client.delete_collection(f"{prefix}_{suffix}")


if __name__ == "__main__":
    main()
