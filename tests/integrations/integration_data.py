"""Shared data of the adapter tests (a module, not the conftest, so tests can import it)."""

from __future__ import annotations

import pytest

from memory import AgenticMemory

__all__ = ["ALICE_NOTES", "BOB_NOTES", "requires_procedural"]

ALICE_NOTES = [
    "Alice is allergic to peanuts and carries an epipen.",
    "Alice adopted a beagle called Rex from the shelter.",
    "Alice works night shifts as a nurse at the city hospital.",
    "Alice is training for the Lisbon marathon in October.",
    "Alice's favourite dish is mushroom risotto.",
    "Alice plays tennis with her sister every Sunday.",
]
BOB_NOTES = [
    "Bob is allergic to cats and sneezes around them.",
    "Bob owns a red bicycle he rides to work.",
    "Bob's favourite dish is spicy ramen.",
]

requires_procedural = pytest.mark.skipif(
    not all(hasattr(AgenticMemory, name) for name in ("learn", "recall")),
    reason="AgenticMemory.learn / recall (procedural memory) not available yet",
)
