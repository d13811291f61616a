"""Shared fixtures: a fast memory on the deterministic hashing embedder, and the real MiniLM."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture
def embedder() -> HashingEmbedder:
    """Deterministic, model-free embedder for fast tests."""
    return HashingEmbedder()


@pytest.fixture
def mem(embedder: HashingEmbedder) -> Iterator[AgenticMemory]:
    """An in-memory AgenticMemory on the hashing embedder."""
    memory = AgenticMemory(embedder=embedder, link_threshold=0.3)
    yield memory
    memory.close()


@pytest.fixture(scope="session")
def minilm():  # type: ignore[no-untyped-def]
    """The real default embedder (offline all-MiniLM-L6-v2), loaded once."""
    from memory.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()
