"""Procedural memory: learn from an agent's past trajectories, recall for new tasks.

A shell agent's trajectories on a Linux server (``examples/data/trajectories.json``,
written for this example: four task types -- archive, cleanup, find-config,
restart-service -- three successes each, plus one failed attempt) are learned:
each success is distilled into a procedure note keyed by *when to use* it (the
task generalised), a failure into an "avoid" note, and recurring sub-routines
into concept notes. Then the held-out task of each type is given as a fresh agent
would see it (its setting plus "Your task is to: ..."), and the recalled
procedures are printed with the prompt text an agent would get. Feedback on the
outcome updates the notes' utility, which ``prune()`` uses later.

    python examples/procedural.py
    python examples/procedural.py --data other_trajectories.json

Any file in the same layout works (a list of trajectories, or ``{"trajectories":
[...]}``; items ``{id, type, task, setting, steps: [{action, observation}],
success}``); ids ending in ``_2`` are held out. With ``AgenticMemory(llm=...)``
(any LangChain chat model, e.g. ``ChatOpenAI(model="gpt-4o-mini")``, or a
LlamaIndex LLM such as ``Ollama(model="llama3.1")``) trajectories are distilled
by the model instead of the offline heuristics. ``ZETTELMEM_EMBEDDER=hashing``
swaps MiniLM for the fast test embedder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # a fresh clone runs without installing

from memory import AgenticMemory, Step, Trajectory  # noqa: E402

AGENT = "shell-agent"
SAMPLE = HERE / "data" / "trajectories.json"


def load_trajectories(path: Path) -> list[dict]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    return loaded["trajectories"] if isinstance(loaded, dict) else loaded


def make_memory() -> AgenticMemory:
    choice = os.environ.get("ZETTELMEM_EMBEDDER")
    if choice == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=choice)


def trajectory(item: dict) -> Trajectory:
    return Trajectory(
        id=item["id"],
        task=item["task"],
        steps=[
            Step(action=s["action"], observation=s.get("observation", "")) for s in item["steps"]
        ],
        success=item["success"],
        metadata={"type": item["type"]},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SAMPLE, help="trajectories file (JSON)")
    args = parser.parse_args()
    items = load_trajectories(args.data)
    held_out = [item for item in items if item["id"].endswith("_2")]
    learned_from = [item for item in items if item not in held_out]
    with make_memory() as memory:  # closed (and its path released) at the end
        notes = []
        for item in learned_from:
            notes.extend(memory.learn(trajectory(item), agent_id=AGENT))
        kinds = sorted({note.kind for note in notes})
        print(
            f"learned {memory.count(agent_id=AGENT)} notes ({', '.join(kinds)}) "
            f"from {len(learned_from)} trajectories"
        )
        procedure = next(note for note in notes if note.kind == "procedure")
        print(f"\na procedure, as stored:\n{procedure.content}\n")
        avoid = next((note for note in notes if "avoid" in note.tags), None)
        if avoid is not None:
            print(f"learned from the failed attempt:\n{avoid.content}\n")

        types = {item["id"]: item["type"] for item in items}
        outcomes = []
        for item in held_out:
            observation = f"{item['setting']}\nYour task is to: {item['task']}"
            hits = memory.recall(observation, k=3, agent_id=AGENT)
            print(f"new task ({item['type']}): {item['task']}")
            for hit in hits:
                origin = ", ".join(types.get(s, s) for s in hit.note.sources)
                first_line = hit.note.content.strip().splitlines()[0]
                print(f"  {hit.score:.3f} {hit.note.kind:9} from {origin}: {first_line[:80]}")
            right = bool(hits) and any(types.get(s) == item["type"] for s in hits[0].note.sources)
            outcomes.append((hits[0].note.id, right) if hits else None)
        matched = sum(1 for outcome in outcomes if outcome and outcome[1])
        total = len(held_out)
        print(f"\ntop recall is a procedure of the task's own type for {matched}/{total} tasks")

        # Say the agent followed the top note each time and succeeded exactly when it
        # was a procedure for the right task type: that is what feedback records.
        for outcome in outcomes:
            if outcome is not None:
                memory.feedback([outcome[0]], success=outcome[1], agent_id=AGENT)

        task = held_out[0]
        prompt = memory.recall_text(f"Your task is to: {task['task']}", agent_id=AGENT)
        print(f"\nwhat an agent's prompt gets for '{task['task']}':\n{prompt}")
        used = memory.recall(f"Your task is to: {task['task']}", k=1, agent_id=AGENT)[0].note
        print(
            f"\nutility of that note: used {used.retrieved_count}x, {used.success_count} successes"
        )


if __name__ == "__main__":
    main()
