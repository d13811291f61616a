"""The ALFWorld gold trajectories for the procedures tests (skips when the data is absent)."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from memory.model import Trajectory

__all__ = ["GOLD_PATH", "by_id", "gold_items", "gold_trajectories", "observation"]

_REPO = Path(__file__).resolve().parents[2]
GOLD_PATH = (
    Path(os.environ.get("ZETTELMEM_DATA", _REPO.parent / "shared" / "data"))
    / "alfworld"
    / "gold_trajectories.json"
)


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(GOLD_PATH.read_text()))


def gold_items() -> list[dict[str, Any]]:
    """The raw gold items; skips the calling test when the data folder is missing."""
    if not GOLD_PATH.exists():
        pytest.skip(f"ALFWorld gold data not found at {GOLD_PATH}; set ZETTELMEM_DATA")
    return [dict(item) for item in _load()]


def gold_trajectories() -> list[Trajectory]:
    """The gold items as ``Trajectory`` objects (task type kept in metadata)."""
    return [
        Trajectory(
            id=item["id"],
            task=item["task"],
            steps=item["steps"],
            success=item["success"],
            metadata={"type": item["type"]},
        )
        for item in gold_items()
    ]


def by_id(trajectory_id: str) -> Trajectory:
    """One gold trajectory by id."""
    return next(t for t in gold_trajectories() if t.id == trajectory_id)


def observation(item: dict[str, Any], task: str | None = None) -> str:
    """The first observation an agent sees: the room, then "Your task is to: ..."."""
    return f"{item['setting']}\nYour task is to: {task or item['task']}"
