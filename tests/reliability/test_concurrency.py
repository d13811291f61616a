"""Concurrency: many threads on one instance; two processes on one persistent path.

Decision (documented in the README): one ``AgenticMemory`` is safe to share between
threads -- every operation holds the instance's lock for its read-modify-write, so
operations are atomic to each other. A persistent path belongs to one instance at a
time; a second opener (another process, or another instance in this process) gets
``StoreLocked`` at once, with a message saying what to do. Several processes share a
memory through a Chroma server (``client=chromadb.HttpClient(...)``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_support import COUNTERS, checked_invariants, scale
from test_crash_safety import child_env

from memory import AgenticMemory, NotFound, Scope, StoreLocked
from memory.embed import HashingEmbedder

TOPICS = [
    "pottery class clay bowls",
    "hiking mountains dog trail",
    "guitar band concert lessons",
    "adoption agency family interview",
    "painting sunrise lake canvas",
    "camping tent fire marshmallows",
    "chess club tournament opening",
    "bakery sourdough bread starter",
    "marathon training running shoes",
    "garden tomatoes basil compost",
]


@dataclass
class Ledger:
    """What the workers were told happened, shared under one lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    updates: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    leaks: int = 0
    ops: int = 0


class Worker:
    """One thread's random mix of operations; it only updates and deletes its own notes."""

    def __init__(self, mem: AgenticMemory, ledger: Ledger, index: int, seed: int) -> None:
        self.mem, self.ledger, self.index = mem, ledger, index
        self.rng = random.Random(seed)
        self.mine: list[str] = []
        self.version = 0

    def scope(self) -> str:
        return "shared" if self.rng.random() < 0.5 else f"t{self.index}"

    def request(self) -> dict[str, Any]:
        self.version += 1
        return {
            "content": f"{self.rng.choice(TOPICS)} by worker {self.index} #{self.version}",
            "metadata": {"owner": self.index, "v": self.version, "tags": ["x", self.version]},
            "user_id": self.scope(),
        }

    def remember(self, request: dict[str, Any], note_id: str) -> None:
        with self.ledger.lock:
            self.ledger.live[note_id] = request
            self.ledger.updates[note_id] = 0
        self.mine.append(note_id)

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.3 or not self.mine:
            request = self.request()
            self.remember(request, self.mem.add(**request).id)
        elif roll < 0.4:
            batch = [self.request() for _ in range(3)]
            for request, note in zip(batch, self.mem.add_many(batch), strict=True):
                self.remember(request, note.id)
        elif roll < 0.65:
            self.search()
        elif roll < 0.8:
            self.update()
        elif roll < 0.9:
            victim = self.mine.pop(self.rng.randrange(len(self.mine)))
            self.mem.delete(victim)
            with self.ledger.lock:
                self.ledger.live.pop(victim)
                self.ledger.deleted.add(victim)
        else:
            note_id = self.rng.choice(self.mine)
            note = self.mem.get(note_id)
            expected = self.ledger.live[note_id]
            assert (note.content, note.metadata) == (expected["content"], expected["metadata"])

    def search(self) -> None:
        user = self.scope()
        with self.ledger.lock:
            gone = set(self.ledger.deleted)  # deleted before this search started
        hits = self.mem.search(self.rng.choice(TOPICS), k=8, user_id=user)
        leaked = [h.note.id for h in hits if h.note.user_id != user]
        stale = [h.note.id for h in hits if h.note.id in gone]
        with self.ledger.lock:
            self.ledger.leaks += len(leaked)
        assert not leaked and not stale, (leaked, stale)

    def update(self) -> None:
        note_id = self.rng.choice(self.mine)
        expected = dict(self.ledger.live[note_id])
        self.version += 1
        expected["metadata"] = {"owner": self.index, "v": self.version, "updated": True}
        changes: dict[str, Any] = {"metadata": expected["metadata"]}
        if self.rng.random() < 0.5:
            expected["content"] = f"{self.rng.choice(TOPICS)} rewritten {self.version}"
            changes["content"] = expected["content"]
        note = self.mem.update(note_id, **changes)
        assert (note.content, note.metadata) == (expected["content"], expected["metadata"])
        with self.ledger.lock:
            self.ledger.live[note_id] = expected
            self.ledger.updates[note_id] += 1

    def run(self, steps: int, start: threading.Barrier) -> None:
        start.wait()
        for _ in range(steps):
            try:
                self.step()
            except Exception as exc:  # collected: the test fails listing every one
                with self.ledger.lock:
                    self.ledger.errors.append(f"worker {self.index}: {type(exc).__name__}: {exc}")
            with self.ledger.lock:
                self.ledger.ops += 1


def check_final_state(mem: AgenticMemory, ledger: Ledger) -> int:
    """Every acknowledged write is there exactly; nothing deleted came back. Returns losses."""
    lost = []
    for note_id, expected in ledger.live.items():
        try:
            note = mem.get(note_id)
        except NotFound:
            lost.append(note_id)
            continue
        if (note.content, note.metadata, note.scope) != (
            expected["content"],
            expected["metadata"],
            Scope(user_id=expected["user_id"]),
        ):
            lost.append(note_id)
            continue
        history = mem.history(note_id)
        if (
            history[0].action != "create"
            or sum(e.action == "update" for e in history) != ledger.updates[note_id]
        ):
            lost.append(note_id)
    for note_id in ledger.deleted:
        with pytest.raises(NotFound):
            mem.get(note_id)
    assert mem.count() == len(ledger.live)
    return len(lost)


@pytest.mark.parametrize("persistent", [False, True], ids=["in-memory", "persistent"])
def test_threads_share_one_instance_safely(
    persistent: bool, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    threads, steps = 6, scale(20 if persistent else 30)
    mem = AgenticMemory(
        tmp_path / "store" if persistent else None, embedder=embedder, link_threshold=0.3
    )
    try:
        ledger = Ledger()
        start = threading.Barrier(threads)
        workers = [Worker(mem, ledger, i, seed=1000 * i + int(persistent)) for i in range(threads)]
        pool = [
            threading.Thread(target=w.run, args=(steps, start), name=f"worker-{w.index}")
            for w in workers
        ]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        lost = check_final_state(mem, ledger)
        COUNTERS.add("concurrency", runs=ledger.ops, data_lost=lost, leaks=ledger.leaks)
        assert not ledger.errors, ledger.errors[:10]
        assert ledger.ops == threads * steps
        assert lost == 0
        assert not checked_invariants(mem, "concurrency")
        assert len(ledger.live) > threads, "too few notes survived for the test to mean much"
    finally:
        mem.close()


OPENER = """
import json, sys
from memory import AgenticMemory, StoreLocked
from memory.embed import HashingEmbedder
try:
    mem = AgenticMemory(sys.argv[1], embedder=HashingEmbedder())
except StoreLocked as exc:
    print(json.dumps({"locked": True, "message": str(exc)}))
else:
    print(json.dumps({"locked": False, "count": mem.count()}))
    mem.close()
"""


def open_in_child(path: Path) -> dict[str, Any]:
    """Try to open ``path`` from another process; what it saw, as a dict."""
    done = subprocess.run(
        [sys.executable, "-c", OPENER, str(path)],
        env=child_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_process_gets_store_locked_with_a_clear_message(
    store_path: Path, embedder: HashingEmbedder
) -> None:
    mem = AgenticMemory(store_path, embedder=embedder)
    mem.add("the first process owns this store", user_id="u")
    try:
        seen = open_in_child(store_path)
        assert seen["locked"] is True
        message = seen["message"]
        assert str(store_path) in message
        assert "another process" in message and "close it first" in message
        assert "HttpClient" in message, "the message should point to the multi-process setup"
        assert mem.count() == 1, "the refused opener must not disturb the owner"
    finally:
        mem.close()
    seen = open_in_child(store_path)
    assert seen == {"locked": False, "count": 1}


def test_second_instance_in_the_same_process_is_refused_until_close(
    store_path: Path, embedder: HashingEmbedder
) -> None:
    first = AgenticMemory(store_path, embedder=embedder)
    note = first.add("owned by the first instance")
    with pytest.raises(StoreLocked, match="close it first"):
        AgenticMemory(store_path, embedder=embedder)
    first.close()
    with AgenticMemory(store_path, embedder=embedder) as second:
        assert second.get(note.id).content == "owned by the first instance"
