"""Robustness of the LLM mind: every model fault, through both frameworks' model types.

For each fault a fresh ``AgenticMemory`` is seeded with four LoCoMo turns (clean
replies), then the fault is queued on the scripted model and a fifth turn is added.
The row says whether the note was stored, whether its keywords, tags and context are
filled, what the add cost (calls, retries, fallbacks, from its ``create`` history
event), who decided, and how many links or updates naming unknown aliases were ignored.
Every row must say the note was stored.

Faults: ``exception`` (the client raises), ``timeout`` (the model answers after 1 s;
the mind waits 0.2 s), ``invalid-json`` (a Python dict repr), ``truncated`` (half the
JSON), ``wrong-aliases`` (schema-valid, naming aliases never shown), ``prose`` (JSON
wrapped in sentences), ``empty``. "every attempt" plays the fault on all three attempts
(``max_retries=2``); "then recovers" plays it once.

Run from the repository root:

    python benchmarks/llm_robustness.py

Data: ``$ZETTELMEM_DATA/locomo`` (default ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from llm_cost import load_turns  # noqa: E402
from scripted_llm import MODELS, Replier  # noqa: E402

from memory import AgenticMemory, Note  # noqa: E402
from memory.embed import HashingEmbedder  # noqa: E402
from memory.mind.heuristic import HeuristicMind  # noqa: E402
from memory.mind.llm import LLMMind  # noqa: E402

__all__ = ["SCENARIOS", "Outcome", "Scenario", "main", "run_scenario"]

TIMEOUT = 0.2
HANG = 1.0
SEED_TURNS = 4


@dataclass(frozen=True)
class Scenario:
    """A fault and how many attempts it spoils."""

    label: str
    faults: tuple[str, ...]


ATTEMPTS = 3  # LLMMind's default max_retries=2
SCENARIOS = (
    Scenario("none (clean reply)", ()),
    Scenario("exception, every attempt", ("exception",) * ATTEMPTS),
    Scenario("timeout, every attempt", ("timeout",) * ATTEMPTS),
    Scenario("invalid JSON, every attempt", ("invalid-json",) * ATTEMPTS),
    Scenario("truncated JSON, every attempt", ("truncated",) * ATTEMPTS),
    Scenario("empty reply, every attempt", ("empty",) * ATTEMPTS),
    Scenario("wrong aliases (schema-valid)", ("wrong-aliases",)),
    Scenario("prose around JSON", ("prose",)),
    Scenario("exception, then recovers", ("exception",)),
    Scenario("timeout, then recovers", ("timeout",)),
    Scenario("invalid JSON, then recovers", ("invalid-json",)),
    Scenario("empty reply, then recovers", ("empty",)),
)


class _IgnoredAliases(logging.Handler):
    """Counts the mind's 'ignoring ... unknown alias' warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "unknown alias" in record.getMessage():
            self.count += 1


@dataclass
class Outcome:
    """What one fault did to one add."""

    framework: str
    path: str
    scenario: str
    stored: bool
    filled: bool
    calls: int
    retries: int
    fallbacks: int
    actor: str
    ignored_aliases: int


def _memory(framework: str, replier: Replier, embedder: HashingEmbedder) -> AgenticMemory:
    mind = LLMMind(
        llm=MODELS[framework](replier),
        fallback=HeuristicMind(embedder),
        timeout=TIMEOUT,
    )
    return AgenticMemory(mind=mind, embedder=embedder)


def _add(mem: AgenticMemory, item: dict[str, Any], path: str) -> Note:
    fields = {key: value for key, value in item.items() if key != "content"}
    if path == "aadd":
        return asyncio.run(mem.aadd(item["content"], **fields))  # type: ignore[attr-defined]
    return mem.add(item["content"], **fields)


def run_scenario(
    framework: str,
    scenario: Scenario,
    turns: Sequence[dict[str, Any]],
    *,
    path: str = "add",
) -> Outcome:
    """Seed a memory, play ``scenario`` on the next add and report what happened.

    Args:
        framework: ``"langchain"`` or ``"llamaindex"``.
        scenario: The fault to play.
        turns: At least ``SEED_TURNS + 1`` LoCoMo items.
        path: ``"add"`` or ``"aadd"``.

    Returns:
        The outcome of the faulty add.
    """
    embedder = HashingEmbedder()
    replier = Replier(hang=HANG)
    counter = _IgnoredAliases()
    mind_logger = logging.getLogger("memory.mind.llm.mind")
    with _memory(framework, replier, embedder) as mem:
        mem.add_many(list(turns[:SEED_TURNS]))
        replier.queue(*scenario.faults)
        mind_logger.addHandler(counter)
        try:
            note = _add(mem, turns[SEED_TURNS], path)
        finally:
            mind_logger.removeHandler(counter)
        scope = note.user_id
        stored = mem.get(note.id, user_id=scope)
        create = next(e for e in mem.history(note.id, user_id=scope) if e.action == "create")
        return Outcome(
            framework=framework,
            path=path,
            scenario=scenario.label,
            stored=stored.id == note.id and mem.count(user_id=scope) == SEED_TURNS + 1,
            filled=bool(stored.keywords and stored.tags and stored.context),
            calls=create.usage.get("calls", 0),
            retries=create.usage.get("retries", 0),
            fallbacks=create.usage.get("fallbacks", 0),
            actor=create.actor,
            ignored_aliases=counter.count,
        )


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def print_table(outcomes: Sequence[Outcome]) -> None:
    """Print one row per outcome and a closing check line."""
    print(
        "| framework | path | fault | stored | fields filled | calls | retries | fallback "
        "| decided by | unknown aliases ignored |"
    )
    print("|---" * 10 + "|")
    for o in outcomes:
        print(
            f"| {o.framework} | {o.path} | {o.scenario} | {_yes(o.stored)} | {_yes(o.filled)} "
            f"| {o.calls} | {o.retries} | {'yes' if o.fallbacks else 'no'} | {o.actor} "
            f"| {o.ignored_aliases} |"
        )
    stored = sum(o.stored for o in outcomes)
    filled = sum(o.filled for o in outcomes)
    print(f"\nnotes stored: {stored}/{len(outcomes)}; fields filled: {filled}/{len(outcomes)}")


def main(argv: Sequence[str] | None = None) -> None:
    """Run every scenario through both frameworks (and ``aadd`` when the facade has it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversation", default="26", help="LoCoMo conversation id")
    args = parser.parse_args(argv)
    quiet = logging.getLogger("memory")
    quiet.setLevel(logging.WARNING)
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False  # the faults are expected; their warnings would flood the table

    turns = load_turns(args.conversation)[: SEED_TURNS + 1]
    paths = ["add", "aadd"] if hasattr(AgenticMemory, "aadd") else ["add"]
    outcomes = [
        run_scenario(framework, scenario, turns, path=path)
        for framework in MODELS
        for path in paths
        for scenario in SCENARIOS
    ]
    print(f"command: python benchmarks/llm_robustness.py {' '.join(argv or sys.argv[1:])}")
    print(f"mind: LLMMind(max_retries=2, timeout={TIMEOUT}s); timeout fault answers after {HANG}s")
    if "aadd" not in paths:
        print("AgenticMemory.aadd not available yet: the async path was not run")
    print()
    print_table(outcomes)


if __name__ == "__main__":
    main()
