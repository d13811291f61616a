"""Start-up: what a newcomer waits for, default embedder against sentence-transformers.

Every figure comes from a cold ``python`` subprocess (a fresh interpreter per
measurement), run side by side for the two embedders in the same run:

    default                 AgenticMemory(): bundled all-MiniLM-L6-v2 on ONNX Runtime
    sentence-transformers   AgenticMemory(embedder=SentenceTransformerEmbedder()):
                            the same model on torch (how every start worked before)

Steps, each timed inside the child: ``import memory``; the first
``AgenticMemory()`` (in memory, and on a new path); its first ``add``; its first
``search``; and "cold start -> first search", the wall time from launching the
interpreter to the first search's results, with the CPU seconds the process used
(on a loaded machine closer to what an idle one takes than wall time). The two
embedders' runs are interleaved so both see the same load. ``stats`` is ``python -m memory.cli
stats --path P`` on a store of a few notes for the default column; the
sentence-transformers column opens the same store with that embedder and counts
(what ``zettelmem stats`` did when every start loaded the model). Peak RSS is the
child's maximum resident set (``wait4``). The default embedder's one-time graph
build (first use per user) is shown on its own row.

``--ingest N`` also measures batch throughput in one process on N LoCoMo turns
(needs ``$ZETTELMEM_DATA``): raw encode rate of each embedder, and ``add_many``
notes/s with each, with the add_many / raw-encode ratio (target >= 0.5x).

Usage:
    python benchmarks/startup.py [--repeat 3] [--ingest 1000]

For ``benchmarks/locomo_retrieval.py`` with the default embedder, use
``--engine startup:DefaultEmbedderMemory`` (that script hands every engine its
sentence-transformers model; this class ignores it).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EMBEDDERS = ("default", "sentence-transformers")
SAMPLE = [
    "Melanie: I signed up for a pottery class!",
    "Caroline: The support group meeting yesterday was so powerful.",
    "Melanie: We took the kids camping at the lake last weekend.",
]
QUERY = "What hobby did Melanie take up?"


def __getattr__(name: str) -> Any:
    """``DefaultEmbedderMemory``, built on first access so a child's ``import memory``
    is still timed cold."""
    if name != "DefaultEmbedderMemory":
        raise AttributeError(name)
    from memory import AgenticMemory

    class DefaultEmbedderMemory(AgenticMemory):
        """``AgenticMemory`` that keeps its default embedder whatever ``embedder=`` says."""

        def __init__(self, *args: Any, embedder: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    globals()[name] = DefaultEmbedderMemory
    return DefaultEmbedderMemory


# ---- children: each runs in a fresh interpreter and prints one JSON line ---------------------


def _make_embedder(kind: str) -> Any:
    if kind == "default":
        return None
    from memory.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def child_steps(kind: str, path: str | None) -> dict[str, float]:
    clock = time.perf_counter
    started = clock()
    import memory

    imported = clock()
    mem = memory.AgenticMemory(path, embedder=_make_embedder(kind))
    constructed = clock()
    mem.add(SAMPLE[0], user_id="u")
    added = clock()
    hits = mem.search(QUERY, user_id="u")
    searched = clock()
    assert hits, "the first search found nothing"
    wall = time.time()
    mem.close()
    return {
        "import": imported - started,
        "construct": constructed - imported,
        "add": added - constructed,
        "search": searched - added,
        "search_done_at": wall,
    }


def child_count(kind: str, path: str) -> dict[str, float]:
    from memory import AgenticMemory

    with AgenticMemory(path, embedder=_make_embedder(kind)) as mem:
        return {"count": float(mem.count())}


def child_fill(path: str) -> dict[str, float]:
    from memory import AgenticMemory

    with AgenticMemory(path) as mem:
        mem.add_many(SAMPLE, show_progress=False)
        return {"count": float(mem.count())}


def child_ingest(n: int) -> dict[str, float]:
    sys.path.insert(0, str(HERE))
    from harness import load_locomo

    from memory import AgenticMemory
    from memory.embed import OnnxBertEmbedder, SentenceTransformerEmbedder

    turns, _ = load_locomo()
    texts = [turns[i % len(turns)].text + ("" if i < len(turns) else f" (#{i})") for i in range(n)]
    figures: dict[str, float] = {}
    for name, embedder in (
        ("default", OnnxBertEmbedder()),
        ("sentence-transformers", SentenceTransformerEmbedder()),
    ):
        embedder.embed(texts[:32])  # load and warm up
        started = time.perf_counter()
        embedder.embed(texts)
        figures[f"{name} encode"] = n / (time.perf_counter() - started)
        with AgenticMemory(embedder=embedder) as mem:
            mem.add_many(texts[:32], show_progress=False)
            started = time.perf_counter()
            mem.add_many(texts, show_progress=False)
            figures[f"{name} add_many"] = n / (time.perf_counter() - started)
    return figures


# ---- the parent: launch, time, collect -------------------------------------------------------


def _run(command: Sequence[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Launch time, wall seconds, peak RSS (MiB) and stdout of one cold subprocess.

    The process's CPU seconds (user + system) are appended to its stdout's JSON
    by the callers that want them: see :func:`_cpu_seconds`."""
    launched = time.time()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.time() - launched
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{stderr[-2000:]}")
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    _LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    return launched, wall, peak, stdout


_LAST_CPU = [0.0]


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of the last subprocess: on a loaded machine, closer
    to what an idle one would take than wall time."""
    return _LAST_CPU[0]


def _child(env: dict[str, str], *args: str) -> tuple[float, float, float, dict[str, float]]:
    launched, wall, peak, stdout = _run([sys.executable, __file__, "--child", *args], env)
    return launched, wall, peak, json.loads(stdout.strip().splitlines()[-1])


def _environment(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["ZETTELMEM_CACHE_DIR"] = str(cache)
    return env


def measure_steps(env: dict[str, str], kind: str, where: str | None) -> dict[str, float]:
    launched, wall, peak, figures = _child(env, "steps", kind, where or "-")
    figures["cold start -> first search"] = figures.pop("search_done_at") - launched
    figures["process wall"] = wall
    figures["process CPU"] = _cpu_seconds()
    figures["peak RSS MiB"] = peak
    return figures


def measure_import(env: dict[str, str]) -> float:
    code = "import time; t = time.perf_counter(); import memory; print(time.perf_counter() - t)"
    return float(_run([sys.executable, "-c", code], env)[3])


def measure_stats(env: dict[str, str], kind: str, store: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS of one ``stats`` process."""
    if kind == "default":
        command = [sys.executable, "-m", "memory.cli", "stats", "--path", store]
        _, wall, peak, _ = _run(command, env)
    else:
        _, wall, peak, _ = _child(env, "count", kind, store)
    return wall, _cpu_seconds(), peak


def measure_all(env: dict[str, str], kind: str, store: str, path: str) -> dict[str, float]:
    """One cold run of every step for one embedder."""
    in_memory = measure_steps(env, kind, None)
    on_path = measure_steps(env, kind, path)
    stats_wall, stats_cpu, stats_peak = measure_stats(env, kind, store)
    return {
        "import memory (s)": measure_import(env),
        "first AgenticMemory(), in memory (s)": in_memory["construct"],
        "first AgenticMemory(path) (s)": on_path["construct"],
        "first add (s)": in_memory["add"],
        "first search (s)": in_memory["search"],
        "cold start -> first search (s)": in_memory["cold start -> first search"],
        "  same, CPU seconds of the process": in_memory["process CPU"],
        "cold start -> first search, path (s)": on_path["cold start -> first search"],
        "stats process (s)": stats_wall,
        "  same, CPU seconds": stats_cpu,
        "peak RSS, in memory (MiB)": in_memory["peak RSS MiB"],
        "peak RSS, path (MiB)": on_path["peak RSS MiB"],
        "peak RSS, stats (MiB)": stats_peak,
    }


def median_of(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(sample[key] for sample in samples) for key in samples[0]}


def report(rows: list[tuple[str, float, float]], unit: str) -> None:
    width = max(len(label) for label, _, _ in rows)
    print(f"{'':{width}}  {'default':>9}  {'sent.-tr.':>9}  ratio")
    for label, default, other in rows:
        ratio = f"{other / default:5.1f}x" if default else "  -"
        print(f"{label:{width}}  {default:9.2f}  {other:9.2f}  {ratio}  {unit}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="cold runs per figure (median)")
    parser.add_argument("--ingest", type=int, default=0, help="also measure ingest on N turns")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        if mode == "steps":
            result = child_steps(rest[0], None if rest[1] == "-" else rest[1])
        elif mode == "count":
            result = child_count(rest[0], rest[1])
        elif mode == "fill":
            result = child_fill(rest[0])
        else:
            result = child_ingest(int(rest[0]))
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory(prefix="zettelmem-startup-") as scratch:
        root = Path(scratch)
        env = _environment(root / "graph-cache")
        load = os.getloadavg()[0]
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {load:.1f}")
        first_use = measure_steps(env, "default", None)  # builds the per-user graph cache
        print(
            f"first use ever (builds the ONNX graph once per user): first add "
            f"{first_use['add']:.2f}s, cold start -> first search "
            f"{first_use['cold start -> first search']:.2f}s, "
            f"peak {first_use['peak RSS MiB']:.0f} MiB"
        )
        store = str(root / "stats-store")
        _child(env, "fill", store)
        runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in EMBEDDERS}
        for number in range(args.repeat):
            for kind in EMBEDDERS:  # interleaved, so both see the same machine load
                runs[kind].append(measure_all(env, kind, store, str(root / f"{kind}-{number}")))
                load = os.getloadavg()[0]
                print(f"  {kind}: run {number + 1} done, load {load:.1f}", flush=True)
        results = {kind: median_of(samples) for kind, samples in runs.items()}
        print()
        default, other = results["default"], results["sentence-transformers"]
        report([(label, default[label], other[label]) for label in default], "")
        print(
            "\ntargets (default): cold start -> first search <= 2 s, stats <= 1 s, "
            "peak RSS <= 300 MiB"
        )
        if args.ingest:
            _, _, peak, figures = _child(env, "ingest", str(args.ingest))
            print(f"\ningest of {args.ingest} LoCoMo turns, one process (peak {peak:.0f} MiB):")
            for kind in EMBEDDERS:
                encode, ingest = figures[f"{kind} encode"], figures[f"{kind} add_many"]
                print(
                    f"  {kind:22} encode {encode:6.0f} texts/s   add_many {ingest:6.0f} notes/s"
                    f"   add_many/encode {ingest / encode:.2f}x"
                )
            speedup = figures["default encode"] / figures["sentence-transformers encode"]
            print(f"  default encode / sentence-transformers encode: {speedup:.2f}x")


if __name__ == "__main__":
    main()
