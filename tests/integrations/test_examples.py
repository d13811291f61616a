"""Every example runs as a user would run it from a fresh clone: ``python examples/X.py``.

Each ``examples/*.py`` (found by globbing, so a new example is covered the day it
is added) is copied with ``examples/data`` into a temporary folder -- no
repository, no ``../shared/data`` beside it -- and run as a subprocess from
another temporary folder, with only the installed package to import. The fast
runs use the hashing embedder (``ZETTELMEM_EMBEDDER=hashing``); the slow ones the
default embedder, as a user gets it. Examples with a known output also have it
checked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.py"))


def run_example(name: str, where: Path, *, fast: bool, cache: Path | None = None) -> str:
    clone = where / "clone"
    if not clone.exists():
        shutil.copytree(ROOT / "examples", clone / "examples")
    elsewhere = where / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    env = dict(os.environ)
    # Nothing a user would not have: no data folder, no hub switches.
    for variable in ("ZETTELMEM_DATA", "ZETTELMEM_EMBEDDER", "HF_HUB_OFFLINE"):
        env.pop(variable, None)
    # The copied example puts the clone (which has no package) first on sys.path:
    # the package must come from the installation (or, in a checkout, PYTHONPATH).
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    if fast:
        env["ZETTELMEM_EMBEDDER"] = "hashing"
    if cache is not None:
        env["ZETTELMEM_CACHE_DIR"] = str(cache)
    result = subprocess.run(
        [sys.executable, str(clone / "examples" / f"{name}.py")],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), f"{name} printed nothing"
    return result.stdout


def check_langchain_agent(out: str, fast: bool) -> None:
    later = out.split("=== session 2")[1]
    assert "tool search_memory" in later and "Alice is allergic to peanuts." in later
    assert "search as bob -> []" in out


def check_llamaindex_chat(out: str, fast: bool) -> None:
    later = out.split("=== session thursday ===")[1]
    assert "Relevant memories" in later and "Porto" in later


def check_standalone(out: str, fast: bool) -> None:
    assert re.search(r"\d+ turns from conversation\.json stored", out)
    assert "* " in out  # at least one shown hit is annotated evidence
    recall = re.search(r"evidence recall@5 over \d+ questions: ([01]\.\d{3})", out)
    assert recall is not None
    if not fast:  # the sample's questions each name what their evidence says
        assert float(recall.group(1)) >= 0.5


def check_procedural(out: str, fast: bool) -> None:
    assert "a procedure, as stored:" in out and "Lessons from past tasks" in out
    matched = re.search(r"own type for (\d+)/(\d+) tasks", out)
    assert matched is not None
    if not fast:
        assert int(matched.group(1)) >= int(matched.group(2)) - 1


CHECKS: dict[str, Callable[[str, bool], None]] = {
    "langchain_agent": check_langchain_agent,
    "llamaindex_chat": check_llamaindex_chat,
    "standalone": check_standalone,
    "procedural": check_procedural,
}


def test_every_example_is_found() -> None:
    assert set(CHECKS) <= set(EXAMPLES), "a checked example is missing from examples/"


def test_no_example_reads_outside_the_clone() -> None:
    for name in EXAMPLES:
        source = (ROOT / "examples" / f"{name}.py").read_text(encoding="utf-8")
        assert "shared/data" not in source and '"shared"' not in source, name


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_from_a_fresh_clone(name: str, tmp_path: Path) -> None:
    out = run_example(name, tmp_path, fast=True)
    if name in CHECKS:
        CHECKS[name](out, True)


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One graph cache for the slow runs (the first builds it, the others reuse it)."""
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.mark.slow
@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs_with_the_default_embedder(
    name: str, tmp_path: Path, onnx_cache: Path
) -> None:
    out = run_example(name, tmp_path, fast=False, cache=onnx_cache)
    if name in CHECKS:
        CHECKS[name](out, False)
