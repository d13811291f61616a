"""What the template-built development domains share: phrasing choice, the split, the CLI.

``build_tooluse_domain.py`` and ``build_webnav_domain.py`` each define their task kinds
(a builder per kind) and how one item looks; this module draws the learned, failed and
held-out items per kind the same way for both, and writes the JSON file.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Built", "KindBuilder", "Phrasings", "Pick", "build_domain", "run_cli"]

Built = tuple[str, list[tuple[str, str]], bool]  # task, steps, success
Pick = Callable[[list[str]], str]  # chooses the task phrasing
KindBuilder = Callable[[random.Random, bool, Pick], Built]
Item = Callable[[random.Random, str, int, bool, str, Pick], dict[str, Any]]


class Phrasings:
    """Learned items take any phrasing; held-out ones prefer those the kind's learned items lack."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[int] = set()

    def learned(self, options: list[str]) -> str:
        index = self.rng.randrange(len(options))
        self.used.add(index)
        return options[index]

    def heldout(self, options: list[str]) -> str:
        fresh = [i for i in range(len(options)) if i not in self.used]
        return options[self.rng.choice(fresh or list(range(len(options))))]


def build_domain(
    name: str,
    seed: int,
    kinds: Mapping[str, KindBuilder],
    item: Item,
    *,
    learned: int,
    failed: int,
    heldout: int,
) -> dict[str, Any]:
    """The whole domain: ``learned`` + ``failed`` learned items and ``heldout`` items per kind."""
    rng = random.Random(seed)
    learn: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    for kind in kinds:
        phrasings = Phrasings(rng)
        for i in range(learned):
            learn.append(item(rng, kind, i, False, "learn", phrasings.learned))
        for i in range(failed):
            learn.append(item(rng, kind, learned + i, True, "learn", phrasings.learned))
        for i in range(heldout):
            held.append(item(rng, kind, i, False, "heldout", phrasings.heldout))
    return {
        "domain": name,
        "source": f"benchmarks/build_{name}_domain.py (templates, seeded random arguments)",
        "seed": seed,
        "learn": learn,
        "heldout": held,
    }


def run_cli(description: str, build: Callable[[int], dict[str, Any]], out: Path) -> None:
    """``--seed`` / ``--out``: build the domain and write it as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=out)
    args = parser.parse_args()
    write_domain(build(args.seed), args.out)


def write_domain(data: dict[str, Any], out: Path) -> None:
    """Write a built domain as the JSON the benchmark reads, and say what it holds."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n")
    kinds = len({item["type"] for item in data["learn"]})
    print(
        f"wrote {out}: {len(data['learn'])} learned, {len(data['heldout'])} held-out, {kinds} kinds"
    )
