"""``QueryVectors``: a small, bounded cache of query embeddings shared by search and recall.

An agent that consults memory before its first model call typically recalls
procedures for the request and then searches notes for the same request: two
query encodes, each the largest cost of its call. Here each query text is encoded
once, and ``recall`` encodes its generalised key and the raw request in one batch
(about the cost of one encode for short texts), so the search that follows finds
its vector ready.

Only queries go through this cache, never note ingestion: a note's vector is
computed once and stored. Entries are keyed by the exact text; the cache belongs to
one embedder and empties itself when the memory's embedder is replaced. Least
recently used entries leave first. Thread-safe; encoding runs outside the lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from memory.embed.base import Embedder

__all__ = ["DEFAULT_QUERY_CACHE_SIZE", "QueryVectors"]

DEFAULT_QUERY_CACHE_SIZE = 256
"""Query vectors kept (384 floats each for MiniLM: 256 of them are about 0.4 MB)."""


class QueryVectors:
    """Query text -> embedding, at most ``size`` entries, least recently used evicted.

    Args:
        size: entries kept; ``0`` disables the cache (every query is encoded).
    """

    def __init__(self, size: int = DEFAULT_QUERY_CACHE_SIZE) -> None:
        self.size = max(0, size)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._embedder: Embedder | None = None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._vectors)

    def _lookup(self, embedder: Embedder, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            if embedder is not self._embedder:
                self._vectors.clear()
                self._embedder = embedder
            found = {}
            for text in texts:
                vector = self._vectors.get(text)
                if vector is not None:
                    self._vectors.move_to_end(text)
                    found[text] = vector
            self.hits += sum(text in found for text in texts)
            self.misses += sum(text not in found for text in texts)
            return found

    def _keep(self, embedder: Embedder, computed: dict[str, np.ndarray]) -> None:
        with self._lock:
            if embedder is not self._embedder or not self.size:
                return
            for text, vector in computed.items():
                self._vectors[text] = vector
                self._vectors.move_to_end(text)
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def embed(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (one row each), encoding only those not cached, in one batch.

        Args:
            embedder: the memory's embedder (a new one empties the cache).
            texts: query texts; repeated texts are encoded once.

        Returns:
            A fresh array the caller may modify.
        """
        found = self._lookup(embedder, texts)
        missing = list(dict.fromkeys(text for text in texts if text not in found))
        if missing:
            encoded = np.asarray(embedder.embed(missing), dtype=np.float32)
            computed = {text: row.copy() for text, row in zip(missing, encoded, strict=True)}
            for row in computed.values():
                row.setflags(write=False)
            self._keep(embedder, computed)
            found.update(computed)
        return np.stack([found[text] for text in texts]).copy()

    def clear(self) -> None:
        """Forget every cached vector."""
        with self._lock:
            self._vectors.clear()
