"""The per-user cache of ONNX graphs built from a model folder's safetensors weights.

Building the graph takes about a second, so it is done once per user and model
and written under the platform's cache folder (``~/.cache/zettelmem`` on Linux),
or ``$ZETTELMEM_CACHE_DIR`` when set. The weights go in a ``.data`` file beside
the small graph file, which ONNX Runtime maps into memory instead of copying
(about 45 MiB less resident). Both are written to temporary names and renamed,
weights first, so a graph file that exists is complete; processes racing to
build the same graph each write complete files and the last rename wins. When
the cache cannot be written (read-only home, full disk) the graph is built in
memory for this process instead.

The cache key covers the builder's version, the model's ``config.json``, and
the weight file's size, modification time and header (tensor names, shapes and
offsets), so a reinstalled or different model gets a new graph.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from memory.embed.bert_graph import build_bert_graph, read_bert_shape
from memory.errors import EmbeddingError

__all__ = ["cache_folder", "onnx_model"]

logger = logging.getLogger(__name__)

GRAPH_VERSION = "2"
"""Bumped whenever :func:`build_bert_graph` changes what it emits."""

_WEIGHTS = "model.safetensors"


def cache_folder() -> Path:
    """Where built graphs are kept: ``$ZETTELMEM_CACHE_DIR`` or the user cache folder."""
    configured = os.environ.get("ZETTELMEM_CACHE_DIR")
    if configured:
        return Path(configured)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("zettelmem", appauthor=False))


def _cache_key(model_dir: Path) -> str:
    weights = model_dir / _WEIGHTS
    digest = hashlib.sha256(GRAPH_VERSION.encode())
    try:
        digest.update((model_dir / "config.json").read_bytes())
        status = weights.stat()
        digest.update(f"{status.st_size}:{status.st_mtime_ns}".encode())
        with weights.open("rb") as handle:
            header_length = int.from_bytes(handle.read(8), "little")
            digest.update(handle.read(min(header_length, 1 << 24)))
    except OSError as exc:
        raise EmbeddingError(f"cannot read the model in {model_dir}: {exc}") from exc
    return digest.hexdigest()[:24]


def _build(model_dir: Path) -> Any:
    from safetensors.numpy import load_file

    logger.debug("building the ONNX graph of %s", model_dir)
    try:
        weights = load_file(str(model_dir / _WEIGHTS))
    except Exception as exc:  # safetensors raises several unrelated types
        raise EmbeddingError(f"cannot load {model_dir / _WEIGHTS}: {exc}") from exc
    return build_bert_graph(weights, read_bert_shape(model_dir))


def _write_atomically(target: Path, model: Any) -> None:
    """``target`` and its weights file ``<target>.data``, each renamed into place whole."""
    import onnx

    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=folder, prefix=".building-"))
    try:
        data = target.name + ".data"  # the graph names its weights file relative to itself
        onnx.save_model(
            model,
            str(building / target.name),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data,
            size_threshold=1024,
        )
        for name in (data, target.name):
            with (building / name).open("rb+") as written:
                os.fsync(written.fileno())
            os.replace(building / name, folder / name)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def onnx_model(model_dir: Path, cache_dir: Path | None = None) -> Path | bytes:
    """The ONNX graph of ``model_dir``: a cached file, built and cached on first use.

    Args:
        model_dir: a sentence-transformers folder with ``config.json`` and
            ``model.safetensors`` of a BERT model.
        cache_dir: cache folder (default :func:`cache_folder`).

    Returns:
        The cached graph file's path (its weights beside it), or the serialised
        graph itself when the cache cannot be written.

    Raises:
        EmbeddingError: the model cannot be read or is not a supported BERT.
    """
    folder = cache_dir if cache_dir is not None else cache_folder()
    # One file per model folder: a reinstalled model replaces its old graph.
    place = hashlib.sha256(str(model_dir.resolve()).encode()).hexdigest()[:12]
    target = folder / f"bert-{place}-{_cache_key(model_dir)}.onnx"
    if target.is_file() and target.with_name(target.name + ".data").is_file():
        return target
    model = _build(model_dir)
    try:
        _write_atomically(target, model)
    except OSError as exc:
        logger.warning(
            "cannot cache the ONNX graph in %s (%s); building it per process", folder, exc
        )
        return bytes(model.SerializeToString())
    logger.info("cached the ONNX graph of %s in %s", model_dir, target)
    for stale in folder.glob(f"bert-{place}-*.onnx*"):
        if stale.name not in (target.name, target.name + ".data"):
            stale.unlink(missing_ok=True)
    return target
