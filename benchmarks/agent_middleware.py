"""ZettelmemMiddleware on a LangChain agent: what it costs per model call, what it learns.

Two measurements, one run (the figures are ratios against baselines measured in the
same process, so a loaded machine shifts both sides):

1. Learning loop on a tool-use environment (``benchmarks/tool_env.py``: a fake project
   with file, search, test-runner, installer and git tools; six task kinds). A scripted
   agent follows each task's plan; the environment judges the outcome. Round 1 runs one
   instance of every kind, round 2 another instance (other entities, other wording).
   Reported: the share of round-2 runs whose top injected procedure was learned from a
   run of the same kind (target >= 0.9), and whether, once the package index goes down
   and add-dependency runs keep failing, feedback + ``prune()`` remove the procedure
   those runs were shown (and nothing that kept working).
2. Overhead per model call: the same agent and tasks without the middleware, with it in
   recall-only mode, and with it fully on (notes + learning after the run), runs
   interleaved. Added latency (the median of the per-round differences with the agent
   without memory) per model call against one query encode of the same embedder
   timed in the same run (target <= one encode + 10 ms), and the tokens the
   recall section adds to each prompt (cl100k_base) against the budget.

Run from the repository root (MiniLM by default; ``--embedder hashing`` for a quick look):

    python benchmarks/agent_middleware.py
    python benchmarks/agent_middleware.py --runs 30 --budget 500 --json out.json

The procedure distiller in ``memory/procedures`` decides which keys procedures get;
rerun this script unchanged after it changes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.tools import StructuredTool  # noqa: E402

from benchmarks.tool_env import (  # noqa: E402
    TASK_KINDS,
    Task,
    Workspace,
    judge_run,
    tasks,
    workspace_tools,
)
from integrations.agent_recall import OPEN_TAG, Recall, default_token_counter  # noqa: E402
from integrations.langchain_middleware import ZettelmemMiddleware  # noqa: E402
from memory import AgenticMemory  # noqa: E402
from tests.doubles.tool_calling import Plan as ScriptPlan  # noqa: E402
from tests.doubles.tool_calling import ScriptedToolChatModel, next_move  # noqa: E402

__all__ = ["main"]

USER = "dev"
SYSTEM = "You are a software engineering agent. Use the tools to complete the task."


class Harness:
    """One memory, one scripted model, the environment; agents with and without memory."""

    def __init__(self, embedder: Any, budget: int, credit: str = "top") -> None:
        self.credit = credit
        self.embedder = embedder
        self.memory = AgenticMemory(embedder=embedder)
        self.plans: dict[str, Task] = {}
        self.workspace = Workspace.sample()
        self.tools = workspace_tools(lambda: self.workspace)
        self.model = ScriptedToolChatModel(policy=self._policy)
        self.recalls: list[Recall] = []
        self.judged: dict[str, Task] = {}
        self.budget = budget

    def _policy(self, request: str, answered: int) -> Any:
        task = self.plans[request]
        return next_move(ScriptPlan(calls=task.plan, answer=task.answer), answered)

    def _judge(self, run: Any) -> bool:
        return judge_run(self.plans[run.task], self.workspace)

    def middleware(
        self, *, learn: bool, notes_k: int = 3, background: bool = False
    ) -> ZettelmemMiddleware:
        # Recall only: no judge either, so no feedback is written after the run.
        middleware = ZettelmemMiddleware(
            self.memory,
            user_id=USER,
            judge=self._judge if learn else None,
            token_budget=self.budget,
            remember_exchange=learn,
            learn=learn,
            notes_k=notes_k,
            credit=self.credit,  # type: ignore[arg-type]
            background=background,
        )
        recall = middleware.learning.recall

        def recorded(task: str, scope: Any) -> Recall:
            result = recall(task, scope)
            self.recalls.append(result)
            return result

        middleware.learning.recall = recorded  # type: ignore[method-assign]
        return middleware

    def agent(self, middleware: ZettelmemMiddleware | None) -> Any:
        extra = [middleware] if middleware is not None else []
        return create_agent(self.model, self.tools, system_prompt=SYSTEM, middleware=extra)

    def learner(self, framework: str) -> Callable[[Task, bool], str]:
        """A learning agent of ``framework``: runs a task (registry down or not) -> run id."""
        if framework == "langchain":
            agent = self.agent(self.middleware(learn=True))

            def run_langchain(task: Task, registry_down: bool) -> str:
                out, _ = self.run(agent, task, registry_down=registry_down)
                return str(out["zettelmem_run_id"])

            return run_langchain
        return self._llamaindex_learner()

    def _llamaindex_learner(self) -> Callable[[Task, bool], str]:
        from llama_index.core.agent.workflow import FunctionAgent
        from llama_index.core.tools import FunctionTool

        from integrations.llamaindex_agent import ZettelmemAgentHooks
        from tests.doubles.tool_calling import scripted_function_llm

        hooks = ZettelmemAgentHooks(
            self.memory,
            user_id=USER,
            judge=self._judge,
            token_budget=self.budget,
            credit=self.credit,  # type: ignore[arg-type]
        )
        arecall = hooks.learning.arecall

        async def recorded(task: str, scope: Any) -> Recall:
            result = await arecall(task, scope)
            self.recalls.append(result)
            return result

        hooks.learning.arecall = recorded  # type: ignore[method-assign]
        tools = [
            FunctionTool.from_defaults(fn=t.func, name=t.name, description=t.description)
            for t in self.tools
            if isinstance(t, StructuredTool)
        ]
        agent = FunctionAgent(
            llm=scripted_function_llm(self._policy), tools=tools, system_prompt=SYSTEM
        )

        def run_llamaindex(task: Task, registry_down: bool) -> str:
            self.plans[task.request] = task
            self.workspace = Workspace.sample()
            self.workspace.registry_down = registry_down

            async def go() -> str:
                run = hooks.run(agent, task.request)
                await run
                return run.run_id

            return asyncio.run(go())

        return run_llamaindex

    def run(self, agent: Any, task: Task, *, registry_down: bool = False) -> tuple[dict, float]:
        self.plans[task.request] = task
        self.workspace = Workspace.sample()
        self.workspace.registry_down = registry_down
        started = time.perf_counter()
        out = agent.invoke({"messages": [{"role": "user", "content": task.request}]})
        return out, time.perf_counter() - started


# ---- 1. learning loop ------------------------------------------------------------------------


def kind_of_note(memory: AgenticMemory, note_id: str, kinds_by_run: dict[str, str]) -> str:
    note = memory.get(note_id)
    found = {kinds_by_run.get(source, "?") for source in note.sources}
    return "/".join(sorted(found))


def learned_key(memory: AgenticMemory, run_id: str) -> str:
    """The *when to use* key of the procedure a run taught (or merged into)."""
    keys = [n.when_to_use for n in memory.notes(kinds=["procedure"]) if run_id in n.sources]
    return keys[0] if keys else "(nothing learned)"


def learning_loop(
    harness: Harness, failing_runs: int, framework: str, rounds: tuple[int, int] = (0, 1)
) -> dict[str, Any]:
    memory = harness.memory
    run_task = harness.learner(framework)
    kinds_by_run: dict[str, str] = {}
    print(f"round 1: one instance of each kind (wording {rounds[0]}), learned")
    for task in tasks(rounds[0]):
        run_id = run_task(task, False)
        kinds_by_run[run_id] = task.kind
        print(f"  {task.kind:17} key: {learned_key(memory, run_id)!r}")
    print(f"round 2: another instance of each kind (wording {rounds[1]}); the top procedure shown")
    same, shown_any, rows = 0, 0, []
    for task in tasks(rounds[1]):
        harness.recalls.clear()
        kinds_by_run[run_task(task, False)] = task.kind
        recall = harness.recalls[0]
        shown = [kind_of_note(memory, i, kinds_by_run) for i in recall.procedure_ids]
        top = shown[0] if shown else "(none)"
        same += top == task.kind
        shown_any += task.kind in shown
        rows.append({"kind": task.kind, "request": task.request, "shown": shown})
        print(f"  {task.kind:17} -> {top:17} (all shown: {shown})")
    share = same / len(TASK_KINDS)
    print(f"share of second runs whose top procedure came from the same kind: {share:.2f}")
    print(f"  (same kind anywhere in the section: {shown_any / len(TASK_KINDS):.2f})")

    if not failing_runs:
        return {"same_kind_top1": share, "same_kind_anywhere": shown_any / len(TASK_KINDS)}
    print(f"pruning: the package index goes down; {failing_runs} add_dependency runs fail")
    builders = TASK_KINDS["add_dependency"]
    shown: dict[str, int] = {}
    top: dict[str, int] = {}
    for number in range(failing_runs):
        harness.recalls.clear()
        task = builders[number % len(builders)](number + 2)
        kinds_by_run[run_task(task, True)] = task.kind
        ids = harness.recalls[0].procedure_ids
        for note_id in ids:
            shown[note_id] = shown.get(note_id, 0) + 1
        if ids:
            top[ids[0]] = top.get(ids[0], 0) + 1
    before = {n.id: n for n in memory.notes(user_id=USER) if n.kind in ("procedure", "concept")}
    removed = memory.prune(user_id=USER)
    pruned = {r.note_id for r in removed if r.merged_into is None}
    for removal in removed:
        print(f"  removed {removal.kind} {removal.note_id[:8]}: {removal.reason}")
    table = []
    for note_id, count in sorted(shown.items(), key=lambda item: -item[1]):
        note = before.get(note_id)
        label = kind_of_note_safe(note, kinds_by_run) if note else "?"
        uses = f"{note.success_count}/{note.retrieved_count}" if note else "?"
        row = {
            "note": note_id,
            "kind": label,
            "failing_runs_shown": count,
            "failing_runs_top": top.get(note_id, 0),
            "successes/uses": uses,
            "pruned": note_id in pruned,
        }
        table.append(row)
        print(
            f"  {note_id[:8]} {note.kind if note else '?':9} from {label:17} shown to {count}, "
            f"top in {top.get(note_id, 0)} failing run(s); successes/uses {uses}; "
            f"pruned: {note_id in pruned}"
        )
    # What the runs followed (the top procedure) and kept failing with must go; a
    # procedure of a kind that still works must stay.
    followed = [i for i, n in top.items() if n >= memory.prune_min_uses]
    followed_pruned = bool(followed) and all(i in pruned for i in followed)
    wrongly = [
        kind_of_note_safe(before[i], kinds_by_run)
        for i in pruned
        if i in before and kind_of_note_safe(before[i], kinds_by_run) != "add_dependency"
    ]
    print(
        f"  procedures top in >= {memory.prune_min_uses} failing runs pruned: {followed_pruned} "
        f"({len(followed)}); procedures of other kinds pruned: {wrongly or 'none'}"
    )
    return {
        "same_kind_top1": share,
        "same_kind_anywhere": shown_any / len(TASK_KINDS),
        "round2": rows,
        "failing_procedure_pruned": followed_pruned,
        "other_pruned": wrongly,
        "failure_feedback": table,
    }


def kind_of_note_safe(note: Any, kinds_by_run: dict[str, str]) -> str:
    return "/".join(sorted({kinds_by_run.get(s, "?") for s in note.sources}))


# ---- 2. overhead -----------------------------------------------------------------------------


def overhead(harness: Harness, runs: int, filler: int) -> dict[str, Any]:
    memory = harness.memory
    if filler:
        memory.add_many(
            [
                {
                    "content": f"user: note {i} about module {i % 40} and release {i % 9}",
                    "user_id": USER,
                }
                for i in range(filler)
            ]
        )
    background = harness.middleware(learn=True, background=True)
    variants = {
        "without": harness.agent(None),
        "procedures only": harness.agent(harness.middleware(learn=False, notes_k=0)),
        "recall only": harness.agent(harness.middleware(learn=False)),
        "full": harness.agent(harness.middleware(learn=True)),
        "full, background": harness.agent(background),
    }
    counter = default_token_counter()
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    calls: dict[str, list[int]] = {name: [] for name in variants}
    added_tokens: list[int] = []
    encode: list[float] = []
    pool = [task for instance in range(2, 5) for task in tasks(instance)]
    for number in range(runs + 2):  # two warm-up rounds
        task = pool[number % len(pool)]
        systems: dict[str, list[str]] = {}
        for name, agent in variants.items():
            harness.model.prompts.clear()
            # Each variant runs the same task in turn: start every run with no query
            # vector cached, so each pays for its own encodes (a cold first call).
            harness.memory._queries.clear()
            _, elapsed = harness.run(agent, task)
            background.flush()  # untimed: the writes must not spill into the next run
            systems[name] = harness.model.system_texts()
            if number >= 2:
                seconds[name].append(elapsed)
                calls[name].append(len(harness.model.prompts))
        # One query encode per round, timed among the runs so it sees the same load.
        started = time.perf_counter()
        harness.embedder.embed([task.request])
        if number >= 2:
            encode.append(time.perf_counter() - started)
            for plain, with_memory in zip(systems["without"], systems["recall only"], strict=True):
                added_tokens.append(counter(with_memory) - counter(plain))
    model_calls = statistics.mean(calls["without"])
    mean = {name: statistics.mean(values) for name, values in seconds.items()}
    median = {name: statistics.median(values) for name, values in seconds.items()}
    encode_ms = statistics.median(encode) * 1000

    def added(variant: str, baseline: str) -> float:
        # Each round ran every variant on the same task, one after the other: the
        # median of the per-round differences cancels the machine's slow drifts,
        # which a difference of two medians over the whole run does not.
        pairs = zip(seconds[variant], seconds[baseline], strict=True)
        return statistics.median(a - b for a, b in pairs) * 1000

    first_call = added("recall only", "without")
    # The target on the first call's own terms, paired per round: its added time
    # minus the encode timed in the same round (target <= 10 ms).
    beyond_encode = statistics.median(
        (a - b - e) * 1000
        for a, b, e in zip(seconds["recall only"], seconds["without"], encode, strict=True)
    )
    per_call = first_call / model_calls
    first_call_procedures = added("procedures only", "without")
    after_run = added("full", "recall only")
    after_run_background = added("full, background", "recall only")
    print(
        f"\noverhead: {runs} runs per variant, interleaved, {model_calls:.1f} model calls a run, "
        f"{memory.count(user_id=USER)} notes in the user's scope"
    )
    for name in variants:
        print(
            f"  {name:16} run median {median[name] * 1000:7.1f} ms"
            f"  mean {mean[name] * 1000:7.1f} ms"
        )
    print(
        f"  one query encode (median): {encode_ms:.1f} ms -> target per model call "
        f"<= {encode_ms + 10:.1f} ms"
    )
    print(f"  added per model call (recall once per run, spread over its calls): {per_call:.1f} ms")
    print(
        f"  added to the run's first model call (the recall itself): {first_call:.1f} ms "
        f"= {first_call / encode_ms:.2f} encodes (notes and procedures share one query encode)"
    )
    print(
        f"  ... beyond the round's own encode, median over rounds: {beyond_encode:.1f} ms "
        f"(target <= 10 ms)"
    )
    print(
        f"  ... with procedures only (notes_k=0, one query embedded): "
        f"{first_call_procedures:.1f} ms = {first_call_procedures / encode_ms:.2f} encodes"
    )
    print(f"  added after the run (exchange notes + learn + feedback): {after_run:.1f} ms")
    print(f"  ... with background=True (what the caller waits for): {after_run_background:.1f} ms")
    print(
        f"  added prompt tokens per model call: mean {statistics.mean(added_tokens):.0f}, "
        f"max {max(added_tokens)} (budget {harness.budget}); "
        f"section present in {sum(t > 0 for t in added_tokens)}/{len(added_tokens)} calls"
    )
    return {
        "runs": runs,
        "model_calls_per_run": model_calls,
        "run_median_ms": {k: v * 1000 for k, v in median.items()},
        "encode_median_ms": encode_ms,
        "added_per_model_call_ms": per_call,
        "added_first_call_ms": first_call,
        "added_first_call_beyond_encode_ms": beyond_encode,
        "added_after_run_ms": after_run,
        "added_after_run_background_ms": after_run_background,
        "added_first_call_procedures_only_ms": first_call_procedures,
        "added_tokens_mean": statistics.mean(added_tokens),
        "added_tokens_max": max(added_tokens),
        "budget": harness.budget,
        "section_marker": OPEN_TAG,
    }


def make_embedder(choice: str) -> Any:
    if choice == "hashing":
        from memory.embed import HashingEmbedder

        return HashingEmbedder()
    from memory.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=["minilm", "hashing"], default="minilm")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per variant")
    parser.add_argument("--budget", type=int, default=500, help="token budget of the section")
    parser.add_argument("--filler", type=int, default=500, help="extra notes in the scope")
    parser.add_argument("--failing-runs", type=int, default=8)
    parser.add_argument("--credit", choices=["top", "all"], default="top")
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument(
        "--framework",
        choices=["langchain", "llamaindex"],
        default="langchain",
        help="the agent of the learning loop (the overhead is measured on LangChain)",
    )
    parser.add_argument(
        "--rotations",
        action="store_true",
        help="also run the loop with the other wordings as rounds 1 and 2 (1->2, 2->0), "
        "each in a fresh memory, and print the mean share",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    harness = Harness(make_embedder(args.embedder), args.budget, args.credit)
    print(f"embedder: {args.embedder}; token budget {args.budget}; credit {args.credit}\n")
    print(f"learning loop through {args.framework}")
    results: dict[str, Any] = {
        "learning": learning_loop(harness, args.failing_runs, args.framework)
    }
    if args.rotations:
        shares = [results["learning"]["same_kind_top1"]]
        for rounds in ((1, 2), (2, 0)):
            print(f"\nrotation: wordings {rounds[0]} -> {rounds[1]}")
            fresh = Harness(make_embedder(args.embedder), args.budget, args.credit)
            shares.append(learning_loop(fresh, 0, args.framework, rounds)["same_kind_top1"])
            fresh.memory.close()
        results["rotation_shares"] = shares
        print(
            f"\nsame-kind share over the three rotations: {[round(x, 2) for x in shares]}, "
            f"mean {statistics.mean(shares):.2f}"
        )
    if not args.skip_overhead:
        results["overhead"] = overhead(harness, args.runs, args.filler)
    harness.memory.close()
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
