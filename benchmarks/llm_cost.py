"""LLM cost per add: LoCoMo turns through ``AgenticMemory(llm=model)`` with a scripted model.

The model (``benchmarks/scripted_llm.py``) reads each prompt the LLM mind sends -- the
new turn and the candidate notes shown under aliases ``n1..nK`` -- and answers as a
capable model would: keywords and tags from the text, a context line, links to one or
two of the shown aliases and an evolution of one of them. It reports usage the way real
integrations do, with prompt tokens counted by tiktoken (cl100k_base) over the messages
it received, so the figures measure the prompts Zettelmem really builds.

Turns are added one ``add`` at a time, as a live chat would (``--batch`` uses
``add_many``, whose concurrent LLM requests show earlier notes of the same batch
without their keywords and context, so its prompts are shorter). Reported per add
(from each note's ``create`` history event): LLM calls, prompt tokens
(mean, p50, p95, max) and completion tokens; plus what the model's proposals became.
Targets (issue 3; issue 16 lowered the prompt budget so small local models follow it):
<= 1.05 calls and <= 700 prompt tokens per add on average; A-MEM's
reference pipeline uses two calls and about 1,200-1,500 prompt tokens per add.

Run from the repository root:

    python benchmarks/llm_cost.py                         # 300 turns of conversation 26
    python benchmarks/llm_cost.py --all --embedder minilm # every turn of every conversation
    python benchmarks/llm_cost.py --link-candidates 8 --link-candidates 5  # compare settings

Data: ``$ZETTELMEM_DATA/locomo`` (default ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import numpy as np  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scripted_llm import MODELS, Replier, tokenizer_name  # noqa: E402

from memory import AgenticMemory  # noqa: E402
from memory.conversations import conversation_items  # noqa: E402

__all__ = ["CostReport", "load_turns", "main", "measure"]

DATA = Path(os.environ.get("ZETTELMEM_DATA", REPO.parent / "shared" / "data"))
LOCOMO = DATA / "locomo"
TARGET_CALLS = 1.05
TARGET_PROMPT = 700


def load_turns(conversation: str) -> list[dict[str, Any]]:
    """One ``add_many`` item per turn of a LoCoMo conversation, in order.

    Args:
        conversation: The conversation id (file stem), e.g. ``"26"``.

    Returns:
        Items with content ``"Speaker: text [shares caption]"``, the session time as
        timestamp, ``dia_id`` / ``speaker`` / ``session`` metadata and one user scope
        per conversation.
    """
    path = LOCOMO / f"{conversation}.json"
    if not path.exists():
        sys.exit(f"data not found: {path} (set ZETTELMEM_DATA to the shared data folder)")
    return conversation_items(path, user_id=f"locomo-{conversation}")


def conversations() -> list[str]:
    """Every conversation id found in the data folder."""
    return sorted(path.stem for path in LOCOMO.glob("*.json"))


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "content"}


def _embedder(name: str) -> Any:
    if name == "minilm":
        from memory.embed import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder()
    from memory.embed import HashingEmbedder

    return HashingEmbedder()


@dataclass
class CostReport:
    """Per-add figures of one run."""

    framework: str
    mode: str
    link_candidates: int
    adds: int
    calls: np.ndarray
    prompt: np.ndarray
    completion: np.ndarray
    retries: int
    fallbacks: int
    by_llm: int
    shown: float
    links: float
    evolutions: int
    seconds: float
    instruction_tokens: float
    note_tokens: float
    candidate_tokens: float


def measure(
    framework: str,
    items: Sequence[dict[str, Any]],
    embedder: Any,
    *,
    link_candidates: int | None = None,
    batch: bool = False,
) -> CostReport:
    """Ingest ``items`` with a scripted model of ``framework`` and collect per-add usage.

    Args:
        framework: ``"langchain"`` or ``"llamaindex"``.
        items: ``add_many`` items (see ``load_turns``).
        embedder: The embedder the memory uses.
        link_candidates: The facade's ``link_candidates``; ``None`` keeps its default.
        batch: Ingest with one ``add_many`` instead of one ``add`` per turn.

    Returns:
        The report.
    """
    replier = Replier()
    options: dict[str, Any] = {}
    if link_candidates is not None:
        options["link_candidates"] = link_candidates
    mem = AgenticMemory(llm=MODELS[framework](replier), embedder=embedder, **options)
    started = time.perf_counter()
    try:
        if batch:
            notes = mem.add_many(list(items))
        else:
            notes = [mem.add(item["content"], **_fields(item)) for item in items]
        seconds = time.perf_counter() - started
        creates = []
        evolutions = 0
        for note in notes:
            events = mem.history(note.id, user_id=note.user_id)
            creates.append(next(e for e in events if e.action == "create"))
            evolutions += sum(1 for e in events if e.action == "evolve" and e.actor == "llm")
        totals = mem.usage
        link_candidates_used = mem.link_candidates
    finally:
        mem.close()

    def column(key: str) -> np.ndarray:
        return np.array([event.usage.get(key, 0) for event in creates], dtype=float)

    def mean_of(attribute: str) -> float:
        values = [getattr(record, attribute) for record in replier.records]
        return float(np.mean(values)) if values else 0.0

    return CostReport(
        framework=framework,
        mode="add_many" if batch else "add",
        link_candidates=link_candidates_used,
        adds=len(notes),
        calls=column("calls"),
        prompt=column("prompt_tokens"),
        completion=column("completion_tokens"),
        retries=totals.retries,
        fallbacks=totals.fallbacks,
        by_llm=sum(1 for event in creates if event.actor == "llm"),
        shown=mean_of("shown"),
        links=float(np.mean([len(e.after.get("links", {})) for e in creates])),
        evolutions=evolutions,
        seconds=seconds,
        instruction_tokens=mean_of("instruction_tokens"),
        note_tokens=mean_of("note_tokens"),
        candidate_tokens=mean_of("candidate_tokens"),
    )


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def print_report(reports: Sequence[CostReport], command: str) -> None:
    """Print the cost table and what the model's proposals became."""
    print(f"command: {command}")
    print(f"tokens counted by: {tokenizer_name()}")
    print()
    header = (
        "| framework | mode | adds | calls/add | prompt tok/add mean | p50 | p95 | max "
        "| completion tok/add mean | p95 | retries | fallbacks |"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    for r in reports:
        print(
            f"| {r.framework} | {r.mode} | {r.adds} | {r.calls.mean():.3f} | {r.prompt.mean():.0f} "
            f"| {np.percentile(r.prompt, 50):.0f} | {np.percentile(r.prompt, 95):.0f} "
            f"| {r.prompt.max():.0f} | {r.completion.mean():.0f} "
            f"| {np.percentile(r.completion, 95):.0f} | {r.retries} | {r.fallbacks} |"
        )
    print("| A-MEM reference (issue 3) | | | 2 | ~1,200-1,500 | | | | | | | |")
    print()
    print("| framework | decided by the LLM | candidates shown/add | links/add | evolutions | s |")
    print("|---|---|---|---|---|---|")
    for r in reports:
        print(
            f"| {r.framework} | {r.by_llm}/{r.adds} | {r.shown:.1f} | {r.links:.2f} "
            f"| {r.evolutions} | {r.seconds:.1f} |"
        )
    print()
    print(
        "| framework | link_candidates | system + schema tok | new note tok "
        "| existing notes tok | tok per shown note |"
    )
    print("|---|---|---|---|---|---|")
    for r in reports:
        per_note = r.candidate_tokens / r.shown if r.shown else 0.0
        print(
            f"| {r.framework} | {r.link_candidates} | {r.instruction_tokens:.0f} "
            f"| {r.note_tokens:.0f} | {r.candidate_tokens:.0f} | {per_note:.0f} |"
        )
    print()
    for r in reports:
        calls, prompt = r.calls.mean(), r.prompt.mean()
        print(
            f"{r.framework} ({r.mode}, link_candidates={r.link_candidates}): "
            f"calls/add {calls:.3f} (target <= {TARGET_CALLS}: "
            f"{_mark(calls <= TARGET_CALLS)}), prompt tokens/add {prompt:.0f} "
            f"(target <= {TARGET_PROMPT}: {_mark(prompt <= TARGET_PROMPT)})"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Parse arguments, run each framework's model over the turns, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=300, help="turns to ingest (default 300)")
    parser.add_argument("--conversation", default="26", help="LoCoMo conversation id")
    parser.add_argument("--all", action="store_true", help="every turn of every conversation")
    parser.add_argument("--embedder", choices=("hashing", "minilm"), default="hashing")
    parser.add_argument(
        "--batch",
        action="store_true",
        help="ingest with add_many (default: one add per turn, as a live chat would)",
    )
    parser.add_argument(
        "--link-candidates",
        type=int,
        action="append",
        help="AgenticMemory(link_candidates=...); repeat to compare (default: the facade's)",
    )
    parser.add_argument("--framework", choices=("langchain", "llamaindex", "both"), default="both")
    args = parser.parse_args(argv)

    if args.all:
        items = [item for conv in conversations() for item in load_turns(conv)]
    else:
        items = load_turns(args.conversation)[: args.turns]
    embedder = _embedder(args.embedder)
    frameworks = ["langchain", "llamaindex"] if args.framework == "both" else [args.framework]
    reports = [
        measure(name, items, embedder, link_candidates=n, batch=args.batch)
        for n in args.link_candidates or [None]
        for name in frameworks
    ]
    command = "python benchmarks/llm_cost.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print_report(reports, command.strip())


if __name__ == "__main__":
    main()
