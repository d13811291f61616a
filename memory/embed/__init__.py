"""Embedders (see :mod:`memory.embed.base` for the protocol)."""

from memory.embed.base import Embedder
from memory.embed.framework import FrameworkEmbedder, resolve_embedder
from memory.embed.hashing import HashingEmbedder
from memory.embed.sentence import DEFAULT_MODEL, SentenceTransformerEmbedder, default_model_path

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "FrameworkEmbedder",
    "HashingEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_path",
    "resolve_embedder",
]
