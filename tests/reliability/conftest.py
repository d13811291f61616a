"""Fixtures of the reliability suites (the shared ``mem`` / ``embedder`` live in tests/conftest)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_support import COUNTERS

from memory import AgenticMemory
from memory.embed import HashingEmbedder


@pytest.fixture(scope="session", autouse=True)
def reliability_report() -> Iterator[None]:
    """Write the suites' counters to ``$ZETTELMEM_RELIABILITY_REPORT`` when the session ends."""
    yield
    COUNTERS.dump()


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """A fresh folder for a persistent store."""
    path = tmp_path / "store"
    path.mkdir()
    return path


@pytest.fixture
def persistent_mem(store_path: Path, embedder: HashingEmbedder) -> Iterator[AgenticMemory]:
    """A persistent AgenticMemory on the hashing embedder, closed afterwards."""
    memory = AgenticMemory(store_path, embedder=embedder, link_threshold=0.3)
    yield memory
    memory.close()
