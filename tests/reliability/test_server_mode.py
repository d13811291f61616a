"""Server mode: the core behaviour against a real Chroma server through ``HttpClient``.

A session-scoped fixture starts ``chroma run --path <tmp> --host 127.0.0.1 --port <free>``
(and stops it at the end); every test uses its own collection prefix on it. The
restart test runs its own server, stops it mid-use -- calls must fail with
``StoreUnavailable`` / ``StoreError``, never a raw transport error, and must not
corrupt anything -- then starts it again on the same folder: the same
``AgenticMemory`` carries on with every note intact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import COUNTERS, checked_invariants, invariant_violations, scale

from memory import AgenticMemory, NotFound, StoreError, StoreUnavailable
from memory.embed import HashingEmbedder

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        shutil.which("chroma") is None,
        reason="the chroma CLI is not installed (pip install chromadb), so no server can start",
    ),
]

START_WAIT = 90.0  # seconds to wait for the heartbeat (hang guard, not an assertion)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ChromaServer:
    """A ``chroma run`` process on a folder and a port, startable and stoppable."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = folder.with_suffix(".log")

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["chroma", "run", "--path", str(self.folder), "--host", "127.0.0.1"]
                + ["--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_WAIT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-2000:]}")
            try:
                url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
                with urllib.request.urlopen(url, timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chroma run did not answer: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> Any:
        import chromadb
        from chromadb.config import Settings

        return chromadb.HttpClient(
            host="127.0.0.1", port=self.port, settings=Settings(anonymized_telemetry=False)
        )


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "data")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def remote(chroma_server: ChromaServer) -> Iterator[AgenticMemory]:
    """An AgenticMemory on the shared server, in collections of its own."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    mem = AgenticMemory(
        client=chroma_server.client(),
        embedder=HashingEmbedder(),
        collection_prefix=prefix,
        link_threshold=0.3,
    )
    yield mem
    mem.close()


TURNS = [
    "Melanie: I signed up for a pottery class yesterday!",
    "Caroline: Pottery sounds fun! Are you making clay bowls in the class?",
    "Melanie: Yes, the pottery class teaches clay bowls and mugs.",
    "Caroline: I went hiking in the mountains with my dog last weekend.",
]


def test_add_search_links_and_delete(remote: AgenticMemory) -> None:
    notes = [remote.add(t, user_id="u1", metadata={"turn": i}) for i, t in enumerate(TURNS)]
    assert remote.search("pottery class clay bowls", k=3, user_id="u1")[0].note.id in {
        n.id for n in notes[:3]
    }
    assert remote.get(notes[2].id).links, "related notes link on the server too"
    assert checked_invariants(remote, "server") == []
    gone = remote.delete(notes[1].id)
    assert gone.id == notes[1].id
    with pytest.raises(NotFound):
        remote.get(notes[1].id)
    assert remote.history(notes[1].id)[-1].action == "delete"
    assert all(notes[1].id not in n.links for n in remote.notes())
    assert remote.get(notes[0].id).metadata == {"turn": 0}
    assert checked_invariants(remote, "server") == []
    COUNTERS.add("server", runs=1)


def test_scopes_are_isolated_on_the_server(remote: AgenticMemory) -> None:
    mine = remote.add(TURNS[0], user_id="u1")
    theirs = remote.add(TURNS[0], user_id="u2")
    hits = remote.search("pottery class", user_id="u1")
    assert [h.note.id for h in hits] == [mine.id]
    with pytest.raises(NotFound):
        remote.get(theirs.id, user_id="u1")
    assert remote.get(theirs.id).links == {}, "same text, other user: never linked"
    assert remote.delete_all(user_id="u2") == 1
    assert remote.count() == 1
    COUNTERS.add("server", runs=1, leaks=0)


def test_procedures_are_learned_and_recalled_from_an_observation_on_the_server(
    remote: AgenticMemory,
) -> None:
    runs = [
        ("Buy a red kettle and check out.", ["search[red kettle]", "click[Buy now]"]),
        ("Help ana@mail.com get back into their account.", ["click[Forgot]", "type[ana]"]),
        ("Buy a blue lamp and check out.", ["search[blue lamp]", "click[Buy now]"]),
    ]
    for number, (task, actions) in enumerate(runs):
        steps = [{"action": a, "observation": "ok"} for a in actions]
        remote.learn(
            {"id": f"run{number}", "task": task, "steps": steps, "success": True}, user_id="u1"
        )
    # The observation's parts are embedded and compared with the server's stored tasks.
    observation = "Shop - Home\n[Search box] [Account] [Help]\nBuy a brown teapot and check out."
    hits = remote.recall(observation, user_id="u1", k=1)
    assert hits and hits[0].note.metadata["distilled"]["task"].startswith("Buy a")
    assert remote.recall(observation, user_id="u2", k=3) == []


def test_a_second_instance_sees_the_data(chroma_server: ChromaServer) -> None:
    """Persistence and sharing: a new client and instance on the same collections."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    first = AgenticMemory(
        client=chroma_server.client(), embedder=HashingEmbedder(), collection_prefix=prefix
    )
    notes = first.add_many([{"content": t, "user_id": "u1"} for t in TURNS])
    second = AgenticMemory(
        client=chroma_server.client(), embedder=HashingEmbedder(), collection_prefix=prefix
    )
    try:
        assert second.count() == len(TURNS)
        assert second.search("hiking dog mountains", user_id="u1")[0].note.id == notes[3].id
        updated = second.update(notes[0].id, metadata={"seen": "by the second"})
        assert eventually(lambda: first.get(notes[0].id).metadata == updated.metadata), (
            "the first instance's cache follows the change feed"
        )
        assert invariant_violations(second) == []
    finally:
        first.close()
        second.close()
    COUNTERS.add("server", runs=1)


def eventually(check: Any, timeout: float = 30.0) -> bool:
    """Whether ``check()`` becomes true within ``timeout`` seconds (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return bool(check())


def test_another_clients_writes_reach_this_processs_searches(chroma_server: ChromaServer) -> None:
    """A reader's catalog, cache and index follow a second client's add, update and delete."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    reader, writer = (
        AgenticMemory(
            client=chroma_server.client(), embedder=HashingEmbedder(), collection_prefix=prefix
        )
        for _ in range(2)
    )

    def contents(query: str, user: str = "u1") -> list[str]:
        return [h.note.content for h in reader.search(query, k=5, user_id=user)]

    try:
        reader.add(TURNS[0], user_id="u1")
        assert contents("pottery") == [TURNS[0]]
        note = writer.add("Caroline: my quokka photo won the contest", user_id="u1")
        other = writer.add("Gina: my quokka boutique opened", user_id="u2")
        assert eventually(lambda: note.content in contents("quokka photo contest"))
        assert other.content not in contents("quokka boutique opened"), "scopes stay apart"
        assert other.content in contents("quokka boutique opened", user="u2")
        writer.update(note.id, content="Caroline: my wombat photo won the contest")
        assert eventually(lambda: "Caroline: my wombat photo won the contest" in contents("wombat"))
        writer.delete(note.id)
        assert eventually(lambda: all("photo" not in c for c in contents("wombat photo contest")))
        with pytest.raises(NotFound):
            reader.get(note.id)
    finally:
        reader.close()
        writer.close()
    COUNTERS.add("server", runs=1, leaks=0)


def test_two_writers_on_one_server_keep_links_symmetric(chroma_server: ChromaServer) -> None:
    """Several processes may share a server: concurrent writers must not lose link updates."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    writers = [
        AgenticMemory(
            client=chroma_server.client(),
            embedder=HashingEmbedder(),
            collection_prefix=prefix,
            link_threshold=0.3,
        )
        for _ in range(2)
    ]
    errors: list[BaseException] = []

    def write(mem: AgenticMemory, who: int) -> None:
        try:
            for i in range(15):
                mem.add(f"pottery class clay bowls kiln glaze, writer {who} turn {i}", user_id="u")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(m, i)) for i, m in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        assert writers[0].count() == 30
        problems = invariant_violations(writers[0])
        COUNTERS.add("server_two_writers", runs=30, link_updates_lost=len(problems))
        assert problems == [], problems[:5]
    finally:
        for mem in writers:
            mem.close()


def test_server_restart_gives_a_clear_error_and_the_memory_recovers(tmp_path: Path) -> None:
    server = ChromaServer(tmp_path / "data")
    server.start()
    try:
        mem = AgenticMemory(
            client=server.client(),
            embedder=HashingEmbedder(),
            collection_prefix="restart",
            link_threshold=0.3,
        )
        notes = mem.add_many([{"content": t, "user_id": "u1"} for t in TURNS])
        spare_client = server.client()
        server.stop()
        with pytest.raises(StoreUnavailable):
            AgenticMemory(client=spare_client, embedder=HashingEmbedder(), collection_prefix="x")
        failures: list[BaseException] = []
        for call in (
            lambda: mem.add("written while the server is down", user_id="u1"),
            lambda: mem.search("pottery", user_id="u1"),
            lambda: mem.get(notes[0].id),
            lambda: mem.delete(notes[3].id),
        ):
            with pytest.raises(StoreError) as raised:
                call()
            failures.append(raised.value)
        assert all(isinstance(f, StoreUnavailable) for f in failures), [
            type(f).__name__ for f in failures
        ]
        assert all("unreachable" in str(f) for f in failures)
        server.start()
        assert mem.count() == len(TURNS), "nothing written while down; nothing lost"
        after = mem.add("Melanie: the kiln fired the clay bowls", user_id="u1")
        hits = mem.search("kiln fired clay bowls", k=5, user_id="u1")
        assert after.id in {h.note.id for h in hits}
        assert [mem.get(n.id).content for n in notes] == TURNS
        mem.delete(notes[3].id)
        assert checked_invariants(mem, "server") == []
        lost = sum(1 for n in notes[:3] if mem.get(n.id).content not in TURNS)
        COUNTERS.add("server", runs=1, restarts=1, data_lost=lost)
        mem.close()
    finally:
        server.stop()


CHILD = Path(__file__).with_name("scaleout_child.py")


def _writer(server: ChromaServer, prefix: str, who: int, n: int, journal: Path) -> Any:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(server.port), prefix, str(who), str(n), str(journal)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _journal(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.slow
def test_four_writers_on_one_scope_lose_nothing_and_killed_writers_are_repaired(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    """>= 4 writer processes, the same scope, adds with links and evolution, updates,
    deletes, and one writer SIGKILLed mid-run: afterwards (repair on open) every link
    is symmetric and points at a live note of its scope, every acknowledged note and
    change is there with its history, nothing leaks across scopes."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    writers, adds = 4, scale(200, minimum=20)
    journals = [tmp_path / f"writer{i}.jsonl" for i in range(writers + 1)]
    procs = [_writer(chroma_server, prefix, i, adds, journals[i]) for i in range(writers)]
    victim = _writer(chroma_server, prefix, writers, adds, journals[writers])
    while len(_journal(journals[writers])) < max(10, adds // 10) and victim.poll() is None:
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err.decode()[-3000:]
    entries = [e for path in journals for e in _journal(path)]
    added = {e["id"]: e["scope"] for e in entries if e["op"] == "add"}
    deleted = {e["id"] for e in entries if e["op"] == "delete"}
    updated = {e["id"] for e in entries if e["op"] == "update"} - deleted
    assert len([e for e in entries if e["op"] == "add"]) >= writers * adds

    mem = AgenticMemory(
        client=chroma_server.client(),
        embedder=HashingEmbedder(),
        collection_prefix=prefix,
        link_threshold=0.3,
    )
    try:
        problems = checked_invariants(mem, "server_scaleout")
        assert problems == [], problems[:10]
        stored = {n.id: n for n in mem.notes()}
        lost = [i for i in added if i not in deleted and i not in stored]
        resurrected = [i for i in deleted if i in stored]
        assert not lost, f"acknowledged notes missing: {lost[:5]}"
        assert not resurrected, resurrected[:5]
        for note_id in updated:
            assert any(e.action == "update" for e in mem.history(note_id)), note_id
        for note_id in deleted:
            # (a writer that linked to it concurrently may have appended after the
            # delete event; its link itself was dropped, as the invariants show)
            assert any(e.action == "delete" for e in mem.history(note_id)), note_id
        leaks = [
            (a, b)
            for a, note in stored.items()
            for b in note.links
            if stored[b].scope != note.scope
        ]
        hits = mem.search("pottery class clay", k=20, user_id="own-0")
        leaks += [(h.note.id, "own-0") for h in hits if h.note.user_id != "own-0"]
        assert not leaks
        shared = sum(1 for n in stored.values() if n.user_id == "shared")
        linked = sum(1 for n in stored.values() if n.user_id == "shared" and n.links)
        assert linked > shared // 2, "the writers' notes linked to each other"
        COUNTERS.add(
            "server_scaleout",
            runs=len(added),
            writers=writers + 1,
            killed=1,
            data_lost=len(lost) + len(resurrected),
            leaks=len(leaks),
        )
    finally:
        mem.close()
