"""Search latency at growing memory sizes, on synthetic notes built with ``add_many``.

One memory grows through the requested sizes (1k, 10k, 100k by default); at each
size it answers the same 200 synthetic questions with ``search(query, k=10,
user_id=...)``, each timed on its own, query embedding included. Printed per size:
the ingest time of the notes added to reach it, search p50 / p95 / mean, and the
process's peak RSS (``ru_maxrss``) and current RSS. The latency of embedding a
query alone (through the engine's embedder) is printed beside it, to show how much
of a search is the model. ``--embedder hashing`` builds with the model-free
embedder, so a 100k memory builds in well under an hour here; searches are then
timed twice: with hashing queries (the engine alone) and, end to end, with the
memory's embedder switched to MiniLM for the queries (same 384 dimensions, so
Chroma does the same work; the ranking is meaningless, the timing is not).

Notes come from sentence templates crossed with a vocabulary of names, activities,
objects and places (fixed seed), so both BM25 and the dense index have real work.
On a 2-core machine 100k notes take 25-40 minutes to ingest; progress is printed.
``--tenants N`` spreads the notes over N users and searches one user per query,
the multi-tenant case where a search sees a small share of the store.

Usage:
    python benchmarks/search_latency.py [--sizes 1000,10000,100000] [--queries 200]
        [--embedder hashing] [--tenants 100] [--path DIR]
"""

from __future__ import annotations

import argparse
import random
import time
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from harness import current_rss_mb, format_table, load_engine, load_minilm, peak_rss_mb

SCOPE = "synthetic"
WARMUP_QUERIES = 5
NAMES = (
    "Alice Bruno Chen Dana Emeka Farah Gustavo Hana Ivan Jun Kofi Lena Marta Nadia Omar Priya "
    "Quinn Rosa Sven Tomas Uma Viktor Wen Ximena Yusuf Zoe Aiko Bilal Carmen Dmitri Elena Femi "
    "Greta Hugo Ines Jonas Kira Luca Mei Noor"
).split()
ACTIVITIES = (
    "went hiking|painted a mural|baked sourdough bread|ran a half marathon|adopted a puppy|"
    "started a pottery class|fixed an old bicycle|planted tomatoes|learned to play the cello|"
    "wrote a short story|visited the grandparents|organised a charity auction|built a bookshelf|"
    "tried rock climbing|joined a choir|repaired the roof|studied for the bar exam|"
    "volunteered at the shelter|sold the old car|booked a trip to Lisbon|cooked a curry|"
    "watched a meteor shower|finished a jigsaw puzzle|coached the football team|"
    "moved into a new flat|lost the house keys|won a chess tournament|knitted a scarf|"
    "went kayaking|gave a talk on climate policy|taught a coding workshop|"
    "photographed migrating birds|restored a vintage radio|learned Japanese calligraphy|"
    "sprained an ankle|started a vegetable garden|recorded a podcast episode|"
    "hosted a board game night|ran into an old friend|signed up for salsa lessons"
).split("|")
OBJECTS = (
    "guitar|telescope|camera|sketchbook|laptop|violin|canoe|tent|kettle|typewriter|"
    "sewing machine|drone|microscope|skateboard|espresso machine|bonsai tree|aquarium|"
    "record player|chess set|hammock|easel|snowboard|backpack|lantern|map collection|"
    "herb garden|bread maker|wristwatch|poetry book|mountain bike"
).split("|")
PLACES = (
    "library|farmers market|community centre|harbour|museum|botanical garden|gym|"
    "train station|bakery|beach|mountain cabin|bookshop|hospital|university|park|"
    "concert hall|art studio|climbing wall|animal shelter|coffee shop|old town|lake|"
    "airport|flea market|school"
).split("|")
ADJECTIVES = (
    "old|shiny|second-hand|handmade|borrowed|broken|expensive|tiny|vintage|bright red|"
    "waterproof|heavy|antique|brand-new|hand-painted"
).split("|")
FEELINGS = (
    "thrilled|exhausted|proud|nervous|relieved|grateful|frustrated|curious|calm|homesick"
).split("|")
WHEN = (
    "last weekend|yesterday|this morning|two weeks ago|over the summer|on Friday night|"
    "after work|during the holidays|early in spring|last month"
).split("|")
STATEMENTS = (
    "{name}: I {activity} near the {place} {when}.",
    "{name}: {when} I {activity}, and I felt {feeling} afterwards.",
    "{name}: I found a {adjective} {object} at the {place}.",
    "{name}: {other} lent me a {adjective} {object} so I could try it {when}.",
    "{name}: I'm {feeling} because I {activity} with {other}.",
    "{name}: The {object} I bought at the {place} turned out to be {adjective}.",
    "{name}: {other} and I {activity} {when}; it took {number} hours.",
    "{name}: I keep my {object} at the {place} since {when}.",
    "{name}: Next time I'm at the {place} I want to show {other} my {object}.",
    "{name}: I paid {number} dollars for a {adjective} {object} {when}.",
)
QUESTIONS = (
    "What did {name} do near the {place}?",
    "When did {name} find the {object}?",
    "Who lent {name} a {object}?",
    "How did {name} feel after they {activity}?",
    "Where does {name} keep the {object}?",
    "What did {name} buy at the {place}?",
    "Which friend {activity} with {other}?",
    "How much did the {adjective} {object} cost?",
)


def fill(template: str, rng: random.Random) -> str:
    """One sentence from a template, every slot drawn from the vocabulary."""
    name, other = rng.sample(NAMES, 2)
    return template.format(
        name=name,
        other=other,
        activity=rng.choice(ACTIVITIES),
        object=rng.choice(OBJECTS),
        place=rng.choice(PLACES),
        adjective=rng.choice(ADJECTIVES),
        feeling=rng.choice(FEELINGS),
        when=rng.choice(WHEN),
        number=rng.randint(2, 400),
    )


def tenant(index: int, tenants: int) -> str:
    """The user a note or query belongs to: round robin over ``tenants`` users."""
    return SCOPE if tenants == 1 else f"{SCOPE}-{index % tenants}"


def synthetic_notes(count: int, seed: int, tenants: int = 1) -> list[dict[str, Any]]:
    """``count`` add_many items: varied sentences, one every 17 minutes, spread over tenants."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)
    return [
        {
            "content": fill(rng.choice(STATEMENTS), rng),
            "timestamp": start + timedelta(minutes=17 * index),
            "metadata": {"n": index},
            "user_id": tenant(index, tenants),
        }
        for index in range(count)
    ]


def synthetic_queries(count: int, seed: int) -> list[str]:
    """``count`` questions over the same vocabulary (a different stream from the notes)."""
    rng = random.Random(seed + 1)
    return [fill(rng.choice(QUESTIONS), rng) for _ in range(count)]


def grow(memory: Any, items: Sequence[dict[str, Any]], target: int, chunk: int) -> float:
    """Add ``items`` in chunks, printing progress about every 10 s; return the seconds taken."""
    started = last_print = time.perf_counter()
    done = 0
    for offset in range(0, len(items), chunk):
        batch = items[offset : offset + chunk]
        memory.add_many(batch)
        done += len(batch)
        now = time.perf_counter()
        if now - last_print >= 10 or done == len(items):
            rate = done / (now - started)
            eta = (len(items) - done) / rate
            print(
                f"  {target - len(items) + done:>7,}/{target:,} notes  "
                f"{rate:5.0f} notes/s  eta {eta:4.0f}s",
                flush=True,
            )
            last_print = now
    return time.perf_counter() - started


def latencies_ms(action: Callable[[str], object], queries: Sequence[str]) -> np.ndarray:
    """Milliseconds of each call, after a few untimed warm-up calls."""
    for query in queries[:WARMUP_QUERIES]:
        action(query)
    timings = []
    for query in queries:
        started = time.perf_counter()
        action(query)
        timings.append(1000 * (time.perf_counter() - started))
    return np.array(timings)


class SwitchableEmbedder:
    """Embeds with ``current``: the hashing embedder to build, MiniLM to time queries."""

    def __init__(self, current: Any) -> None:
        self.current = current

    @property
    def dim(self) -> int:
        return int(self.current.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.current.embed(texts))


def open_memory(engine: Callable[..., Any], model: Any, path: Path | None) -> Any:
    """A fresh memory sharing the loaded model (persistent when ``path`` is given)."""
    if path is None:
        return engine(embedder=model)
    return engine(path=str(path), embedder=model)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated sizes")
    parser.add_argument("--queries", type=int, default=200, help="timed searches per size")
    parser.add_argument("--k", type=int, default=10, help="results per search")
    parser.add_argument("--chunk", type=int, default=1000, help="items per add_many call")
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic notes")
    parser.add_argument(
        "--tenants",
        type=int,
        default=1,
        help="spread the notes over this many users; each query searches one of them "
        "(so a search sees 1/tenants of the store)",
    )
    parser.add_argument("--path", type=Path, help="persistent store folder (default: in memory)")
    parser.add_argument(
        "--engine", default="memory:AgenticMemory", help="memory class under test, module:Class"
    )
    parser.add_argument(
        "--embedder",
        choices=("minilm", "hashing"),
        default="minilm",
        help="hashing: build and search with the model-free HashingEmbedder (384-d), so the "
        "search columns time the engine alone; the MiniLM query-embedding columns still time "
        "the real model, to add to them",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Grow one memory through the sizes; time searches and record memory at each."""
    args = parse_args(argv)
    sizes = sorted({int(part) for part in args.sizes.split(",")})
    model = load_minilm()
    engine = load_engine(args.engine)
    if engine is None:
        return
    notes = synthetic_notes(sizes[-1], args.seed, args.tenants)
    queries = synthetic_queries(args.queries, args.seed)
    from memory.embed import HashingEmbedder, SentenceTransformerEmbedder

    query_embedder = SentenceTransformerEmbedder(model)  # the path search() takes
    hashing = HashingEmbedder(dim=384)
    switchable = SwitchableEmbedder(hashing if args.embedder == "hashing" else query_embedder)
    memory = open_memory(engine, switchable, args.path)
    print(f"embedder under the memory: {args.embedder}", flush=True)
    headers = [
        "notes",
        "added",
        "ingest s",
        "notes/s",
        "engine p50 ms",
        "engine p95 ms",
        "engine mean ms",
        "embed p50 ms",
    ]
    headers += ["embed p95 ms", "e2e p50 ms", "e2e p95 ms", "peak RSS MiB", "RSS MiB"]
    rows: list[list[object]] = []
    # A --path kept from an earlier run with the same seed already holds the first
    # notes of the same stream: grow from there instead of building 100k again.
    stored = memory.count()
    if stored:
        print(f"reusing the {stored:,} notes already stored at {args.path}", flush=True)
    for size in sizes:
        if size < stored:
            print(f"skipping {size:,}: the store already holds {stored:,} notes", flush=True)
            continue
        print(f"growing to {size:,} notes ...", flush=True)
        seconds = grow(memory, notes[stored:size], size, args.chunk) if size > stored else 0.0
        added, stored = size - stored, size

        def search_one(query: str) -> object:
            user = tenant(zlib.crc32(query.encode()), args.tenants)
            return memory.search(query, k=args.k, user_id=user)

        search = latencies_ms(search_one, queries)
        embed = latencies_ms(lambda q: query_embedder.embed([q]), queries)
        switchable.current = query_embedder
        full = latencies_ms(search_one, queries)
        switchable.current = hashing if args.embedder == "hashing" else query_embedder
        rss = current_rss_mb()
        rows.append(
            [
                f"{size:,}",
                f"{added:,}",
                f"{seconds:.1f}",
                f"{added / seconds:.0f}" if added else "-",
                f"{np.percentile(search, 50):.1f}",
                f"{np.percentile(search, 95):.1f}",
                f"{search.mean():.1f}",
                f"{np.percentile(embed, 50):.1f}",
                f"{np.percentile(embed, 95):.1f}",
                f"{np.percentile(full, 50):.1f}",
                f"{np.percentile(full, 95):.1f}",
                f"{peak_rss_mb():.0f}",
                "-" if rss is None else f"{rss:.0f}",
            ]
        )
        print(format_table(headers, rows[-1:]), flush=True)
    close = getattr(memory, "close", None)
    if callable(close):
        close()
    print()
    print(
        f"search(query, k={args.k}, user_id=...) over {len(queries)} queries per size, "
        f"notes spread over {args.tenants} user(s); p50/p95: engine alone "
        "(hashing queries), MiniLM query embedding alone, and end to end (e2e: search() with "
        "MiniLM embedding the query); target e2e p95 <= 50 ms at 100k"
    )
    print(format_table(headers, rows))


if __name__ == "__main__":
    main()
