"""Any sentence-transformers model (by name, path or instance), on torch.

The default embedder is :class:`~memory.embed.onnx_bert.OnnxBertEmbedder` (the
same all-MiniLM-L6-v2 vectors without torch); this one is for every other model.
sentence-transformers and torch are imported only when one is created. Models
are loaded once per process and shared between every memory that asks for the
same name. The bundled all-MiniLM-L6-v2 is loaded from its local folder with
``local_files_only``: no hub request, and no environment variable changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from memory.embed.base import checked_vectors
from memory.embed.onnx_bert import default_model_path
from memory.errors import EmbeddingError

__all__ = ["DEFAULT_MODEL", "SentenceTransformerEmbedder", "is_default_model"]

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"

_models: dict[str, Any] = {}
_SMALL_BATCH = 4
_threads_lock = threading.Lock()
_single_users = 0  # small encodes in flight; the last one out restores the thread count
_threads_before = 1
_models_lock = threading.Lock()


@contextmanager
def _single_thread() -> Iterator[None]:
    """Run torch on one thread for a tiny batch (a search query).

    Splitting one short text over several threads gains nothing, and when other
    processes share the cores the oversubscription costs several times the
    latency (measured here: 450 ms vs 70 ms per query on a loaded 2-core machine).
    """
    import torch

    global _single_users, _threads_before
    with _threads_lock:
        if _single_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_users += 1
    try:
        yield
    finally:
        with _threads_lock:
            _single_users -= 1
            if _single_users == 0:
                torch.set_num_threads(_threads_before)


@contextmanager
def _quiet_weight_loading() -> Iterator[None]:
    """No "Loading weights" progress bar while a model loads; the caller's setting
    is restored afterwards (the bar is transformers' process-wide switch)."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # pragma: no cover - sentence-transformers depends on it
        yield
        return
    was_enabled = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            transformers_logging.enable_progress_bar()


def is_default_model(name: str) -> bool:
    """Whether ``name`` is the bundled all-MiniLM-L6-v2."""
    return name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")


def _load(name_or_path: str) -> Any:
    with _models_lock:
        model = _models.get(name_or_path)
        if model is not None:
            return model
        location = name_or_path
        options: dict[str, Any] = {}
        if is_default_model(name_or_path):
            location = str(default_model_path())
            options["local_files_only"] = True  # the weights are local: never try the hub
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                'SentenceTransformerEmbedder needs "sentence-transformers" and torch '
                "(pip install torch --index-url https://download.pytorch.org/whl/cpu, "
                "then pip install sentence-transformers)"
            ) from exc
        logger.debug("loading sentence-transformers model %s", location)
        try:
            with _quiet_weight_loading():
                model = SentenceTransformer(location, device="cpu", **options)
        except Exception as exc:
            raise EmbeddingError(f"could not load embedding model {name_or_path!r}") from exc
        _models[name_or_path] = model
        return model


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or path; the default is offline MiniLM.

    Args:
        model: a model name/path, or an already loaded ``SentenceTransformer``.
        batch_size: texts per forward pass.
    """

    def __init__(self, model: str | Any = DEFAULT_MODEL, *, batch_size: int = 64) -> None:
        self._model = _load(model) if isinstance(model, str) else model
        self._batch_size = batch_size
        # sentence-transformers 5+ renamed the accessor; support both.
        getter = getattr(self._model, "get_embedding_dimension", None)
        if getter is None:
            getter = self._model.get_sentence_embedding_dimension
        dim = getter()
        if not dim:
            dim = int(self._model.encode(["probe"]).shape[1])
        self._dim = int(dim)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model(self) -> Any:
        """The underlying ``SentenceTransformer``."""
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        if len(texts) <= _SMALL_BATCH:
            with _single_thread():
                return self._encode(texts)
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        try:
            raw = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:
            raise EmbeddingError("sentence-transformers failed to encode") from exc
        return checked_vectors(raw, len(texts), "sentence-transformers")
