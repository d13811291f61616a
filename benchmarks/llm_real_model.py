"""A real local model through ``AgenticMemory(llm=...)``: what it costs and how much of it is kept.

A GGUF model runs in this process through llama.cpp (``llama-cpp-python``), wrapped as
LangChain's ``ChatLlamaCpp`` (langchain-community) or LlamaIndex's ``LlamaCPP``
(llama-index-llms-llama-cpp) -- none of them a Zettelmem dependency. A few LoCoMo turns
are added one at a time with the memory's default call settings for an in-process model
(no timeout, one slot, one retry: ``memory.llm.gate.CallPolicy``), and the offline
heuristic mind adds the same turns first as the baseline.

Reported per add: model calls, prompt / completion tokens (as llama.cpp counts them),
seconds (and the ratio to the heuristic baseline), who decided the note; and per field
(keywords, tags, context) the share of the model's answers the faithfulness checks kept
(``memory.mind.llm.faithful``). The notes' fields are printed so a reader can judge them.

Run from the repository root (minutes per add on a small CPU):

    ZETTELMEM_TEST_GGUF=/path/model.gguf python benchmarks/llm_real_model.py --turns 3
    python benchmarks/llm_real_model.py --gguf /path/model.gguf --framework llamaindex \\
        --llama-cpp-dir /path/with/llama_cpp --budget-minutes 25

``--llama-cpp-dir`` (or ``$ZETTELMEM_LLAMA_CPP_DIR``) is put first on ``sys.path``, for a
``llama_cpp`` package unpacked outside the environment. Data: ``$ZETTELMEM_DATA/locomo``
(default ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from memory import AgenticMemory  # noqa: E402
from memory.conversations import conversation_items  # noqa: E402
from memory.mind.base import Usage  # noqa: E402
from memory.mind.llm.faithful import FIELDS  # noqa: E402

__all__ = ["AddRecord", "chatml_prompt", "local_model", "main", "run"]

DATA = Path(os.environ.get("ZETTELMEM_DATA", REPO.parent / "shared" / "data"))
USER = "real-model"


def chatml_prompt(messages: Sequence[Any]) -> str:
    """LlamaIndex ``messages_to_prompt`` for ChatML models (Qwen, many small instruct GGUFs)."""
    parts = [f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>" for m in messages]
    return "\n".join(parts) + "\n<|im_start|>assistant\n"


def local_model(framework: str, gguf: Path, *, max_tokens: int, n_ctx: int, threads: int) -> Any:
    """The GGUF behind LangChain's ``ChatLlamaCpp`` or LlamaIndex's ``LlamaCPP``.

    Args:
        framework: ``"langchain"`` or ``"llamaindex"``.
        gguf: The model file.
        max_tokens: Longest completion.
        n_ctx: Context window.
        threads: CPU threads for llama.cpp.
    """
    if framework == "langchain":
        from langchain_community.chat_models import ChatLlamaCpp

        return ChatLlamaCpp(
            model_path=str(gguf),
            n_ctx=n_ctx,
            max_tokens=max_tokens,
            temperature=0.0,
            n_threads=threads,
            seed=0,
            verbose=False,
        )
    from llama_index.llms.llama_cpp import LlamaCPP

    return LlamaCPP(
        model_path=str(gguf),
        temperature=0.0,
        max_new_tokens=max_tokens,
        context_window=n_ctx,
        model_kwargs={"n_threads": threads, "seed": 0},
        generate_kwargs={"stop": ["<|im_end|>"]},
        messages_to_prompt=chatml_prompt,
        completion_to_prompt=lambda text: chatml_prompt([]) if not text else text,
        verbose=False,
    )


@dataclass
class AddRecord:
    """One add: what it cost and what the note became."""

    turn: str
    seconds: float
    actor: str
    usage: dict[str, int]
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    context: str = ""


def _add_all(
    mem: AgenticMemory, items: list[dict[str, Any]], deadline: float | None
) -> list[AddRecord]:
    records = []
    for item in items:
        if deadline is not None and time.monotonic() > deadline:
            logging.warning("time budget spent: %d of %d turns added", len(records), len(items))
            break
        before = mem.usage
        started = time.perf_counter()
        note = mem.add(
            item["content"],
            user_id=USER,
            timestamp=item.get("timestamp"),
            metadata=item.get("metadata"),
        )
        seconds = time.perf_counter() - started
        spent = mem.usage
        delta = {name: getattr(spent, name) - getattr(before, name) for name in Usage.model_fields}
        [create] = [e for e in mem.history(note.id, user_id=USER) if e.action == "create"]
        records.append(
            AddRecord(
                turn=item["content"],
                seconds=seconds,
                actor=create.actor,
                usage={k: v for k, v in delta.items() if v},
                keywords=note.keywords,
                tags=note.tags,
                context=note.context,
            )
        )
        logging.info(
            "added in %.1fs by %s: %s; keywords=%s tags=%s context=%r",
            seconds,
            create.actor,
            records[-1].usage,
            note.keywords,
            note.tags,
            note.context,
        )
    return records


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Add the turns with the heuristic mind, then with the model; return the figures."""
    items = conversation_items(DATA / "locomo" / f"{args.conversation}.json", user_id=USER)[
        : args.turns
    ]
    if args.embedder == "hashing":
        from memory.embed import HashingEmbedder

        embedder: Any = HashingEmbedder()
    else:
        embedder = None  # the default offline MiniLM
    with AgenticMemory(embedder=embedder) as mem:
        baseline = _add_all(mem, items, None)
        embedder = mem.embedder  # loaded once, shared with the model run
    started = time.perf_counter()
    model = local_model(
        args.framework,
        Path(args.gguf),
        max_tokens=args.max_tokens,
        n_ctx=args.n_ctx,
        threads=args.threads,
    )
    load_seconds = time.perf_counter() - started
    deadline = time.monotonic() + args.budget_minutes * 60
    options: dict[str, Any] = {"llm": model}
    if args.text_json:  # the same defaults, without the framework's structured output
        from memory.mind.heuristic import HeuristicMind
        from memory.mind.llm import LLMMind

        options = {
            "mind": LLMMind(
                llm=model,
                fallback=HeuristicMind(embedder),
                embedder=embedder,
                use_native_structured_output=False,
            )
        }
    with AgenticMemory(embedder=embedder, **options) as mem:
        policy = mem.mind.caller.policy  # type: ignore[attr-defined]
        records = _add_all(mem, items, deadline)
        total = mem.usage
    return {
        "model": Path(args.gguf).name,
        "framework": args.framework + (" (JSON in text)" if args.text_json else ""),
        "policy": asdict(policy),
        "load_seconds": load_seconds,
        "baseline": [asdict(r) for r in baseline],
        "adds": [asdict(r) for r in records],
        "total": total.model_dump(),
    }


def _share(total: dict[str, int], name: str) -> str:
    kept, replaced = total[f"{name}_accepted"], total[f"{name}_replaced"]
    return f"{kept}/{kept + replaced}" if kept + replaced else "-"


def print_report(result: dict[str, Any], command: str) -> None:
    """Markdown tables: per add, then totals and per-field shares kept."""
    adds, base = result["adds"], result["baseline"]
    print(f"command: {command}")
    load = result["load_seconds"]
    print(f"model: {result['model']} via {result['framework']} (load {load:.1f}s)")
    print(f"call policy: {result['policy']}\n")
    print("| turn | by | calls | prompt tok | completion tok | s | heuristic s | fields replaced |")
    print("|---|---|---|---|---|---|---|---|")
    for index, add in enumerate(adds):
        usage = add["usage"]
        replaced = [name for name in FIELDS if usage.get(f"{name}_replaced")]
        print(
            f"| {index + 1} | {add['actor']} | {usage.get('calls', 0)} | "
            f"{usage.get('prompt_tokens', 0)} | {usage.get('completion_tokens', 0)} | "
            f"{add['seconds']:.1f} | {base[index]['seconds']:.2f} | {', '.join(replaced) or '-'} |"
        )
    total, count = result["total"], max(1, len(adds))
    seconds = sum(a["seconds"] for a in adds)
    base_seconds = sum(b["seconds"] for b in base[: len(adds)]) or float("nan")
    print(
        f"\nper add: {total['calls'] / count:.2f} calls, "
        f"{total['prompt_tokens'] / count:.0f} prompt + "
        f"{total['completion_tokens'] / count:.0f} completion tokens, "
        f"{seconds / count:.1f} s ({seconds / base_seconds:.0f}x the heuristic mind's); "
        f"retries {total['retries']}, fallbacks {total['fallbacks']}"
    )
    print(
        "model output kept per field: "
        + ", ".join(f"{name} {_share(total, name)}" for name in FIELDS)
    )
    print("\nnotes:")
    for add in adds:
        print(f"- {add['turn'][:90]}")
        print(f"  keywords={add['keywords']} tags={add['tags']} context={add['context']!r}")


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", default=os.environ.get("ZETTELMEM_TEST_GGUF"))
    parser.add_argument("--llama-cpp-dir", default=os.environ.get("ZETTELMEM_LLAMA_CPP_DIR"))
    parser.add_argument("--framework", choices=("langchain", "llamaindex"), default="langchain")
    parser.add_argument("--conversation", default="26")
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--embedder", choices=("minilm", "hashing"), default="minilm")
    parser.add_argument("--max-tokens", type=int, default=320)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--budget-minutes", type=float, default=25.0)
    parser.add_argument(
        "--text-json",
        action="store_true",
        help="ask for JSON in the text instead of trying the framework's structured output "
        "(for ChatLlamaCpp: a grammar over the whole vocabulary at every token)",
    )
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    if not args.gguf:
        parser.error("give --gguf or set ZETTELMEM_TEST_GGUF")
    if args.llama_cpp_dir:
        sys.path.insert(0, args.llama_cpp_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    result = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, default=str))
    print_report(result, "python " + " ".join(sys.argv))


if __name__ == "__main__":
    main()
