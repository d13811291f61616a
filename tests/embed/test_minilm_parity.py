"""Slow: the ONNX default embedder against sentence-transformers on real conversation turns."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from minilm_reference import REFERENCE_FILE, SENTENCES, sentence_transformers_vectors

from memory.conversations import conversation_items
from memory.embed import OnnxBertEmbedder, SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("ZETTELMEM_DATA", ROOT.parent / "shared" / "data"))
LOCOMO = sorted((DATA / "locomo").glob("*.json"))

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not LOCOMO, reason=f"no LoCoMo data under {DATA}")
def test_onnx_equals_sentence_transformers_on_locomo_turns(tmp_path: Path) -> None:
    turns: list[str] = []
    for conversation in LOCOMO:
        items = conversation_items(conversation)
        turns.extend(item["content"] for item in items[:: max(1, len(items) // 80)])
    assert len(turns) >= 300
    onnx = OnnxBertEmbedder(cache_dir=tmp_path).embed(turns)
    torch = SentenceTransformerEmbedder().embed(turns)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() >= 0.9999, (cosines.min(), turns[int(cosines.argmin())])


def test_the_stored_reference_is_what_sentence_transformers_computes() -> None:
    stored = np.array(json.loads(REFERENCE_FILE.read_text())["vectors"], dtype=np.float32)
    live = np.array(sentence_transformers_vectors(), dtype=np.float32)
    assert stored.shape == (len(SENTENCES), 384)
    assert ((stored * live).sum(axis=1) >= 0.99999).all()
