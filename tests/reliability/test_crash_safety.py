"""Crash safety: a child ingesting with ``add_many`` / ``add`` (and deleting) is SIGKILLed.

Each kill point: start ``crash_child.py`` on the same store, kill it at a random
moment (mostly mid-ingest, sometimes while it is still opening / repairing), reopen
the store and check the guarantee: every note whose ``add`` returned is present with
its content, metadata and scope; a note whose ``delete`` returned is gone (its history
still readable); an interrupted delete is either undone or finished, never half-done;
no link to a missing note, links symmetric and in-scope, every note has its vector
and a ``create`` event, and the dense index finds every note by its own vector.
Finally ingest resumes on the same store.
"""

from __future__ import annotations

import json
import logging
import os
import random
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_support import (
    COUNTERS,
    checked_invariants,
    invariant_violations,
    raw_notes,
    scale,
)

from memory import AgenticMemory, NotFound, Scope, StoreUnavailable
from memory.embed import HashingEmbedder
from memory.store import StoredNote

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]
READY_WAIT = 120.0  # seconds a child may take to open the store (hang guard, not an assert)


@dataclass
class Journal:
    """What the killed children were told had happened."""

    added: dict[str, dict[str, Any]] = field(default_factory=dict)
    delete_started: set[str] = field(default_factory=set)
    delete_done: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> Journal:
        journal = cls()
        if not path.exists():
            return journal
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # a line cut by the kill: the call had not returned
                continue
            ids = record.get("ids") or [record["id"]]
            if record["op"] == "add":
                journal.added[record["id"]] = record
            elif record["op"] == "delete-start":
                journal.delete_started.update(ids)
            else:
                journal.delete_done.update(ids)
        return journal


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("HF_HUB_OFFLINE", "1")
    env["ANONYMIZED_TELEMETRY"] = "False"
    return env


def kill_child_at_random(store: Path, journal: Path, seed: int, rng: random.Random) -> None:
    """Run one child and SIGKILL it at a random moment; fail if it died on its own."""
    log = journal.with_suffix(f".{seed}.stderr")
    with log.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(store), str(journal), str(seed)],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=child_env(),
            text=True,
        )
        assert child.stdout is not None
        try:
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0.8, 2.4))  # may land in import, open, repair or ingest
            else:
                readable, _, _ = select.select([child.stdout], [], [], READY_WAIT)
                line = child.stdout.readline() if readable else ""
                assert line.strip() == "ready", f"child never opened the store: {log.read_text()}"
                time.sleep(rng.uniform(0.05, 2.5))
            assert child.poll() is None, f"child died by itself: {log.read_text()[-3000:]}"
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait()
            child.stdout.close()


class RepairLog(logging.Handler):
    """Catches the engine's "repaired the store on open" warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.repairs: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "repaired the store" in record.getMessage():
            self.repairs.append(record.getMessage())


def open_and_repair(store: Path) -> tuple[AgenticMemory, list[str]]:
    """Open the store (which runs repair) and return what the repair pass reported."""
    catcher, engine = RepairLog(), logging.getLogger("memory")
    engine.addHandler(catcher)
    try:
        return AgenticMemory(store, embedder=HashingEmbedder(), link_threshold=0.3), catcher.repairs
    finally:
        engine.removeHandler(catcher)


def check_after_crash(store: Path, journal: Journal) -> dict[str, int]:
    """Reopen the store (running repair) and check every promise; return the tallies."""
    mem, repairs = open_and_repair(store)
    COUNTERS.add("crash", reopens_repaired=int(bool(repairs)))
    try:
        stored = raw_notes(mem)
        lost = []
        for note_id, record in journal.added.items():
            if note_id in journal.delete_started:
                continue
            found = stored.get(note_id)
            if (
                found is None
                or found.note.content != record["content"]
                or found.note.metadata != record["metadata"]
                or found.note.scope != Scope(user_id=record["user_id"], run_id=record["run_id"])
            ):
                lost.append(note_id)
        resurrected = sorted(journal.delete_done & set(stored))
        for note_id in journal.delete_started - set(stored):
            events = mem.history(note_id)
            assert events[0].action == "create" and events[-1].action == "delete", note_id
        for note_id in journal.delete_done:
            with pytest.raises(NotFound):
                mem.get(note_id)
        unfindable = []
        by_scope: dict[Scope, list[StoredNote]] = {}
        for stored_note in stored.values():
            by_scope.setdefault(stored_note.note.scope, []).append(stored_note)
        for scope, group in by_scope.items():
            vectors = np.stack([s.vector for s in group if s.vector is not None])
            assert len(vectors) == len(group), "a note without its vector"
            hits = mem._store.nearest(vectors, scope, 3, exact_scope=True)
            for stored_note, near in zip(group, hits, strict=True):
                if stored_note.note.id not in [note_id for note_id, _ in near]:
                    unfindable.append(stored_note.note.id)
        violations = checked_invariants(mem, "crash")
        again = mem.repair()
        COUNTERS.add("crash", data_lost=len(lost) + len(resurrected))
        assert not lost, f"notes whose add returned are missing or changed: {lost}"
        assert not resurrected, f"deleted notes came back: {resurrected}"
        assert not violations, violations
        assert not unfindable, f"notes the vector index cannot find: {unfindable}"
        assert not any(again.values()), f"repair on open left work for a second pass: {again}"
        return {
            "notes": len(stored),
            "added": len(journal.added),
            "interrupted_deletes": len(journal.delete_started - journal.delete_done),
        }
    finally:
        mem.close()


def resume_ingest(store: Path, before: int) -> None:
    """After the crashes the same store takes new notes and finds them."""
    with AgenticMemory(store, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        assert mem.count() == before
        notes = mem.add_many(
            [{"content": f"zebra crossing resumed ingest {i}", "user_id": "u9"} for i in range(8)]
        )
        extra = mem.add("zebra stripes after the crashes", user_id="u9")
        assert mem.count() == before + 9
        hits = mem.search("zebra crossing resumed ingest", k=9, user_id="u9")
        assert {h.note.id for h in hits} == {n.id for n in notes} | {extra.id}
        assert not invariant_violations(mem)


def crash_cycles(tmp_path: Path, kills: int, seed: int) -> None:
    """``kills`` kill points on one store, each followed by reopen-and-check."""
    rng = random.Random(seed)
    store, journal_path = tmp_path / "store", tmp_path / "journal.jsonl"
    stats: dict[str, int] = {}
    for cycle in range(kills):
        kill_child_at_random(store, journal_path, seed * 1000 + cycle, rng)
        stats = check_after_crash(store, Journal.read(journal_path))
        COUNTERS.add("crash", runs=1)
    assert stats["added"] > kills, "the children ingested too little for the test to mean much"
    COUNTERS.add(
        "crash", notes_checked=stats["added"], interrupted_deletes=stats["interrupted_deletes"]
    )
    resume_ingest(store, stats["notes"])


def test_a_few_kill_points_lose_nothing(tmp_path: Path) -> None:
    crash_cycles(tmp_path, kills=3, seed=7)


@pytest.mark.slow
def test_many_kill_points_lose_nothing(tmp_path: Path) -> None:
    crash_cycles(tmp_path, kills=scale(22, minimum=20), seed=20240601)


def test_reopen_in_process_sees_what_another_process_wrote(tmp_path: Path) -> None:
    """close() must drop Chroma's per-process cache of the path, or a reopen reads stale state."""
    store = tmp_path / "store"
    with AgenticMemory(store, embedder=HashingEmbedder()) as mem:
        assert mem.count() == 0
    writer = (
        "import sys\n"
        "from memory import AgenticMemory\n"
        "from memory.embed import HashingEmbedder\n"
        "with AgenticMemory(sys.argv[1], embedder=HashingEmbedder()) as mem:\n"
        "    mem.add_many([f'otter note {i} about rivers' for i in range(5)], batch_size=2)\n"
    )
    subprocess.run([sys.executable, "-c", writer, str(store)], env=child_env(), check=True)
    with AgenticMemory(store, embedder=HashingEmbedder()) as mem:
        assert mem.count() == 5
        assert len(mem.search("otter rivers", k=5)) == 5
        assert not invariant_violations(mem)


def fail_next_neighbour_update(mem: AgenticMemory) -> None:
    """Make the store's next metadata-only write (the neighbours' side) fail once."""
    collection = mem._store._notes
    real_update = collection.update

    def failing_update(**kwargs: Any) -> Any:
        collection.update = real_update
        raise ConnectionError("connection refused (injected between the two writes of an add)")

    collection.update = failing_update


def test_a_store_failure_mid_add_stores_nothing(embedder: HashingEmbedder) -> None:
    """The new note is written first, its neighbours' links second: if the second
    write fails, the caller gets StoreUnavailable and the first is taken back, so
    a retry does not store the note twice."""
    with AgenticMemory(embedder=embedder, link_threshold=0.3) as mem:
        first = mem.add("pottery class clay bowls", user_id="u")
        fail_next_neighbour_update(mem)
        with pytest.raises(StoreUnavailable):
            mem.add("pottery class clay bowls again", user_id="u")
        assert mem.count() == 1 and mem.get(first.id).links == {}
        assert invariant_violations(mem) == []
        fail_next_neighbour_update(mem)
        with pytest.raises(StoreUnavailable):
            mem.add_many(["pottery class one", "pottery class two"], batch_size=1)
        assert mem.count() == 2, "the first batch was acknowledged; the failed one is gone"
        assert invariant_violations(mem) == []
        retried = mem.add("pottery class clay bowls again", user_id="u")
        assert mem.count() == 3 and first.id in retried.links
        assert invariant_violations(mem) == []
        COUNTERS.add("crash", injected_failures=2)
