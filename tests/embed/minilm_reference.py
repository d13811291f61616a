"""Built-in sentences whose sentence-transformers vectors are stored for the fast parity test.

``python tests/embed/minilm_reference.py`` (needs torch and sentence-transformers)
rewrites ``data/minilm_reference.json``; the slow test checks the stored vectors
still equal what sentence-transformers computes.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["REFERENCE_FILE", "SENTENCES", "sentence_transformers_vectors"]

REFERENCE_FILE = Path(__file__).resolve().parent / "data" / "minilm_reference.json"

SENTENCES = [
    "Melanie: I signed up for a pottery class!",
    "What hobby did Melanie take up?",
    "   leading and trailing spaces are stripped first   ",
    "Ünïcödé, accents and 漢字 go through the same normaliser.",
    "x",
    " ".join(["a long text is truncated at 256 word pieces"] * 60),
    "Tom: Saturdays and Sundays from eight. The rye loaf sells out first, so come early.",
]


def sentence_transformers_vectors() -> list[list[float]]:
    """The sentences' vectors from sentence-transformers on the bundled model."""
    from memory.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder().embed(SENTENCES).tolist()  # type: ignore[no-any-return]


if __name__ == "__main__":
    vectors = sentence_transformers_vectors()
    REFERENCE_FILE.write_text(
        json.dumps(
            {
                "about": "sentence-transformers all-MiniLM-L6-v2 vectors of SENTENCES "
                "(tests/embed/minilm_reference.py), normalised",
                "vectors": [[round(value, 7) for value in row] for row in vectors],
            }
        )
        + "\n",
        encoding="utf-8",
    )
