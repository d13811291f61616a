"""Ingest throughput: ``AgenticMemory.add_many`` against raw ``SentenceTransformer.encode``.

Both run in the same process on the same texts (LoCoMo turns) with the same
all-MiniLM-L6-v2 model, warmed up first; the ratio shows how much the note-building
work (keywords, tags, context, links, evolution, store writes) costs on top of
embedding. Target: add_many at >= 0.5x the raw encoding throughput.

Usage:
    python benchmarks/ingest_throughput.py [--n 2000] [--batch-size 64] [--rounds 1]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

from harness import format_table, load_engine, load_locomo, load_minilm

TARGET_RATIO = 0.5
WARMUP_TEXTS = 32


def benchmark_texts(n: int) -> list[str]:
    """``n`` LoCoMo turn texts; past the 2,760 turns, repeats are suffixed to stay distinct."""
    turns, _ = load_locomo()
    base = [turn.text for turn in turns]
    return [
        base[i % len(base)] if i < len(base) else f"{base[i % len(base)]} (#{i // len(base)})"
        for i in range(n)
    ]


def timed(action: Callable[[], object]) -> float:
    """Wall-clock seconds one call takes."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def encode_rate(model: Any, texts: Sequence[str], batch_size: int) -> float:
    """Texts per second of one raw ``encode`` call over all of ``texts``."""
    return len(texts) / timed(lambda: model.encode(list(texts), batch_size=batch_size))


def warm_up(model: Any, memory: Any, texts: Sequence[str]) -> None:
    """Run both paths once on a few texts (a separate scope keeps them out of the way)."""
    sample = list(texts[:WARMUP_TEXTS])
    model.encode(sample)
    memory.add_many([{"content": text, "user_id": "warm-up"} for text in sample])


def measure_round(
    engine: Callable[..., Any], model: Any, texts: Sequence[str], batch_size: int
) -> tuple[float, float]:
    """Notes per second of raw encoding and of ``add_many`` into a fresh memory."""
    memory = engine(embedder=model)
    warm_up(model, memory, texts)
    raw_rate = encode_rate(model, texts, batch_size)
    ingest_rate = len(texts) / timed(lambda: memory.add_many(list(texts)))
    close = getattr(memory, "close", None)
    if callable(close):
        close()
    return raw_rate, ingest_rate


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="texts to ingest (default 2000)")
    parser.add_argument(
        "--batch-size", type=int, default=64, help="raw encode batch size (default 64)"
    )
    parser.add_argument("--rounds", type=int, default=1, help="repeat, fresh memory each time")
    parser.add_argument(
        "--engine", default="memory:AgenticMemory", help="memory class under test, module:Class"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Measure and print both throughputs and their ratio, per round."""
    args = parse_args(argv)
    texts = benchmark_texts(args.n)
    model = load_minilm()
    engine = load_engine(args.engine)
    if engine is None:
        model.encode(texts[:WARMUP_TEXTS])
        print(f"raw encode only: {encode_rate(model, texts, args.batch_size):.0f} texts/s")
        return
    print(f"{len(texts)} LoCoMo turns, raw encode batch size {args.batch_size}")
    rows = []
    for round_number in range(1, args.rounds + 1):
        raw_rate, ingest_rate = measure_round(engine, model, texts, args.batch_size)
        ratio = ingest_rate / raw_rate
        rows.append([round_number, f"{raw_rate:.0f}", f"{ingest_rate:.0f}", f"{ratio:.2f}x"])
        print(f"  round {round_number} done", flush=True)
    print()
    print(format_table(["round", "encode texts/s", "add_many notes/s", "ratio"], rows))
    print(f"target: add_many >= {TARGET_RATIO}x raw encode")


if __name__ == "__main__":
    main()
