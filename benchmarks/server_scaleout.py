"""Scale-out through a local Chroma server: ingest with 1, 2, 4 writers, search, staleness.

Starts ``chroma run`` on loopback and, in the same run, measures:

* ingest: notes/s of ``add`` (one note per call, as web workers make them) with 1,
  2 and 4 writer processes on the SAME scope of the server, against one process on
  an embedded (persistent) store;
* search: p50/p95 of ``search(k=10)`` at ``--search-size`` notes, server vs embedded;
* staleness: process A adds a note and reports the moment ``add`` returned;
  process B searches until it finds it; p50/p95 of that delay;
* where the ingest's CPU goes (Linux ``/proc``): the Chroma server's and the
  writers' CPU seconds over each run, as a share of the machine's cores, and how
  busy the whole machine was (other jobs included) -- the evidence for what caps
  several writers on a small machine.

Hashing embedder throughout (the model's encode would be the shared limit on a
small machine and hide the store's behaviour). Texts: LoCoMo turns.

Usage:
    python benchmarks/server_scaleout.py [--notes 400] [--search-size 10000] [--trials 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from harness import format_table, load_locomo

from memory import AgenticMemory
from memory.embed import HashingEmbedder

START_WAIT = 120.0


def texts(n: int, salt: str = "") -> list[str]:
    """``n`` LoCoMo turn texts, made distinct past the corpus size."""
    turns, _ = load_locomo()
    base = [turn.text for turn in turns]
    return [f"{base[i % len(base)]}{salt}" + (f" #{i}" if i >= len(base) else "") for i in range(n)]


class Server:
    """``chroma run`` on a free loopback port and a temporary folder."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.log = (folder / "chroma.log").open("ab")
        self.process = subprocess.Popen(
            ["chroma", "run", "--path", str(folder / "data"), "--host", "127.0.0.1"]
            + ["--port", str(self.port)],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("chroma run did not answer")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def server_memory(port: int, prefix: str) -> AgenticMemory:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=Settings(anonymized_telemetry=False)
    )
    return AgenticMemory(client=client, embedder=HashingEmbedder(), collection_prefix=prefix)


def writer_main(port: int, prefix: str, who: int, n: int) -> None:
    """Child: wait for "go" on stdin, add ``n`` notes, print the seconds and CPU seconds."""
    mem = server_memory(port, prefix)
    items = texts(n, f" (writer {who})")
    print("ready", flush=True)
    sys.stdin.readline()
    started, cpu = time.perf_counter(), time.process_time()
    for text in items:
        mem.add(text, user_id="shared")
    print(f"{time.perf_counter() - started:.4f} {time.process_time() - cpu:.4f}", flush=True)
    mem.close()


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its children (0.0 without ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0.0
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[0] is the state: ppid is fields[1], utime/stime fields[11]/[12]
        if int(entry.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def machine_busy() -> tuple[float, float]:
    """``(busy, total)`` jiffies of all cores since boot (``(0, 0)`` without ``/proc``)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return float(sum(values) - idle), float(sum(values))


def adder_main(port: int, prefix: str) -> None:
    """Child: for each line read, add it as a note and print when ``add`` returned."""
    mem = server_memory(port, prefix)
    print("ready", flush=True)
    for line in sys.stdin:
        mem.add(line.strip(), user_id="shared")
        print(f"{time.time():.6f}", flush=True)
    mem.close()


def child(*args: object) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def ingest_server(port: int, server_pid: int, writers: int, total: int) -> tuple[float, dict]:
    """Notes/s of ``writers`` processes adding ``total`` notes to one scope together,
    and where the CPU went meanwhile (shares of one core; the machine's busy share)."""
    prefix = f"w{writers}-{uuid.uuid4().hex[:6]}"
    procs = [child("writer", port, prefix, who, total // writers) for who in range(writers)]
    server_before, (busy_before, all_before) = process_cpu(server_pid), machine_busy()
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    writer_cpu = 0.0
    for proc in procs:
        assert proc.stdout is not None
        writer_cpu += float(proc.stdout.readline().split()[1])
        proc.wait()
    wall = time.perf_counter() - started
    busy, every = machine_busy()
    cpu = {
        "server": (process_cpu(server_pid) - server_before) / wall,
        "writers": writer_cpu / wall,
        "machine": (busy - busy_before) / max(every - all_before, 1.0),
    }
    return (total // writers) * writers / wall, cpu


def ingest_embedded(folder: Path, total: int) -> float:
    mem = AgenticMemory(path=folder / "embedded-ingest", embedder=HashingEmbedder())
    items = texts(total, " (embedded)")
    started = time.perf_counter()
    for text in items:
        mem.add(text, user_id="shared")
    rate = total / (time.perf_counter() - started)
    mem.close()
    return rate


def search_latency(mem: AgenticMemory, size: int, queries: list[str]) -> tuple[float, float]:
    """p50/p95 ms of ``search(k=10)`` after bulk-loading ``size`` notes."""
    mem.add_many([{"content": t, "user_id": "shared"} for t in texts(size)])
    for query in queries[:5]:
        mem.search(query, k=10, user_id="shared")
    took = []
    for query in queries:
        started = time.perf_counter()
        mem.search(query, k=10, user_id="shared")
        took.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(took, 50)), float(np.percentile(took, 95))


def staleness(port: int, trials: int) -> list[float]:
    """Seconds from A's acknowledged ``add`` to B's ``search`` finding the note."""
    prefix = f"st-{uuid.uuid4().hex[:6]}"
    reader = server_memory(port, prefix)
    adder = child("adder", port, prefix)
    assert adder.stdin is not None and adder.stdout is not None
    delays = []
    for trial in range(trials):
        token = f"zq{uuid.uuid4().hex[:8]}"
        adder.stdin.write(f"marker {token} number {trial}\n")
        adder.stdin.flush()
        acked = float(adder.stdout.readline())
        while not any(token in h.note.content for h in reader.search(token, k=5, user_id="shared")):
            time.sleep(0.01)
        delays.append(max(0.0, time.time() - acked))
    adder.stdin.close()
    adder.wait()
    reader.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=400, help="notes per ingest run (0: skip)")
    parser.add_argument("--search-size", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--trials", type=int, default=30, help="staleness trials (0: skip)")
    args = parser.parse_args()
    if shutil.which("chroma") is None:
        raise SystemExit("the chroma CLI is not installed (pip install chromadb)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = Server(folder)
        try:
            if args.notes:
                embedded_rate = ingest_embedded(folder, args.notes)
                rows = [("embedded, 1 process", f"{embedded_rate:.1f}", "", "", "")]
                rates = {}
                for writers in (1, 2, 4):
                    rates[writers], cpu = ingest_server(
                        server.port, server.process.pid, writers, args.notes
                    )
                    rows.append(
                        (
                            f"server, {writers} writer(s)",
                            f"{rates[writers]:.1f}",
                            f"{cpu['server']:.2f}",
                            f"{cpu['writers']:.2f}",
                            f"{cpu['machine'] * 100:.0f}%",
                        )
                    )
                cores = os.cpu_count() or 1
                print(
                    format_table(
                        [
                            "ingest (add, same scope)",
                            "notes/s",
                            "server CPU (cores)",
                            "writers CPU (cores)",
                            f"machine busy ({cores} cores)",
                        ],
                        rows,
                    )
                )
                print(f"4 writers / 1 writer: {rates[4] / rates[1]:.2f}x (target >= 1.5x)\n")
            queries = [t.split(":", 1)[-1] for t in texts(args.queries, "")][::-1]
            embedded = AgenticMemory(path=folder / "embedded-search", embedder=HashingEmbedder())
            remote = server_memory(server.port, f"search-{uuid.uuid4().hex[:6]}")
            lat = {
                "embedded": search_latency(embedded, args.search_size, queries),
                "server": search_latency(remote, args.search_size, queries),
            }
            embedded.close()
            remote.close()
            print(
                format_table(
                    [f"search k=10 at {args.search_size:,} notes", "p50 ms", "p95 ms"],
                    [(name, f"{p50:.1f}", f"{p95:.1f}") for name, (p50, p95) in lat.items()],
                )
            )
            ratio = lat["server"][1] / lat["embedded"][1]
            print(f"server p95 / embedded p95: {ratio:.2f}x (target <= 2x)\n")
            if args.trials:
                delays = staleness(server.port, args.trials)
                print(
                    f"staleness (A's add returned -> B's search finds it), {len(delays)} trials: "
                    f"p50 {np.percentile(delays, 50) * 1000:.0f} ms, "
                    f"p95 {np.percentile(delays, 95) * 1000:.0f} ms (target p95 <= 1000 ms)"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "writer":
        writer_main(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "adder":
        adder_main(int(sys.argv[2]), sys.argv[3])
    else:
        main()
