"""The default embedder: bundled all-MiniLM-L6-v2 on ONNX Runtime, built once, loaded lazily."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
from minilm_reference import REFERENCE_FILE, SENTENCES

from memory import AgenticMemory, EmbeddingError
from memory.embed import (
    OnnxBertEmbedder,
    default_model_path,
    resolve_embedder,
)
from memory.embed.onnx_cache import onnx_model


@pytest.fixture(scope="module")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graphs")


@pytest.fixture(scope="module")
def onnx_minilm(graph_cache: Path) -> OnnxBertEmbedder:
    return OnnxBertEmbedder(cache_dir=graph_cache)


def test_vectors_equal_the_stored_sentence_transformers_ones(onnx_minilm: OnnxBertEmbedder) -> None:
    reference = np.array(json.loads(REFERENCE_FILE.read_text())["vectors"], dtype=np.float32)
    vectors = onnx_minilm.embed(SENTENCES)
    assert vectors.shape == reference.shape == (len(SENTENCES), 384)
    cosines = (vectors * reference).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_batch_equals_its_texts_embedded_alone(onnx_minilm: OnnxBertEmbedder) -> None:
    # Mixed lengths: sorting and padding inside a batch must not change any row.
    together = onnx_minilm.embed(SENTENCES)
    alone = np.vstack([onnx_minilm.embed([text]) for text in SENTENCES])
    assert ((together * alone).sum(axis=1) >= 0.99999).all()


def test_small_batches_keep_input_order(graph_cache: Path, onnx_minilm: OnnxBertEmbedder) -> None:
    expected = onnx_minilm.embed(SENTENCES)
    for options in ({"batch_size": 2}, {"max_batch_tokens": 64}):  # the long text goes alone
        split = OnnxBertEmbedder(cache_dir=graph_cache, **options)  # type: ignore[arg-type]
        assert ((split.embed(SENTENCES) * expected).sum(axis=1) >= 0.99999).all(), options


def test_nothing_is_loaded_before_the_first_embedding(graph_cache: Path) -> None:
    embedder = OnnxBertEmbedder(cache_dir=graph_cache)
    assert embedder.dim == 384 and not embedder.loaded
    assert embedder.embed([]).shape == (0, 384)
    assert not embedder.loaded, "an empty batch needs no model"
    embedder.embed(["now it loads"])
    assert embedder.loaded


def test_embedders_of_one_process_share_the_loaded_model(
    graph_cache: Path, onnx_minilm: OnnxBertEmbedder
) -> None:
    onnx_minilm.load()
    other = OnnxBertEmbedder(cache_dir=graph_cache, batch_size=8)
    other.load()
    assert other._runtime is onnx_minilm._runtime
    assert OnnxBertEmbedder(cache_dir=graph_cache, threads=1)._runtime is None


def test_memory_loads_the_model_at_its_first_note_only(tmp_path: Path, graph_cache: Path) -> None:
    embedder = OnnxBertEmbedder(cache_dir=graph_cache)
    with AgenticMemory(tmp_path / "store", embedder=embedder) as mem:
        assert mem.count() == 0 and mem.notes() == []
        assert not embedder.loaded, "opening, counting and listing need no model"
        note = mem.add("Caroline went to the support group yesterday.")
        assert embedder.loaded
    with AgenticMemory(tmp_path / "store", embedder=OnnxBertEmbedder(cache_dir=graph_cache)) as mem:
        assert mem.get(note.id).content == note.content
        assert not mem.embedder.loaded  # type: ignore[attr-defined]


def test_the_default_and_its_names_resolve_to_the_onnx_embedder() -> None:
    for spec in (None, "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"):
        embedder = resolve_embedder(spec)
        assert isinstance(embedder, OnnxBertEmbedder) and not embedder.loaded


def test_the_environment_is_unchanged_by_a_memory(graph_cache: Path) -> None:
    before = dict(os.environ)
    with AgenticMemory(embedder=OnnxBertEmbedder(cache_dir=graph_cache)) as mem:
        mem.add("Melanie: I signed up for a pottery class!")
        mem.search("pottery")
    assert dict(os.environ) == before


def _tiny_model(folder: Path) -> Path:
    """A model folder with a real config and a small safetensors header (nothing built)."""
    folder.mkdir(parents=True)
    shutil.copy(default_model_path() / "config.json", folder / "config.json")
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    (folder / "model.safetensors").write_bytes(
        len(header).to_bytes(8, "little") + header + bytes(4)
    )
    return folder


@pytest.fixture
def counted_builds(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Replace the (slow) graph build by a tiny graph that records each call."""
    builds: list[Path] = []

    def build(model_dir: Path) -> onnx.ModelProto:
        builds.append(model_dir)
        weights = onnx.numpy_helper.from_array(np.zeros(512, dtype=np.float32), "w")
        graph = onnx.helper.make_graph([], "stand-in", [], [], [weights])
        return onnx.helper.make_model(graph, doc_string=f"build {len(builds)}")

    monkeypatch.setattr("memory.embed.onnx_cache._build", build)
    return builds


def _label(graph: Path | bytes) -> str:
    loaded = onnx.load(str(graph)) if isinstance(graph, Path) else onnx.load_from_string(graph)
    return str(loaded.doc_string)


def test_the_graph_is_built_once_and_reused(tmp_path: Path, counted_builds: list[Path]) -> None:
    model = _tiny_model(tmp_path / "model")
    first = onnx_model(model, tmp_path / "cache")
    assert isinstance(first, Path) and _label(first) == "build 1"
    assert onnx_model(model, tmp_path / "cache") == first
    assert len(counted_builds) == 1, "a cached graph is not rebuilt"
    names = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert names == [first.name, first.name + ".data"], "weights beside it, no temporary left"


def test_a_changed_model_replaces_its_cached_graph(
    tmp_path: Path, counted_builds: list[Path]
) -> None:
    model = _tiny_model(tmp_path / "model")
    other = _tiny_model(tmp_path / "other")
    cache = tmp_path / "cache"
    old = onnx_model(model, cache)
    kept = onnx_model(other, cache)
    os.utime(model / "model.safetensors", ns=(1, 1))  # as a reinstall would
    new = onnx_model(model, cache)
    assert isinstance(old, Path) and isinstance(new, Path) and isinstance(kept, Path)
    assert new != old and not old.exists()
    graphs = sorted(path for path in cache.iterdir() if path.suffix == ".onnx")
    assert graphs == sorted([new, kept]), "another model's graph stays"
    assert len(list(cache.iterdir())) == 4, "each graph with its weights file"
    assert len(counted_builds) == 3


def test_an_unwritable_cache_builds_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, counted_builds: list[Path]
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger="memory.embed.onnx_cache"):
        built = onnx_model(_tiny_model(tmp_path / "model"), blocker / "cache")
    assert isinstance(built, bytes) and _label(built) == "build 1"
    assert "cannot cache" in caplog.text


def test_a_damaged_cached_graph_is_rebuilt(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    onnx_minilm: OnnxBertEmbedder,
    graph_cache: Path,
) -> None:
    onnx_minilm.load()  # the shared cache holds a good graph
    (good,) = graph_cache.glob("*.onnx")
    for path in graph_cache.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / good.name).write_bytes(b"not an onnx graph")
    monkeypatch.setattr("memory.embed.onnx_cache._build", lambda model_dir: onnx.load(str(good)))
    with caplog.at_level(logging.WARNING, logger="memory.embed.onnx_bert"):
        vectors = OnnxBertEmbedder(cache_dir=tmp_path).embed(SENTENCES[:2])
    assert np.allclose(vectors, onnx_minilm.embed(SENTENCES[:2]), atol=1e-6)
    assert "rebuilding" in caplog.text
    assert onnx.load(str(tmp_path / good.name)).graph.name == "bert_mean_pooling"


def test_an_unsupported_model_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbeddingError, match="config.json"):
        OnnxBertEmbedder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(EmbeddingError, match="not a BERT"):
        OnnxBertEmbedder(tmp_path)
    config = json.loads((default_model_path() / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    with pytest.raises(EmbeddingError, match="mean"):
        OnnxBertEmbedder(tmp_path)


def test_importing_the_embedders_imports_no_model_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, memory, memory.embed\n"
        "from memory import AgenticMemory\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'onnxruntime', 'onnx',\n"
        "         'chromadb', 'tokenizers'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert out.strip() == "[]"


def test_a_stats_style_session_loads_no_model(tmp_path: Path) -> None:
    """Open a store, count, list, get and close in a fresh process: nothing heavy is imported."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from memory import AgenticMemory\n"
        f"mem = AgenticMemory({str(tmp_path / 'store')!r})\n"
        "mem.count(); mem.notes(); mem.close()\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers', 'onnxruntime'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.slow
def test_sentence_transformers_loads_quietly_and_leaves_the_environment_alone() -> None:
    import subprocess
    import sys

    code = (
        "import os\n"
        "from memory.embed import SentenceTransformerEmbedder\n"
        "from transformers.utils import logging\n"
        "SentenceTransformerEmbedder().embed(['hello'])\n"
        "print('HF_HUB_OFFLINE' in os.environ, logging.is_progress_bar_enabled())\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "HF_HUB_OFFLINE"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True"], "env unset, the caller's bar setting kept"
    assert "Loading weights" not in done.stderr and "%|" not in done.stderr
