"""How far the choice between recall's two rankings can go, per domain: the ceiling.

Procedural recall ranks the learned notes twice -- lexically, with word weights
learned from the scope (``memory.procedures.recall``), and densely, by the MiniLM
embedding of the task's statement -- and combines the two as the scope's own checks
decide (``memory.procedures.fusion``). This script asks what *any* way of choosing
or fusing those two rankings could reach on the development domains of
``procedural_domains.py`` (same folds, same queries, same "same kind" rule):

* ``library``: what ``AgenticMemory.recall`` returns first (the product: the mode
  the scope's checks choose);
* ``lexical`` / ``dense`` / ``fused``: one ranking alone, or reciprocal-rank fusion
  on equal terms, through the public ``rank_recalled(mode=...)``;
* ``either top-1``: the query counts when the lexical *or* the dense ranking puts a
  procedure of the right kind first. No per-query choice between the two rankings,
  however informed, can score more (a fusion may also promote a note both rank
  lower: the next column bounds that);
* ``either top-3``: the right kind is among the first three of either ranking: the
  reach of any re-ranker or fusion that picks among the two candidate lists' heads.

Where the misses are: the ``library`` top-1 is also split by whether the held-out task
shares a *skill word* with a learned successful run of its kind (a word of the task
that is neither an English function word nor an argument, i.e. reappearing in its
actions; ``procedural_domains.task_arguments``) or shares none (worded anew).

When ``either top-3`` is below a target, the target needs a third view of the task
(one that recognises a paraphrase sharing no words with any learned run of its
kind), not a better choice or fusion of these two. The two rankings are read from inside the library
(``ProceduralMemory._rankings``, the same call ``recall`` makes), so the figures are
the product's own.

Run from the repository root (about 3 minutes for every domain):

    python benchmarks/procedural_ceiling.py [--domains textworld,mixed,alfworld]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from procedural_domains import (  # noqa: E402
    FUNCTION_WORDS,
    Dense,
    Domain,
    Item,
    Runner,
    _kind_of,
    available_domains,
    is_action,
    is_recipe,
    load_domain,
    task_arguments,
    tokens,
)

from memory.model import Scope  # noqa: E402
from memory.procedures import rank_recalled  # noqa: E402
from memory.procedures.text import NO_HINTS  # noqa: E402

MODES = ("lexical", "dense", "fused")
COLUMNS = ("library", *MODES, "either top-1", "either top-3")
KINDS = ["procedure", "concept"]


def skill_words(item: Item) -> set[str]:
    """The task's words that are neither function words nor arguments of its actions."""
    actions = [str(step["action"]) for step in item["steps"] if is_action(str(step["action"]))]
    arguments = task_arguments(item["task"], actions)
    return {w for w in tokens(item["task"], slots=False) if w not in FUNCTION_WORDS | arguments}


def _worded_anew(held: Item, learned: Sequence[Item]) -> bool:
    """Whether no learned successful run of ``held``'s kind shares a skill word with it."""
    same_kind = [t for t in learned if t["type"] == held["type"] and t["success"]]
    return not any(skill_words(held) & skill_words(t) for t in same_kind)


def _right_kind(note: Any, *, kinds: dict[str, str], want: str) -> bool:
    return _kind_of(note.sources, kinds, want)


def _first_procedures(ranked: Sequence[tuple[Any, float]], n: int) -> list[Any]:
    return [note for note, _ in ranked if is_recipe(note)][:n]


def measure(domain: Domain, runner: Runner) -> dict[str, dict[str, float]]:
    """query form -> column -> share of held-out queries."""
    hits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for learned, heldout in domain.folds:
        kinds = {t["id"]: t["type"] for t in learned}
        mem = runner.memory(learned)
        procedural = mem._procedural
        pool = procedural._reader.notes(Scope(), kinds=KINDS)
        try:
            for held in heldout:
                right = partial(_right_kind, kinds=kinds, want=held["type"])
                wording = "worded anew" if _worded_anew(held, learned) else "shares a word"
                for qname, query in domain.queries(held):
                    # Once per query, as recall does: it also counts the observation
                    # for the scope's boilerplate, so a second call would count twice.
                    profile, statement, dense = procedural._rankings(
                        query, pool, Scope(), KINDS, runner.embedder.embed, NO_HINTS
                    )
                    row = hits[qname]
                    heads = {}
                    for mode in (None, *MODES):
                        ranked = rank_recalled(
                            query, pool, dense=dense, profile=profile, query=statement, mode=mode
                        )
                        column = mode or "library"
                        heads[column] = _first_procedures(ranked, 3)
                        row[column].append(float(bool(heads[column]) and right(heads[column][0])))
                    row[f"library, {wording}"].append(row["library"][-1])
                    either = [heads["lexical"][:1], heads["dense"][:1]]
                    row["either top-1"].append(float(any(right(n) for h in either for n in h)))
                    reach = heads["lexical"] + heads["dense"]
                    row["either top-3"].append(float(any(right(n) for n in reach)))
        finally:
            mem.close()
    return {
        q: {c: v for name, values in row.items() for c, v in _mean_and_count(name, values)}
        for q, row in hits.items()
    }


def _mean_and_count(name: str, values: list[float]) -> list[tuple[str, float]]:
    return [(name, sum(values) / len(values)), (f"{name} n", float(len(values)))]


def main(argv: Sequence[str] | None = None) -> dict[str, dict[str, dict[str, float]]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--domains",
        default=",".join(available_domains()),
        help="comma-separated domains (default: every committed domain, then alfworld)",
    )
    args = parser.parse_args(argv)
    dense = Dense()
    runner = Runner(dense.embedder, dense)
    header = f"{'domain':<10} {'query':<5} " + " ".join(f"{c:>12}" for c in COLUMNS)
    print(header)
    print("-" * len(header))
    results = {}
    for name in (d.strip() for d in args.domains.split(",") if d.strip()):
        results[name] = measure(load_domain(name), runner)
        for qname, row in results[name].items():
            cells = " ".join(f"{row[c]:>12.3f}" for c in COLUMNS)
            print(f"{name:<10} {qname:<5} {cells}", flush=True)
        obs = results[name]["obs"]
        split = [
            f"{w} {obs.get(f'library, {w}', float('nan')):.3f}"
            f" of {obs.get(f'library, {w} n', 0):.0f}"
            for w in ("shares a word", "worded anew")
        ]
        print(f"{'':<10} obs   library top-1 by the task's wording: " + "; ".join(split))
    return results


if __name__ == "__main__":
    main()
