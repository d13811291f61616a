"""Child process of the crash-safety suite: ingest until killed, journaling what returned.

Usage: ``python crash_child.py STORE JOURNAL SEED``

Opens the persistent store at STORE with the hashing embedder, prints ``ready`` once
open, then loops forever: ``add_many`` of a small batch, a single ``add``, (rarely)
a ``delete`` of a note it added earlier, or a ``delete_all`` of its own run's notes.
Each call's outcome is appended to JOURNAL as one JSON line and flushed *after* the
call returns, so the journal never claims more than the store promised; a delete is
journaled both before (``delete-start``) and after (``delete-done``), with the ids
it removes. The parent SIGKILLs this process at a random moment.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder

TOPICS = [
    "pottery class clay bowls glaze kiln",
    "hiking mountains trail dog weekend",
    "painting sunrise lake canvas colours",
    "adoption agency interview family",
    "guitar lessons band concert stage",
    "camping tent fire marshmallows kids",
]
USERS = ["u0", "u1", "u2"]


def item(rng: random.Random, seed: int, seq: int, start: datetime) -> dict[str, Any]:
    """One deterministic-but-varied note request."""
    topic = rng.choice(TOPICS)
    words = topic.split()
    rng.shuffle(words)
    return {
        "content": f"Speaker{seq % 3}: {' '.join(words[:4])} (child {seed} note {seq})",
        "timestamp": (start + timedelta(minutes=seq)).isoformat(),
        "metadata": {
            "seq": seq,
            "child": seed,
            "words": words[:2],
            "nested": {"ok": True, "ratio": seq / 7, "none": None},
            "kind": "user-kind",
        },
        "user_id": rng.choice(USERS),
    }


def journal(out: IO[str], record: dict[str, Any]) -> None:
    """Append one line and hand it to the OS (a SIGKILL cannot lose it after this)."""
    out.write(json.dumps(record) + "\n")
    out.flush()


def added(out: IO[str], request: dict[str, Any], note: Note) -> None:
    journal(
        out,
        {
            "op": "add",
            "id": note.id,
            "content": request["content"],
            "metadata": request["metadata"],
            "user_id": request["user_id"],
            "run_id": request.get("run_id"),
        },
    )


def main(store: str, journal_path: str, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(days=seed % 3650)
    mem = AgenticMemory(store, embedder=HashingEmbedder(), link_threshold=0.3)
    print("ready", flush=True)
    mine: list[str] = []
    scratch: list[str] = []  # notes of this child's own run, removed by delete_all
    run = f"child-{seed}"
    seq = 0
    with Path(journal_path).open("a") as out:
        while True:
            roll = rng.random()
            if roll < 0.08:
                request = {**item(rng, seed, seq, start), "user_id": "scratch", "run_id": run}
                seq += 1
                note = mem.add(**request)
                added(out, request, note)
                scratch.append(note.id)
            elif roll < 0.11 and scratch:
                journal(out, {"op": "delete-start", "ids": scratch})
                assert mem.delete_all(user_id="scratch", run_id=run) == len(scratch)
                journal(out, {"op": "delete-done", "ids": scratch})
                scratch = []
            elif roll < 0.65:
                batch = [item(rng, seed, seq + i, start) for i in range(rng.randint(2, 6))]
                seq += len(batch)
                notes = mem.add_many(batch, batch_size=rng.choice([2, 3, 64]))
                for request, note in zip(batch, notes, strict=True):
                    added(out, request, note)
                    mine.append(note.id)
            elif roll < 0.9 or not mine:
                request = item(rng, seed, seq, start)
                seq += 1
                note = mem.add(**request)
                added(out, request, note)
                mine.append(note.id)
            else:
                victim = mine.pop(rng.randrange(len(mine)))
                journal(out, {"op": "delete-start", "id": victim})
                mem.delete(victim)
                journal(out, {"op": "delete-done", "id": victim})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
