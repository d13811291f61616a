"""``--server HOST:PORT``: the commands against a real Chroma server (``chroma run``)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Run, output_json

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chroma") is None, reason="the chroma CLI is not installed"),
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A ``chroma run`` on a free loopback port, stopped afterwards; yields ``host:port``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (tmp_path / "chroma.log").open("wb")
    process = subprocess.Popen(
        ["chroma", "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(900):  # up to 90 s for the heartbeat (a hang guard)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_commands_work_against_a_chroma_server(run: Run, server: str) -> None:
    missing = run("stats", "--server", server)
    assert missing.exit_code == 1 and "no Zettelmem store on the Chroma server" in missing.stderr
    added = output_json(
        run("add", "Ann: I adopted a greyhound", "--server", server, "--json", "--user", "ann")
    )
    hits = output_json(run("search", "greyhound", "--server", server, "--user", "ann", "--json"))
    assert [h["id"] for h in hits] == [added["id"]]
    assert output_json(run("stats", "--server", server, "--json"))["notes"] == 1
    shown = output_json(run("show", added["id"], "--server", server, "--json"))
    assert shown["note"]["content"] == "Ann: I adopted a greyhound"
