"""What ``recall`` pays to encode the request along with its procedure key.

``recall(task)`` encodes the task's recall key and ``task`` in one batch, so that the
``search(task)`` an agent middleware makes next finds its vector cached
(``memory/query_cache.py``). This prints, per embedder, the median time of one
request encoded alone against the key and the request encoded together, on the
requests of ``benchmarks/tool_env.py``, interleaved so both see the same load.

    python benchmarks/query_encode_batch.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.tool_env import tasks  # noqa: E402
from memory.embed import OnnxBertEmbedder, SentenceTransformerEmbedder  # noqa: E402
from memory.procedures import task_key  # noqa: E402

__all__ = ["main"]


def main(repeats: int = 4) -> None:
    requests = [task.request for instance in range(2, 5) for task in tasks(instance)]
    embedders = {
        "sentence-transformers MiniLM": SentenceTransformerEmbedder(),
        "ONNX MiniLM (default)": OnnxBertEmbedder(),
    }
    for name, embedder in embedders.items():
        embedder.embed(["warm up"])
        alone: list[float] = []
        together: list[float] = []
        for request in requests * repeats:
            # The task's generalised phrase: a recall key is built the same way.
            key = task_key(request).phrase or request
            started = time.perf_counter()
            embedder.embed([request])
            alone.append(time.perf_counter() - started)
            started = time.perf_counter()
            embedder.embed([key, request])
            together.append(time.perf_counter() - started)
        one, two = statistics.median(alone) * 1000, statistics.median(together) * 1000
        print(
            f"{name}: one text {one:.1f} ms, recall key + request in one batch {two:.1f} ms "
            f"= {two / one:.2f}x (+{two - one:.1f} ms; n={len(alone)})"
        )


if __name__ == "__main__":
    main()
