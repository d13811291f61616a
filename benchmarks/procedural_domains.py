"""Procedural recall and action coverage on several domains, against raw-text baselines.

Domains: ``alfworld`` (leave-one-out on the 18 gold trajectories in
``$ZETTELMEM_DATA/alfworld``, default ``../shared/data``) and every
``benchmarks/data/procedures/<domain>.json`` (``{"learn": [...], "heldout": [...]}``,
items shaped like the ALFWorld gold trajectories). For each domain, in one run:

* every learned trajectory (successes and failures) goes through
  ``AgenticMemory.learn`` (in memory, default MiniLM embedder unless
  ``--embedder hashing``); each held-out task is recalled twice: as the agent sees
  it (``obs``: its first observation ``setting``, then the task; ALFWorld keeps its
  native "Your task is to: ..." line) and as the bare task sentence (``task``);
  ALFWorld adds ``para``: the observation with the unseen hand-written paraphrase
  of the task from ``procedural_recall.py``;
* ``--domains mixed`` learns every committed domain into one memory (an agent
  whose memory spans several kinds of work; ~27 kinds) and recalls all their
  held-out tasks;
* **top-1 / top-3 same kind**: the first (first three) recalled notes of kind
  ``procedure`` without the ``avoid`` tag; a note counts as the held-out task's
  kind when a strict majority of the learned trajectories in its ``sources`` are of
  that kind;
* **baselines** over the raw task sentences of the learned *successful*
  trajectories, ranked for the same query: BM25 (rank_bm25, lowercase alphanumeric
  tokens) and dense MiniLM cosine; the "note" a baseline returns is the raw
  trajectory of its best match;
* **action coverage** (the same definition for a note and a raw trajectory): the
  share of the held-out gold trajectory's distinct actions found in the recalled
  text's steps (defined below);
* **length**: characters of the recalled note's content vs the raw trajectory
  rendered as its task line, then ``> action`` / observation lines.

Action coverage, domain-neutral definition (see :func:`coverage`):

1. Tokens: lowercase runs of ``[a-z0-9]``; pure numbers are dropped (instance
   numbering such as "drawer 1", line numbers). In recalled text a placeholder
   written ``<name>`` or ``{name}`` is one token ``<arg>``.
2. Actions starting with ``think:`` are reasoning, not actions, and are ignored.
3. A trajectory's *arguments* are the words of its task sentence (minus English
   function words) that reappear in its actions at any position but the first
   (the first word of an action is its verb or command and is never an argument).
   In the recalled text, the arguments of the trajectories it was learned from (a
   note: its ``sources``; a raw trajectory: itself) become ``<arg>``; consecutive
   ``<arg>`` fold into one. The held-out action keeps its words, its arguments
   marked.
4. A held-out action is covered when some line of the recalled text contains a
   window that matches it: the action's first token literally, then token by
   token, where a ``<arg>`` of the recalled line stands for the whole run of the
   action's argument words at that point (placeholders substituted by the new
   task's arguments) or for any one to four of its tokens (the verb +
   argument-role skeleton matches). A literal word matches only the same word, so
   a raw trajectory covers an action on other objects only where its own task's
   arguments sat. Distinct actions = distinct token sequences.
5. ``strict`` coverage drops the skeleton allowance: a placeholder stands only
   for the new task's arguments, so a note that abstracts everything ("click
   <x>") gains nothing from it.

Run from the repository root (the machine's load affects only the run time):

    python benchmarks/procedural_domains.py [--domains tooluse,alfworld] [--json out.json]
        [--markdown] [--embedder hashing] [--runs-per-kind N]
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path and not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(REPO))

__all__ = [
    "Domain",
    "coverage",
    "covers",
    "load_domain",
    "main",
    "masked_action",
    "task_arguments",
]

DATA = Path(os.environ.get("ZETTELMEM_DATA", REPO.parent / "shared" / "data"))
ALFWORLD = DATA / "alfworld" / "gold_trajectories.json"
DOMAIN_DIR = Path(__file__).resolve().parent / "data" / "procedures"
ARG = "<arg>"
MAX_ARG_TOKENS = 4
RECALL_K = 10
MIXED = "mixed"  # every committed domain learned into one memory (kinds prefixed by domain)

# English function words: grammar, not any domain's vocabulary.
FUNCTION_WORDS = frozenset(
    "a an the and or but if then than so to of in on at by for with from into onto over under "
    "up down out off about as is are was were be been being it its this that these those there "
    "here some any all every each both no not my your our their his her me you we they i "
    "do does did done have has had will would should can could must may might please make "
    "sure get got".split()
)
_WORD = re.compile(r"[a-z0-9]+")
_WORD_OR_SLOT = re.compile(r"<[a-z_][a-z0-9_ -]{0,30}>|\{[a-z_][a-z0-9_ -]{0,30}\}|[a-z0-9]+")

Item = dict[str, Any]


# ---- the coverage metric --------------------------------------------------------------------


def tokens(text: str, *, slots: bool = True) -> list[str]:
    """Lowercase alphanumeric tokens, numbers dropped; with ``slots``, ``<name>`` and
    ``{name}`` placeholders become ``<arg>`` (recalled text only: a held-out action's
    braces are literal text such as ``%{http_code}``)."""
    out: list[str] = []
    for token in (_WORD_OR_SLOT if slots else _WORD).findall(text.lower()):
        if token[0] in "<{":
            out.append(ARG)
        elif not token.isdigit():
            out.append(token)
    return out


def is_action(action: str) -> bool:
    """Reasoning steps (ReAct ``think:``) and empty strings are not actions."""
    return bool(action.strip()) and not action.strip().lower().startswith("think:")


def task_arguments(task: str, actions: Iterable[str]) -> frozenset[str]:
    """Words of the task that reappear in the actions after their first word."""
    task_words = {t for t in tokens(task, slots=False) if t not in FUNCTION_WORDS}
    seen: set[str] = set()
    for action in actions:
        seen.update(tokens(action, slots=False)[1:])
    return frozenset(task_words & seen)


def masked_action(action: str, arguments: frozenset[str], *, mark: bool = False) -> tuple[str, ...]:
    """The action's tokens with its arguments (never the first token) as ``<arg>``.

    With ``mark`` the arguments keep their words, prefixed ``=`` (a gold action),
    so only a placeholder or the same word matches them.
    """
    out: list[str] = []
    for i, tok in enumerate(tokens(action, slots=not mark)):
        if i > 0 and tok in arguments:
            tok = f"={tok}" if mark else ARG
        if tok == ARG and out and out[-1] == ARG:
            continue
        out.append(tok)
    return tuple(out)


def _match_prefix(gold: tuple[str, ...], step: tuple[str, ...], skeleton: bool) -> bool:
    """Whether the gold action matches a prefix of ``step`` (its ``<arg>`` are wildcards)."""
    most = MAX_ARG_TOKENS if skeleton else 0

    @cache
    def go(i: int, j: int) -> bool:
        if i == len(gold):
            return True
        if j == len(step):
            return False
        if step[j] == ARG:
            args = 0  # the run of argument words starting at i: a placeholder takes it whole
            while i + args < len(gold) and gold[i + args].startswith("="):
                args += 1
            spans = set(range(1, min(most, len(gold) - i) + 1)) | ({args} - {0})
            return any(go(i + n, j + 1) for n in sorted(spans))
        return gold[i].lstrip("=") == step[j] and go(i + 1, j + 1)

    return go(0, 0)


def covers(
    gold: tuple[str, ...], lines: Sequence[tuple[str, ...]], *, skeleton: bool = True
) -> bool:
    """Whether some line holds a window matching the (marked) gold action."""
    if not gold:
        return False
    return any(
        _match_prefix(gold, line[j:], skeleton)
        for line in lines
        for j, tok in enumerate(line)
        if tok == gold[0]
    )


def coverage(
    gold_task: str,
    gold_actions: Sequence[str],
    recalled_text: str,
    recalled_from: Sequence[tuple[str, Sequence[str]]],
    *,
    skeleton: bool = True,
) -> float:
    """Share of the gold trajectory's distinct actions found in the recalled text.

    Args:
        gold_task: the held-out task sentence.
        gold_actions: its gold actions, in order.
        recalled_text: a note's content or a rendered raw trajectory.
        recalled_from: ``(task, actions)`` of the trajectories the recalled text
            was learned from; their arguments are masked in it.
        skeleton: a placeholder may also stand for one to four words that are not
            the new task's arguments (False: the *strict* coverage).
    """
    actions = [a for a in gold_actions if is_action(a)]
    gold_args = task_arguments(gold_task, actions)
    wanted = {masked_action(a, gold_args, mark=True) for a in actions} - {()}
    if not wanted:
        return 0.0
    own_args: frozenset[str] = frozenset()
    for task, acts in recalled_from:
        own_args |= task_arguments(task, [a for a in acts if is_action(a)])
    lines = [masked_action(line, own_args) for line in recalled_text.splitlines()]
    return sum(covers(g, lines, skeleton=skeleton) for g in wanted) / len(wanted)


def _record_coverage(row: Row, held: Item, text: str, sources: Sequence[Item]) -> None:
    """Both coverages of ``text`` (recalled from ``sources``) for the held-out item."""
    gold = [s["action"] for s in held["steps"]]
    learned_from = [(t["task"], [s["action"] for s in t["steps"]]) for t in sources]
    for name, skeleton in (("coverage", True), ("strict", False)):
        row.setdefault(name, []).append(
            coverage(held["task"], gold, text, learned_from, skeleton=skeleton)
        )


def render_raw(item: Item) -> str:
    """A raw trajectory as an agent prompt would carry it: its task, then its steps.

    (The task line keeps the comparison fair: a note's content also names its task.)
    """
    steps = (f"> {s['action']}\n{s['observation']}" for s in item["steps"])
    return "\n".join([f"Task: {item['task']}", *steps])


# ---- data ----------------------------------------------------------------------------------


class Domain:
    """A domain's folds: ``(learned items, held-out items)``; ALFWorld has one per item.

    ``paraphrases`` (ALFWorld: the unseen task phrasings of ``procedural_recall.py``)
    add a ``para`` query: the first observation with the paraphrased task.
    """

    def __init__(
        self,
        name: str,
        folds: list[tuple[list[Item], list[Item]]],
        native: bool,
        paraphrases: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.folds = folds
        self.native_task_line = native
        self.paraphrases = paraphrases or {}

    def observation(self, item: Item, task: str) -> str:
        if self.native_task_line:
            return f"{item['setting']}\nYour task is to: {task}"
        return f"{item['setting']}\n{task}"

    def queries(self, item: Item) -> list[tuple[str, str]]:
        """``(name, query)``: as the agent sees it, the bare task, and any paraphrase."""
        out = [("obs", self.observation(item, item["task"])), ("task", str(item["task"]))]
        if item["id"] in self.paraphrases:
            out.append(("para", self.observation(item, self.paraphrases[item["id"]])))
        return out


def alfworld_paraphrases() -> dict[str, str]:
    """The hand-written ALFWorld paraphrases, read (not imported) from procedural_recall.py."""
    source = (Path(__file__).resolve().parent / "procedural_recall.py").read_text()
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.AnnAssign | ast.Assign)
            and "PARAPHRASES"
            in ast.unparse(node.target if isinstance(node, ast.AnnAssign) else node.targets[0])
            and node.value is not None
        ):
            value = ast.literal_eval(node.value)
            return {str(k): str(v) for k, v in value.items()}
    return {}


def available_domains() -> list[str]:
    names = sorted(p.stem for p in DOMAIN_DIR.glob("*.json"))
    return names + (["alfworld"] if ALFWORLD.exists() else [])


def load_domain(name: str) -> Domain:
    """Read one domain from the committed JSON (or the shared ALFWorld gold file)."""
    if name == "alfworld":
        if not ALFWORLD.exists():
            sys.exit(f"data not found: {ALFWORLD} (set ZETTELMEM_DATA to the shared data folder)")
        gold = json.loads(ALFWORLD.read_text())
        folds = [([t for t in gold if t["id"] != held["id"]], [held]) for held in gold]
        return Domain(name, folds, native=True, paraphrases=alfworld_paraphrases())
    if name == MIXED:
        learn: list[Item] = []
        heldout: list[Item] = []
        for path in sorted(DOMAIN_DIR.glob("*.json")):
            data = json.loads(path.read_text())
            for items, into in ((data["learn"], learn), (data["heldout"], heldout)):
                into.extend({**t, "type": f"{path.stem}:{t['type']}"} for t in items)
        return Domain(name, [(learn, heldout)], native=False)
    path = DOMAIN_DIR / f"{name}.json"
    if not path.exists():
        sys.exit(f"unknown domain {name!r}: no {path} (have {available_domains() + [MIXED]})")
    data = json.loads(path.read_text())
    return Domain(name, [(data["learn"], data["heldout"])], native=False)


def with_runs_per_kind(domain: Domain, runs: int) -> Domain:
    """``domain`` learning only the first ``runs`` successful runs of each kind (failures kept)."""
    folds = []
    for learned, heldout in domain.folds:
        seen: Counter[str] = Counter()
        kept = []
        for item in learned:
            if item["success"]:
                seen[item["type"]] += 1
                if seen[item["type"]] > runs:
                    continue
            kept.append(item)
        folds.append((kept, heldout))
    return Domain(domain.name, folds, domain.native_task_line, domain.paraphrases)


# ---- rankers -------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def rank_bm25(docs: Sequence[str], query: str) -> list[int]:
    from rank_bm25 import BM25Okapi

    scores = BM25Okapi([_words(d) for d in docs]).get_scores(_words(query))
    return [int(i) for i in np.argsort(-scores, kind="stable")]


class Dense:
    """MiniLM (the library's offline default model) with a text -> vector cache."""

    def __init__(self) -> None:
        from memory.embed import SentenceTransformerEmbedder

        self.embedder = SentenceTransformerEmbedder()
        self.cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.embed(missing), strict=True))
        return np.stack([self.cache[t] for t in texts])

    def rank(self, docs: Sequence[str], query: str) -> list[int]:
        d, q = self.encode(docs), self.encode([query])[0]
        scores = d @ q / (np.linalg.norm(d, axis=1) * np.linalg.norm(q) + 1e-12)
        return [int(i) for i in np.argsort(-scores, kind="stable")]


# ---- the run -------------------------------------------------------------------------------

Row = dict[str, list[float]]  # metric -> per-query values


def _trajectory(item: Item) -> dict[str, Any]:
    return {k: item[k] for k in ("id", "task", "steps", "success")}


def _kind_of(sources: Sequence[str], kinds: dict[str, str], want: str) -> bool:
    """Strict majority of the note's known sources are of kind ``want``."""
    known = [kinds[s] for s in sources if s in kinds]
    return bool(known) and sum(k == want for k in known) * 2 > len(known)


def is_recipe(note: Any) -> bool:
    """A procedure that is not an avoid note: what top-1 / top-3 count."""
    return bool(note.kind == "procedure" and "avoid" not in note.tags)


def _procedures(hits: Sequence[Any]) -> list[Any]:
    return [h.note for h in hits if is_recipe(h.note)]


class Runner:
    """One domain's measurements: Zettelmem recall and the raw-text baselines."""

    def __init__(self, embedder: Any, dense: Dense) -> None:
        self.embedder = embedder
        self.dense = dense
        self.per_kind: dict[str, dict[str, dict[str, list[float]]]] = {}

    def memory(self, learned: Sequence[Item]) -> Any:
        from memory import AgenticMemory

        mem = AgenticMemory(embedder=self.embedder)
        for item in learned:
            mem.learn(_trajectory(item))
        return mem

    def run(self, domain: Domain) -> dict[str, Any]:
        rows: dict[str, dict[str, Row]] = {}
        self.per_kind = {}
        n_learn = n_held = 0
        started = time.perf_counter()
        for learned, heldout in domain.folds:
            kinds = {t["id"]: t["type"] for t in learned}
            by_id = {t["id"]: t for t in learned}
            wins = [t for t in learned if t["success"]]
            n_learn = max(n_learn, len(learned))
            n_held += len(heldout)
            mem = self.memory(learned)
            try:
                for held in heldout:
                    for qname, query in domain.queries(held):
                        notes = _procedures(mem.recall(query, k=RECALL_K))
                        row = rows.setdefault("zettelmem procedure", {}).setdefault(qname, {})
                        hit = [_kind_of(n.sources, kinds, held["type"]) for n in notes]
                        row.setdefault("top1", []).append(float(bool(hit) and hit[0]))
                        row.setdefault("top3", []).append(float(any(hit[:3])))
                        top = notes[0] if notes else None
                        sources = [by_id[s] for s in (top.sources if top else []) if s in by_id]
                        _record_coverage(row, held, top.content if top else "", sources)
                        row.setdefault("chars", []).append(float(len(top.content) if top else 0))
                        self._per_kind("zettelmem procedure", qname, held, row)
                        self._baselines(rows, qname, query, held, wins)
            finally:
                mem.close()
        return {
            "domain": domain.name,
            "learned": n_learn,
            "heldout": n_held,
            "kinds": len({t["type"] for fold in domain.folds for t in fold[0] + fold[1]}),
            "folds": len(domain.folds),
            "seconds": round(time.perf_counter() - started, 1),
            "rows": {
                method: {q: {m: float(np.mean(v)) for m, v in r.items()} for q, r in qs.items()}
                for method, qs in rows.items()
            },
            "per_kind_top1": {
                method: {
                    q: {k: float(np.mean(v)) for k, v in sorted(by_kind.items())}
                    for q, by_kind in qs.items()
                }
                for method, qs in self.per_kind.items()
            },
        }

    def _per_kind(self, method: str, qname: str, held: Item, row: Row) -> None:
        by_kind = self.per_kind.setdefault(method, {}).setdefault(qname, {})
        by_kind.setdefault(held["type"], []).append(row["top1"][-1])

    def _baselines(
        self,
        rows: dict[str, dict[str, Row]],
        qname: str,
        query: str,
        held: Item,
        wins: list[Item],
    ) -> None:
        rankers: dict[str, Callable[[Sequence[str], str], list[int]]] = {
            "BM25 raw task -> raw trajectory": rank_bm25,
            "dense MiniLM raw task -> raw trajectory": self.dense.rank,
        }
        for name, ranker in rankers.items():
            order = ranker([t["task"] for t in wins], query)
            ranked = [wins[i] for i in order]
            row = rows.setdefault(name, {}).setdefault(qname, {})
            row.setdefault("top1", []).append(float(ranked[0]["type"] == held["type"]))
            row.setdefault("top3", []).append(
                float(any(t["type"] == held["type"] for t in ranked[:3]))
            )
            self._per_kind(name, qname, held, row)
            best = ranked[0]
            _record_coverage(row, held, render_raw(best), [best])
            row.setdefault("chars", []).append(float(len(render_raw(best))))


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n== {result['domain']}: {result['kinds']} kinds, {result['learned']} learned, "
        f"{result['heldout']} held-out queries, {result['folds']} fold(s), {result['seconds']}s"
    )
    header = (
        f"{'method':<42} {'query':<5} {'top1':>6} {'top3':>6} {'coverage':>9} {'strict':>7} "
        f"{'chars':>7}"
    )
    print(header)
    print("-" * len(header))
    for method, queries in result["rows"].items():
        for qname, m in queries.items():
            print(
                f"{method:<42} {qname:<5} {m['top1']:>6.3f} {m['top3']:>6.3f} "
                f"{m['coverage']:>9.3f} {m['strict']:>7.3f} {m['chars']:>7.0f}"
            )
    for method in ("zettelmem procedure", "BM25 raw task -> raw trajectory"):
        per_kind = result["per_kind_top1"][method]["obs"]
        print(
            f"{method.split(' ')[0]} top-1 per kind (obs): "
            + ", ".join(f"{k} {v:.2f}" for k, v in per_kind.items())
        )
    z = result["rows"]["zettelmem procedure"]["obs"]
    raw = {m: q["obs"] for m, q in result["rows"].items() if m != "zettelmem procedure"}
    best_raw = max(r["top1"] for r in raw.values())
    bm25 = raw["BM25 raw task -> raw trajectory"]
    ratio = z["coverage"] / bm25["coverage"] if bm25["coverage"] else float("nan")
    print(
        f"targets (obs): top-1 {z['top1']:.3f} >= 0.90 and >= best raw {best_raw:.3f} + 0.10: "
        f"{'met' if z['top1'] >= 0.9 and z['top1'] >= best_raw + 0.1 else 'NOT met'}; "
        f"coverage ratio note/raw {ratio:.2f} (>= 0.9) with note {z['chars']:.0f} vs raw "
        f"{bm25['chars']:.0f} chars: "
        f"{'met' if ratio >= 0.9 and z['chars'] < bm25['chars'] else 'NOT met'}"
    )


def markdown(results: dict[str, Any]) -> str:
    """The results as one Markdown table (for the README and the notes)."""
    lines = [
        "| domain | method | query | top-1 | top-3 | coverage | strict | chars |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        for method, queries in result["rows"].items():
            for qname, m in queries.items():
                lines.append(
                    f"| {name} | {method} | {qname} | {m['top1']:.3f} | {m['top3']:.3f} | "
                    f"{m['coverage']:.3f} | {m['strict']:.3f} | {m['chars']:.0f} |"
                )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--domains",
        default=",".join(available_domains()),
        help="comma-separated domains (default: every committed domain, then alfworld)",
    )
    parser.add_argument(
        "--embedder",
        choices=("minilm", "hashing"),
        default="minilm",
        help="AgenticMemory's embedder (default MiniLM; the dense baseline always uses MiniLM)",
    )
    parser.add_argument(
        "--runs-per-kind",
        type=int,
        help="learn only the first N successful runs of each kind (how recall grows with runs)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="also print one Markdown table")
    args = parser.parse_args(argv)
    import memory

    dense = Dense()
    if args.embedder == "hashing":
        from memory.embed import HashingEmbedder

        embedder: Any = HashingEmbedder()
    else:
        embedder = dense.embedder
    print(f"memory package: {memory.__file__}; embedder: {args.embedder}")
    runner = Runner(embedder, dense)
    domains = [load_domain(d.strip()) for d in args.domains.split(",") if d.strip()]
    if args.runs_per_kind:
        domains = [with_runs_per_kind(d, args.runs_per_kind) for d in domains]
    results = {}
    for domain in domains:
        results[domain.name] = runner.run(domain)
        print_table(results[domain.name])
    if args.markdown:
        print("\n" + markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
