"""Vectors of the notes in small scopes, held in memory and searched exactly.

A scope that sees a small share of a large store (one tenant among many) is
slow to search in Chroma: its HNSW index is shared by every scope, so a
filtered query walks far past the scope's own notes (measured at 100k notes
with 100 tenants: 55-75 ms per query, and building such a store fell from 215
to 47 notes/s because every add asks for its link candidates that way). A few
thousand vectors are searched exactly with one matrix product in well under a
millisecond, so such scopes are answered here instead.

Only for a store whose catalog is trusted (a single writer, or a shared store
following the change feed), and only for scopes that have been searched:
vectors are fetched from Chroma on first use, then kept in step with every
write. The stacked matrix of a scope is kept too (``key``), until a note changes.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence

import numpy as np

from memory.model import Scope

__all__ = ["ScopeVectors", "EXACT_SCAN_MAX"]

EXACT_SCAN_MAX = 20_000
"""Largest set of notes searched exactly (stacking more per query costs more than Chroma)."""
_STACKS_KEPT = 8  # stacked matrices kept at once (one per scope and kind filter searched)


class ScopeVectors:
    """Normalised vectors by note id, for the scopes that have needed them.

    The vectors are rows of one growing matrix, so that the matrix of a scope is one
    indexed copy (``np.stack`` of per-note arrays cost ~1 ms per 700 notes, and it was
    paid again after every write, since a write changes which notes a scope holds).
    """

    def __init__(self) -> None:
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._free: list[int] = []  # rows of forgotten notes, reused first
        self._used = 0  # rows ever handed out (the matrix's filled prefix)
        self._scopes: set[Scope] = set()
        self._note_scopes: dict[str, Scope | None] = {}  # the scope of each row's note
        # key -> (the ids present, their stacked vectors); emptied by every change
        self._stacked: dict[Hashable, tuple[list[str], np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget everything (after a write that may or may not have landed)."""
        self._stacked.clear()
        self._rows.clear()
        self._free.clear()
        self._used = 0
        self._scopes.clear()
        self._note_scopes.clear()

    def record(self, written: Iterable[tuple[str, Scope, np.ndarray]]) -> None:
        """Keep the new vectors of notes in scopes held here; others are fetched when needed."""
        self._stacked.clear()
        for note_id, scope, vector in written:
            if scope in self._scopes:
                self._put(note_id, vector, scope)
            else:
                self._drop(note_id)

    def forget(self, note_ids: Iterable[str]) -> None:
        """Drop deleted notes."""
        self._stacked.clear()
        for note_id in note_ids:
            self._drop(note_id)

    def release(
        self, scope: Scope, *, exact: bool = False, too_big: Callable[[Scope], bool]
    ) -> None:
        """Stop holding the notes of the held scopes ``scope`` sees that are ``too_big``.

        A single writer scans a scope in memory only while it is small; once one of
        its scopes has grown past every exact scan, keeping its vectors in step with
        every write would only cost memory. A held scope that some read may still
        scan stays (letting it go would refetch its vectors at that read).

        Args:
            scope: the read that went to Chroma.
            exact: ``scope`` was read exactly (only an equal scope is seen).
            too_big: whether a held scope has grown past any exact scan.
        """
        released = {
            held
            for held in self._scopes
            if (held == scope or (not exact and scope.admits(held))) and too_big(held)
        }
        if not released:
            return
        self._stacked.clear()
        self._scopes -= released
        for note_id in [i for i, held in self._note_scopes.items() if held in released]:
            self._drop(note_id)

    def _put(self, note_id: str, vector: np.ndarray, scope: Scope | None) -> None:
        row = _normalised(vector).reshape(-1)
        if self._matrix.shape[1] != row.shape[0]:
            if self._rows:  # another dimension: the vectors held so far are not comparable
                self.clear()
            self._matrix = np.zeros((16, row.shape[0]), dtype=np.float32)
        at = self._rows.get(note_id)
        if at is None:
            if self._free:
                at = self._free.pop()
            else:
                if self._used == len(self._matrix):
                    grown = np.zeros((2 * len(self._matrix), row.shape[0]), dtype=np.float32)
                    grown[: self._used] = self._matrix[: self._used]
                    self._matrix = grown
                at, self._used = self._used, self._used + 1
            self._rows[note_id] = at
        self._matrix[at] = row
        self._note_scopes[note_id] = scope

    def _drop(self, note_id: str) -> None:
        at = self._rows.pop(note_id, None)
        self._note_scopes.pop(note_id, None)
        if at is not None:
            self._free.append(at)

    def nearest(
        self,
        queries: np.ndarray,
        n: int,
        ids: Sequence[str],
        *,
        scope_of: Callable[[str], Scope | None],
        fetch: Callable[[list[str]], dict[str, np.ndarray]],
        key: Hashable | None = None,
    ) -> list[list[tuple[str, float]]]:
        """For each query, the ``n`` most cosine-similar of ``ids`` as ``(id, similarity)``.

        Args:
            queries: one query vector per row.
            n: hits per query.
            ids: the notes the scope sees (all of them: the scan is exact).
            scope_of: each note's scope, so its later writes keep its vector here.
            fetch: reads the vectors of the given ids from the store.
            key: names ``ids`` (e.g. the scope and the catalog's version): the
                stacked matrix is kept under it for the next query.
        """
        stacked = self._stacked.get(key) if key is not None else None
        if stacked is None:
            stacked = self._stack(ids, scope_of, fetch)
            if key is not None:
                if len(self._stacked) >= _STACKS_KEPT:
                    self._stacked.clear()
                self._stacked[key] = stacked
        return _ranked(queries, n, *stacked)

    def stacked(self, key: Hashable) -> bool:
        """Whether the matrix named ``key`` is kept (its ids need not be listed)."""
        return key in self._stacked

    def _stack(
        self,
        ids: Sequence[str],
        scope_of: Callable[[str], Scope | None],
        fetch: Callable[[list[str]], dict[str, np.ndarray]],
    ) -> tuple[list[str], np.ndarray]:
        missing = [note_id for note_id in ids if note_id not in self._rows]
        if missing:
            for note_id, vector in fetch(missing).items():
                scope = scope_of(note_id)
                self._put(note_id, vector, scope)
                if scope is not None:
                    self._scopes.add(scope)
        present = [note_id for note_id in ids if note_id in self._rows]
        if not present:
            return present, np.zeros((0, 0), dtype=np.float32)
        return present, self._matrix[[self._rows[note_id] for note_id in present]]


def _ranked(
    queries: np.ndarray, n: int, present: list[str], matrix: np.ndarray
) -> list[list[tuple[str, float]]]:
    """For each query, the ``n`` rows of ``matrix`` most similar, as ``(id, similarity)``."""
    if not present or n <= 0:
        return [[] for _ in range(len(queries))]
    similarities = _normalised(queries) @ matrix.T
    take = min(n, len(present))
    rows: list[list[tuple[str, float]]] = []
    for row in similarities:
        candidates = np.arange(len(row))
        if take < len(row):
            # Everything at least as similar as the take-th best, so that equal
            # scores at the boundary are settled by order, not by the partition.
            boundary = np.partition(row, len(row) - take)[len(row) - take]
            candidates = np.flatnonzero(row >= boundary)
        best = candidates[np.argsort(-row[candidates], kind="stable")][:take]
        rows.append([(present[i], float(row[i])) for i in best])
    return rows


def _normalised(vectors: np.ndarray) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    return array / np.where(norms == 0, 1.0, norms)
