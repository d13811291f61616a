"""Adapters for embedders the user already has, and the resolver for ``embedder=``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from memory.embed.base import Embedder, checked_vectors
from memory.embed.onnx_bert import OnnxBertEmbedder
from memory.embed.sentence import SentenceTransformerEmbedder, is_default_model
from memory.errors import EmbeddingError, InvalidInput

__all__ = ["FrameworkEmbedder", "resolve_embedder"]


class FrameworkEmbedder:
    """Wraps a LangChain ``Embeddings`` (``embed_documents``), a LlamaIndex embedding
    (``get_text_embedding_batch``) or any object with ``encode(list[str])``."""

    def __init__(self, backend: Any) -> None:
        if hasattr(backend, "embed_documents"):
            self._call = backend.embed_documents
        elif hasattr(backend, "get_text_embedding_batch"):
            self._call = backend.get_text_embedding_batch
        elif hasattr(backend, "encode"):
            self._call = backend.encode
        else:
            raise InvalidInput(
                f"{type(backend).__name__} is not an embedder: expected embed_documents, "
                "get_text_embedding_batch or encode"
            )
        self._name = type(backend).__name__
        self._dim = int(self.embed(["dimension probe"]).shape[1])

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, getattr(self, "_dim", 0)), dtype=np.float32)
        try:
            raw = self._call(list(texts))
        except Exception as exc:
            raise EmbeddingError(f"{self._name} failed to embed") from exc
        return checked_vectors(raw, len(texts), self._name)


def resolve_embedder(spec: Any = None) -> Embedder:
    """Turn the ``embedder=`` argument into an :class:`Embedder`.

    ``None`` (or the name ``all-MiniLM-L6-v2``) is the bundled MiniLM on ONNX
    Runtime, loaded at the first embedding; any other string is a
    sentence-transformers model name or path (loaded now, on torch); a
    ``SentenceTransformer`` is used as is; an object with ``dim`` and ``embed``
    is taken as an Embedder; LangChain / LlamaIndex embeddings and anything with
    ``encode`` are wrapped.
    """
    if spec is None:
        return OnnxBertEmbedder()
    if isinstance(spec, str):
        return OnnxBertEmbedder() if is_default_model(spec) else SentenceTransformerEmbedder(spec)
    if hasattr(spec, "embed") and hasattr(spec, "dim"):
        return spec  # type: ignore[no-any-return]
    if type(spec).__name__ == "SentenceTransformer":
        return SentenceTransformerEmbedder(spec)
    return FrameworkEmbedder(spec)
