"""Embedders: text to unit-length float32 vectors.

Embedder (protocol)      dim + embed(texts)
 ├── HashingEmbedder     deterministic, dependency-free test double (memory.embed.hashing)
 ├── OnnxBertEmbedder    default: bundled MiniLM on ONNX Runtime, lazy (memory.embed.onnx_bert)
 ├── SentenceTransformerEmbedder   any sentence-transformers model, on torch (memory.embed.sentence)
 └── FrameworkEmbedder   wraps a LangChain ``Embeddings`` or LlamaIndex embedding
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from memory.errors import EmbeddingError

__all__ = ["Embedder", "normalise_rows", "checked_vectors"]


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns a batch of texts into a ``(len(texts), dim)`` array."""

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed a batch; rows are unit length (cosine = dot product)."""
        ...


def normalise_rows(vectors: np.ndarray) -> np.ndarray:
    """Scale every row to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0.0] = 1.0
    return (vectors / norms).astype(np.float32, copy=False)


def checked_vectors(raw: object, expected_rows: int, name: str) -> np.ndarray:
    """Validate an embedder's output and return it normalised.

    Raises:
        EmbeddingError: wrong row count, not 2-D, or non-finite values.
    """
    try:
        vectors = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise EmbeddingError(f"{name} returned something that is not a numeric array") from exc
    if vectors.ndim != 2 or vectors.shape[0] != expected_rows:
        raise EmbeddingError(
            f"{name} returned shape {vectors.shape}, expected ({expected_rows}, dim)"
        )
    if not np.isfinite(vectors).all():
        raise EmbeddingError(f"{name} returned NaN or infinite values")
    return normalise_rows(vectors)
