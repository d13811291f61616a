"""Chroma calls per ``add`` and per ``search`` of a memory, by kind, and the server's CPU.

A deterministic companion to ``server_scaleout.py``: each call counted here is one
HTTP round trip on a Chroma server, whose cost depends on how busy the machine
is, so the count is what a change to the read or write path can be judged by
when the machine is loaded. By default the client is Chroma's in-process one,
handed over as a shared client (so the memory behaves as on a server: it follows
the change feed). ``--server`` starts ``chroma run`` on loopback instead and also
reports the server process's CPU milliseconds per ``add`` and per call of each
kind (CPU time, read from ``/proc``: little moved by other jobs on the machine).

Usage:
    python benchmarks/server_calls.py [--notes 1000] [--queries 100] [--adds 50] [--server]
                                      [--writers 1]
"""

from __future__ import annotations

import argparse
import collections
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings
from server_scaleout import Server, server_memory, texts

from memory import AgenticMemory
from memory.embed import HashingEmbedder

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_of(pid: int) -> Callable[[], float]:
    """A reader of ``pid``'s CPU seconds so far (user + system; 0.0 without ``/proc``)."""
    stat = Path(f"/proc/{pid}/stat")

    def read() -> float:
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICK

    return read


class Counting:
    """A collection whose every method call is counted (and timed on the server) by kind."""

    def __init__(
        self,
        inner: Any,
        label: str,
        calls: collections.Counter[str],
        cpu: collections.Counter[str],
        server_cpu: Callable[[], float],
    ) -> None:
        self._inner = inner
        self._label = label
        self._calls = calls
        self._cpu = cpu
        self._server_cpu = server_cpu

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if not callable(attribute):
            return attribute
        kind = f"{self._label}.{name}"

        def counted(*args: Any, **kwargs: Any) -> Any:
            before = self._server_cpu()
            try:
                return attribute(*args, **kwargs)
            finally:
                self._calls[kind] += 1
                self._cpu[kind] += self._server_cpu() - before

        return counted


def measure(
    mems: list[AgenticMemory], args: argparse.Namespace, server_cpu: Callable[[], float]
) -> None:
    """Bulk-load ``--notes``, then count ``--adds`` single adds made by the memories in turn."""
    mem = mems[0]
    items = texts(args.notes + args.adds, " (calls)")
    mem.add_many([{"content": t, "user_id": "shared"} for t in items[: args.notes]])
    calls: collections.Counter[str] = collections.Counter()
    cpu: collections.Counter[str] = collections.Counter()
    for each in mems:
        records = each._store._records  # type: ignore[attr-defined]
        for name in ("notes", "links", "events", "tombstones"):
            setattr(records, name, Counting(getattr(records, name), name, calls, cpu, server_cpu))
    before = server_cpu()
    for number, text in enumerate(items[args.notes :]):
        mems[number % len(mems)].add(text, user_id="shared")
    add_cpu = (server_cpu() - before) / args.adds * 1000
    per_add = sum(calls.values()) / args.adds
    kinds = dict(sorted(calls.items()))
    cpu_by_kind = {kind: cpu[kind] / args.adds * 1000 for kind in kinds}
    queries = [t.split(":", 1)[-1] for t in items[: args.queries]]
    for query in queries[:5]:
        mem.search(query, k=10, user_id="shared")
    calls.clear()
    started = time.perf_counter()
    for query in queries:
        mem.search(query, k=10, user_id="shared")
    took = (time.perf_counter() - started) / len(queries) * 1000
    per_search = sum(calls.values()) / len(queries)
    where = "local chroma run server" if args.server else "in-process client"
    print(f"{args.notes} notes, then {args.adds} adds by {len(mems)} writer(s) in turn ({where}):")
    print(f"  Chroma calls per add {per_add:.2f}, per search {per_search:.2f} ({dict(calls)})")
    for kind, count in kinds.items():
        line = f"    {kind:18s} {count / args.adds:5.2f} per add"
        if args.server:
            line += f", server CPU {cpu_by_kind[kind]:5.1f} ms per add"
            line += f" ({cpu[kind] / count * 1000:5.1f} ms per call)"
        print(line)
    if args.server:
        print(f"  server CPU per add: {add_cpu:.1f} ms")
    print(f"  search {took:.1f} ms mean")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--adds", type=int, default=50, help="single adds counted")
    parser.add_argument("--server", action="store_true", help="through a local chroma run")
    parser.add_argument(
        "--writers", type=int, default=1, help="memories on the same store, adding in turn"
    )
    args = parser.parse_args()
    prefix = f"calls-{uuid.uuid4().hex[:8]}"
    if not args.server:
        client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
        mems = [
            AgenticMemory(client=client, embedder=HashingEmbedder(), collection_prefix=prefix)
            for _ in range(args.writers)
        ]
        measure(mems, args, lambda: 0.0)
        for mem in mems:
            mem.close()
        for suffix in ("notes", "tombstones", "links", "events"):
            client.delete_collection(f"{prefix}_{suffix}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            mems = [server_memory(server.port, prefix) for _ in range(args.writers)]
            measure(mems, args, cpu_of(server.process.pid))
            for mem in mems:
                mem.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
