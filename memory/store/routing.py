"""Pure decisions of the Chroma store: how wide to ask, and which path a scope takes.

Chroma's ``where`` makes an HNSW query 5-25x slower (measured: 2 ms without, 12-54
ms with, at 10k notes), so a single-writer store asks unfiltered for enough hits
that ``n`` of them are likely visible and filters them itself; a scope that sees a
small share of the store is searched exactly in memory instead (see
:mod:`memory.store.scope_vectors`). These functions take counts and return the
decision; :class:`~memory.store.chroma.ChromaNoteStore` does the I/O.
"""

from __future__ import annotations

import math

from memory.store.scope_vectors import EXACT_SCAN_MAX

__all__ = ["LOCAL_SCAN_MAX", "NOTHING", "USE_WHERE", "exact_scan_fits", "fanout"]

NOTHING = 0
"""``fanout``: the scope sees no note, so there is nothing to ask."""
USE_WHERE = -1
"""``fanout``: the scope sees too small a share; ask with a ``where`` clause (or exactly)."""


LOCAL_SCAN_MAX = 2_000
"""Largest scope a single-writer store searches exactly in memory rather than with
Chroma's unfiltered query. Measured here (search p50, hashing embedder, a write
between searches so the scope's matrix is rebuilt each time): at 1k notes 4.6-4.9
ms in memory vs 5.7-5.8 ms through Chroma; at 5k 10.7-12.2 vs 4.3-6.1 ms. Without
writes between, the kept matrix wins at every size up to 10k."""


def fanout(n: int, total: int, seen: int | None) -> int:
    """How many hits to ask Chroma for, unfiltered, so that ``n`` are likely visible.

    Args:
        n: hits wanted.
        total: notes stored.
        seen: notes the read's scope sees (``None``: unknown).

    Returns:
        A count of hits, :data:`NOTHING`, or :data:`USE_WHERE`.
    """
    if total == 0:
        return NOTHING
    if seen is None:
        # Unknown share: 4x covers a scope holding most notes. (A fixed floor would
        # make link-candidate queries, n=8, read 25x too much.)
        return min(total, 4 * n)
    if seen == 0:
        return NOTHING
    if seen == total:
        return min(total, n)
    # 1.5x margin over the expected share; past 8x the filtered query is cheaper.
    wanted = math.ceil(1.5 * n * total / seen)
    return min(total, wanted) if wanted <= 8 * n else USE_WHERE


def exact_scan_fits(members: list[str] | None) -> bool:
    """Whether a scope's notes (``None``: not listable) are few enough to search exactly."""
    return members is not None and len(members) <= EXACT_SCAN_MAX
