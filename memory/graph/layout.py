"""Node positions for the graph page, computed once in Python so the browser only draws.

A Fruchterman-Reingold force layout in numpy: linked notes attract, every note
repels the others, a weak pull keeps unlinked notes near the middle. With many
notes each step measures repulsion against a random sample of the others
(scaled up to the full count), which keeps a step linear in the note count
while the sample changes every step, so no note is systematically ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["force_layout"]

REPULSION_SAMPLE = 768
"""Notes each step measures repulsion against (all of them below this count)."""
_CHUNK = 512


def force_layout(
    count: int,
    edges: Sequence[tuple[int, int]],
    *,
    iterations: int | None = None,
    seed: int = 0,
    spread: float = 40.0,
) -> np.ndarray:
    """``(count, 2)`` positions; linked nodes end up near each other.

    Args:
        count: number of nodes.
        edges: index pairs of linked nodes.
        iterations: layout steps (default: fewer for larger graphs).
        seed: the random start (same input, same picture).
        spread: the ideal edge length, in the page's pixels.
    """
    if count == 0:
        return np.zeros((0, 2), dtype=np.float32)
    rng = np.random.default_rng(seed)
    steps = iterations if iterations is not None else (80 if count <= 1000 else 45)
    radius = spread * np.sqrt(count)
    pos = rng.uniform(-radius / 2, radius / 2, size=(count, 2)).astype(np.float32)
    if count == 1:
        return pos * 0
    pairs = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    ideal = np.float32(spread)
    temperature = radius / 8
    cooling = (0.02) ** (1.0 / steps)
    for _ in range(steps):
        disp = _repulsion(pos, rng, ideal)
        if len(pairs):
            delta = pos[pairs[:, 0]] - pos[pairs[:, 1]]
            dist = np.sqrt((delta**2).sum(axis=1, keepdims=True)) + 1e-3
            pull = delta * dist / ideal
            for axis in (0, 1):  # bincount sums per node far faster than np.add.at
                disp[:, axis] -= np.bincount(pairs[:, 0], pull[:, axis], minlength=count)
                disp[:, axis] += np.bincount(pairs[:, 1], pull[:, axis], minlength=count)
        disp -= pos * (0.02 / steps * 40)
        length = np.sqrt((disp**2).sum(axis=1, keepdims=True)) + 1e-6
        pos += disp / length * np.minimum(length, temperature)
        temperature *= cooling
    pos -= pos.mean(axis=0)
    return pos


def _repulsion(pos: np.ndarray, rng: np.random.Generator, ideal: np.float32) -> np.ndarray:
    """Each node's push away from the others (k^2 / d), from a sample when large."""
    count = len(pos)
    if count > REPULSION_SAMPLE:
        others = pos[rng.choice(count, REPULSION_SAMPLE, replace=False)]
        scale = np.float32(count / REPULSION_SAMPLE)
    else:
        others, scale = pos, np.float32(1.0)
    strength = ideal * ideal * scale
    ox, oy = others[:, 0], others[:, 1]
    disp = np.empty_like(pos)
    # x and y apart: 2-D temporaries only, a few times faster than one (n, m, 2) array.
    for start in range(0, count, _CHUNK):
        block = pos[start : start + _CHUNK]
        dx = block[:, 0, None] - ox[None, :]
        dy = block[:, 1, None] - oy[None, :]
        weight = strength / (dx * dx + dy * dy + np.float32(1e-2))
        disp[start : start + _CHUNK, 0] = (dx * weight).sum(axis=1)
        disp[start : start + _CHUNK, 1] = (dy * weight).sum(axis=1)
    return disp
