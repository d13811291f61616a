"""Embedders (see :mod:`memory.embed.base` for the protocol).

Nothing heavy is imported here: ONNX Runtime and the tokenizer load at the
default embedder's first use, sentence-transformers and torch only when a
:class:`SentenceTransformerEmbedder` is created.
"""

from memory.embed.base import Embedder
from memory.embed.framework import FrameworkEmbedder, resolve_embedder
from memory.embed.hashing import HashingEmbedder
from memory.embed.onnx_bert import OnnxBertEmbedder, default_model_path
from memory.embed.sentence import DEFAULT_MODEL, SentenceTransformerEmbedder

__all__ = [
    "DEFAULT_MODEL",
    "Embedder",
    "FrameworkEmbedder",
    "HashingEmbedder",
    "OnnxBertEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_path",
    "resolve_embedder",
]
