"""Total writes/s of a local ``chroma run`` server with 1, 2 and 4 concurrent clients.

Chroma alone, no Zettelmem: each client process upserts small batches (3 records)
into a collection of its own, the shape of one ``add``'s write calls. If the
server handled concurrent writes in parallel, the total would grow with the
clients until the machine's cores are busy; this measures whether it does, which
caps what several Zettelmem writer processes can add through one server
(``server_scaleout.py``). The server's CPU seconds per upsert and the cores it
used come from ``/proc``.

Usage:
    python benchmarks/server_write_contention.py [--upserts 120]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import chromadb
from chromadb.config import Settings
from harness import format_table
from server_calls import cpu_of
from server_scaleout import Server

from memory.store.chroma_collections import SYNC_THRESHOLD


def client(port: int, name: str, n: int, go: Any, done: Any) -> None:
    """Child: wait for ``go``, upsert ``n`` batches of 3 records, report the seconds."""
    chroma = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
    )
    collection = chroma.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}}
    )
    go.wait()
    started = time.perf_counter()
    for i in range(n):
        collection.upsert(
            ids=[f"{name}-{i}-{j}" for j in range(3)],
            embeddings=[[1.0, float(i)]] * 3,
            metadatas=[{"k": i}] * 3,
        )
    done.put(time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--upserts", type=int, default=120, help="upserts per run, all clients")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        server_cpu = cpu_of(server.process.pid)
        try:
            for clients in (1, 2, 4):
                go, done = mp.Event(), mp.Queue()
                n = args.upserts // clients
                procs = [
                    mp.Process(target=client, args=(server.port, f"c{clients}-{k}", n, go, done))
                    for k in range(clients)
                ]
                for proc in procs:
                    proc.start()
                time.sleep(3)  # every client connected and its collection made
                before, started = server_cpu(), time.perf_counter()
                go.set()
                for proc in procs:
                    proc.join()
                wall = time.perf_counter() - started
                used = server_cpu() - before
                rows.append(
                    (
                        str(clients),
                        f"{n * clients / wall:.1f}",
                        f"{used / (n * clients) * 1000:.1f}",
                        f"{used / wall:.2f}",
                    )
                )
        finally:
            server.stop()
    print(
        format_table(
            ["clients", "upserts/s (total)", "server CPU ms / upsert", "server cores"], rows
        )
    )
    print(f"4 clients / 1 client: {float(rows[2][1]) / float(rows[0][1]):.2f}x")


if __name__ == "__main__":
    main()
