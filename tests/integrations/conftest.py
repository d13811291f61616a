"""Fixtures of the adapter tests: two users' notes in one memory."""

from __future__ import annotations

import pytest
from integration_data import ALICE_NOTES, BOB_NOTES

from memory import AgenticMemory


@pytest.fixture
def seeded(mem: AgenticMemory) -> AgenticMemory:
    """``mem`` with six notes of user alice and three of user bob (metadata ``n``: their index)."""
    items = [
        {"content": content, "user_id": user, "metadata": {"n": index}}
        for user, notes in (("alice", ALICE_NOTES), ("bob", BOB_NOTES))
        for index, content in enumerate(notes)
    ]
    mem.add_many(items)
    return mem
