"""Nearest-neighbour reads on Chroma, routed by :mod:`memory.store.routing`.

Chroma's ``where`` makes an HNSW query 5-25x slower (measured: 2 ms without, 12-54
ms with, at 10k notes), so when the store may cache (it is the only writer) the
query runs unfiltered, asking for enough hits that ``n`` of them are likely
visible, and the hits are filtered here. The catalog's count of what the scope
sees sizes that fan-out (exactly ``n`` when the scope sees everything); a row
still short of ``n`` is asked again with ``where``, and a scope seeing too small a
share of the store is searched exactly in memory when it is small enough.

A shared store (a server, kept current from the change feed) searches every
scope small enough exactly in memory, whatever its share: each round trip to
the server costs more than the whole in-memory scan (the stacked matrix is kept
between queries until a note of the store changes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from memory.model import Scope
from memory.store.chroma_records import ChromaRecords
from memory.store.chroma_state import SingleWriterState
from memory.store.routing import LOCAL_SCAN_MAX, NOTHING, USE_WHERE, exact_scan_fits, fanout
from memory.store.scope_vectors import EXACT_SCAN_MAX
from memory.store.where import build_where

__all__ = ["routed_nearest"]

Rows = list[list[tuple[str, float]]]


def routed_nearest(
    records: ChromaRecords,
    state: SingleWriterState | None,
    shared: bool,
    visible_ids: Callable[..., set[str]],
    queries: np.ndarray,
    n: int,
    scope: Scope,
    kinds: Sequence[str] | None,
    filters: dict[str, Any] | None,
    exact_scope: bool,
) -> Rows:
    """For each query, up to ``n`` visible ``(id, cosine similarity)``, best first.

    Args:
        records: the collections.
        state: what the store remembers (``None``: nothing; always asked with
            ``where``).
        shared: other processes write the store (its state follows the change feed).
        visible_ids: the store's visibility check for a list of ids.
        queries: one vector per row.
        n: hits per query.
        scope: the read's scope (exactly, with ``exact_scope``).
        kinds: only these kinds.
        filters: the caller's metadata filters.
        exact_scope: unset scope fields must be unset on the note too.
    """
    if n <= 0 or len(queries) == 0:
        return [[] for _ in range(len(queries))]
    where = build_where(scope, kinds=kinds, filters=filters, exact=exact_scope)
    if where is None or state is None:
        return records.query(queries, n, where)
    catalog = state.trusted_catalog()
    seen = None
    if catalog is not None and filters is None:
        if not shared:
            seen = catalog.count_visible(scope, kinds=kinds, exact_scope=exact_scope)
        # A shared store scans every scope that fits (each server round trip costs
        # more than the scan); a single writer the scopes below the measured
        # crossover with Chroma's own query (routing.LOCAL_SCAN_MAX).
        if shared or (seen is not None and 0 < seen <= LOCAL_SCAN_MAX):
            key = (scope, tuple(kinds) if kinds is not None else None, exact_scope, catalog.version)
            members: list[str] | None = []
            if not state.scope_vectors.stacked(key):
                members = catalog.members(scope, kinds=kinds, exact_scope=exact_scope)
            if exact_scan_fits(members):
                return state.scope_vectors.nearest(
                    queries,
                    n,
                    members or [],
                    scope_of=catalog.scope_of,
                    fetch=records.vectors,
                    key=key,
                )
        if shared:
            seen = catalog.count_visible(scope, kinds=kinds, exact_scope=exact_scope)
    total = len(catalog) if catalog is not None else records.count()
    width = fanout(n, total, seen)
    if width == NOTHING:
        return [[] for _ in range(len(queries))]
    if width == USE_WHERE:
        members = None
        if catalog is not None and filters is None:
            members = catalog.members(scope, kinds=kinds, exact_scope=exact_scope)
        if catalog is None or members is None or not exact_scan_fits(members):
            return records.query(queries, n, where)
        return state.scope_vectors.nearest(
            queries, n, members, scope_of=catalog.scope_of, fetch=records.vectors
        )
    if not shared and catalog is not None:

        def too_big(held: Scope) -> bool:
            return (catalog.count_visible(held, exact_scope=True) or 0) > EXACT_SCAN_MAX

        state.scope_vectors.release(scope, exact=exact_scope, too_big=too_big)
    rows = records.query(queries, width, None)
    hit_ids = {note_id for row in rows for note_id, _ in row}
    visible = visible_ids(
        list(hit_ids), scope, kinds=kinds, filters=filters, exact_scope=exact_scope
    )
    out: Rows = []
    for index, row in enumerate(rows):
        kept = [(note_id, sim) for note_id, sim in row if note_id in visible][:n]
        if len(kept) < n and width < total:
            kept = records.query(queries[index : index + 1], n, where)[0]
        out.append(kept)
    return out
