"""Faithful fields: what the model says about a note must come from that note.

    FieldReview              the verdict on each of keywords / tags / context, with reasons
    FaithfulnessCheck        review(decision, draft, shown candidates) -> FieldReview
     ├── grounded_keywords() keywords that occur in (or are close to) the note's own text
     ├── context_problem()   why a context is not about the note (copied from a neighbour)
     └── tag_check           pluggable: TagCheck(tags, draft) -> tags to keep
    plausible_tags()         the default tag check: short labels, not sentences
    FIELDS                   the checked fields, in order

A small model shown a new note and its neighbours often describes a neighbour instead:
keywords of the neighbour, or the neighbour's sentence as the new note's context. Such a
field is rejected and the caller takes the offline mind's field instead (no second model
call); the counts go to ``Usage`` (``<field>_accepted`` / ``<field>_replaced``).

Rules:
- keywords: each must occur in the note's text (content, scalar metadata, date) word by
  word, a word matching when equal or when one is a prefix of the other covering most of
  it (``paint`` / ``painting``, ``class`` / ``classes``). Ungrounded keywords are dropped;
  none left rejects the field.
- context: empty, a verbatim neighbour's context, or closer (embedding cosine, or word
  overlap without an embedder) to a shown neighbour's content than to the note's own
  content (by more than ``CONTEXT_MARGIN``) is rejected.
- tags: ``tag_check`` decides which to keep (the default keeps short labels); none kept
  rejects the field. Scope vocabularies plug in here.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memory.mind.base import Candidate, MindDecision, NoteDraft, Usage

__all__ = [
    "CONTEXT_MARGIN",
    "FIELDS",
    "FaithfulnessCheck",
    "FieldReview",
    "TagCheck",
    "plausible_tags",
]

logger = logging.getLogger(__name__)

FIELDS = ("keywords", "tags", "context")

TagCheck = Callable[[list[str], NoteDraft], list[str]]
"""``(model's tags, the note) -> the tags to keep``; an empty list rejects the field."""

MAX_TAG_WORDS = 3
MAX_TAG_CHARS = 40
_MIN_WORD = 3  # shorter words ("a", "of", "to") are not checked one by one
_MIN_PREFIX = 4
CONTEXT_MARGIN = 0.05
"""A context is a neighbour's when it is closer to that neighbour's content than to the
note's own by more than this (cosine): the margin absorbs embedding noise, so a context
fitting a near-duplicate neighbour as well as the note is kept."""
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def plausible_tags(tags: list[str], draft: NoteDraft) -> list[str]:
    """The default tag check: keep labels of at most 3 words and 40 characters.

    Args:
        tags: The model's tags (already lower-cased and de-duplicated).
        draft: The note (unused by this check; a scope vocabulary check needs it).

    Returns:
        The tags that look like labels rather than sentences.
    """
    return [t for t in tags if len(t) <= MAX_TAG_CHARS and 0 < len(_words(t)) <= MAX_TAG_WORDS]


def _common_prefix(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        size += 1
    return size


def _close(word: str, vocabulary: set[str]) -> bool:
    """``word`` is in ``vocabulary`` or an inflection of a word of it (a shared stem).

    Two words match when their common prefix is at least ``_MIN_PREFIX`` long, leaves at
    most two letters of the shorter and covers half the longer (``paint`` / ``painting``,
    ``study`` / ``studies``), or when one is the other plus one letter (``art`` / ``arts``).
    """
    if word in vocabulary:
        return True
    for known in vocabulary:
        shorter, longer = sorted((word, known), key=len)
        common = _common_prefix(shorter, longer)
        if common == len(shorter) and len(longer) - common <= 1:
            return True
        if common >= _MIN_PREFIX and common >= len(shorter) - 2 and 2 * common >= len(longer):
            return True
    return False


def _flat(text: str) -> str:
    return " ".join(text.split()).casefold()


def _note_text(draft: NoteDraft) -> str:
    """Everything a keyword may be taken from: content, scalar metadata, the date."""
    meta = " ".join(
        str(value) for value in draft.metadata.values() if isinstance(value, str | int | float)
    )
    stamp = draft.timestamp
    return f"{draft.content} {meta} {stamp:%Y %B %b} {stamp.day}"


def _lexical_vector(text: str) -> Counter[str]:
    return Counter(w for w in _words(text) if len(w) >= _MIN_WORD)


def _lexical_cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(count * b[word] for word, count in a.items())
    norm = math.sqrt(sum(c * c for c in a.values())) * math.sqrt(sum(c * c for c in b.values()))
    return dot / norm if norm else 0.0


@dataclass
class FieldReview:
    """The verdict on the model's fields of one note.

    Attributes:
        decision: The decision with faithful fields kept, ungrounded keywords dropped, and
            rejected fields emptied (the caller fills them from the offline mind).
        rejected: Field name -> why it was rejected.
    """

    decision: MindDecision
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def usage(self) -> Usage:
        """``<field>_accepted`` / ``<field>_replaced`` counts of this note."""
        counts = {
            f"{name}_{'replaced' if name in self.rejected else 'accepted'}": 1 for name in FIELDS
        }
        return Usage(**counts)


class FaithfulnessCheck:
    """Checks the model's keywords, tags and context against the note they describe.

    Args:
        embedder: Embeds the context, the note and the neighbours to see which the
            context is about; ``None`` compares word overlap instead.
        tag_check: Which of the model's tags to keep (default ``plausible_tags``).

    Example:
        ```python
        check = FaithfulnessCheck(embedder)
        review = check.review(decision, draft, shown)
        review.rejected  # e.g. {"context": "closer to neighbour n1's content ..."}
        ```
    """

    def __init__(self, embedder: Any = None, *, tag_check: TagCheck | None = None) -> None:
        self.embedder = embedder
        self.tag_check: TagCheck = tag_check or plausible_tags

    def grounded_keywords(self, keywords: Sequence[str], draft: NoteDraft) -> list[str]:
        """The keywords every word of which occurs in (or is close to) the note's text."""
        text = _note_text(draft)
        vocabulary = set(_words(text))
        flat = " ".join(_words(text))
        kept = []
        for keyword in keywords:
            words = _words(keyword)
            checked = [w for w in words if len(w) >= _MIN_WORD]
            if checked:
                grounded = all(_close(w, vocabulary) for w in checked)
            else:  # only short words ("AI", "5k"): the phrase itself must occur
                grounded = bool(words) and f" {' '.join(words)} " in f" {flat} "
            if grounded:
                kept.append(keyword)
        return kept

    def _similarities(self, context: str, texts: list[str]) -> list[float]:
        """Cosine of ``context`` to each of ``texts``."""
        if self.embedder is not None:
            try:
                vectors = np.asarray(self.embedder.embed([context, *texts]), dtype=np.float32)
                norms = np.linalg.norm(vectors, axis=1)
                norms[norms == 0] = 1.0
                unit = vectors / norms[:, None]
                return [float(v) for v in unit[1:] @ unit[0]]
            except Exception:  # a broken embedder must not cost the note its fields
                logger.exception("embedding for the context check failed; comparing words")
        mine = _lexical_vector(context)
        return [_lexical_cosine(mine, _lexical_vector(t)) for t in texts]

    def context_problem(
        self, context: str, draft: NoteDraft, candidates: Sequence[Candidate]
    ) -> str | None:
        """Why ``context`` is not about the note, or ``None`` when it is.

        Args:
            context: The model's context line for the new note.
            draft: The new note.
            candidates: The neighbours the model was shown.
        """
        flat = _flat(context)
        if not flat:
            return "empty"
        for index, candidate in enumerate(candidates, start=1):
            if candidate.note.context and _flat(candidate.note.context) == flat:
                return f"copied from neighbour n{index}'s context"
        if not candidates:
            return None
        texts = [draft.content, *(c.note.content for c in candidates)]
        own, *theirs = self._similarities(context, texts)
        best = max(range(len(theirs)), key=theirs.__getitem__)
        if theirs[best] > own + CONTEXT_MARGIN:
            return (
                f"closer to neighbour n{best + 1}'s content ({theirs[best]:.2f}) "
                f"than to the note's own ({own:.2f})"
            )
        return None

    def review(
        self, decision: MindDecision, draft: NoteDraft, candidates: Sequence[Candidate]
    ) -> FieldReview:
        """Check the decision's keywords, tags and context against ``draft``.

        Args:
            decision: The model's decision.
            draft: The new note.
            candidates: The neighbours shown to the model, in alias order (``n1`` first).

        Returns:
            The review: the decision with what passed, and why the rest was rejected.
        """
        rejected: dict[str, str] = {}
        keywords = self.grounded_keywords(decision.keywords, draft)
        dropped = [k for k in decision.keywords if k not in keywords]
        if dropped:
            logger.info("dropped keywords not found in the note: %s", dropped)
        if not keywords:
            rejected["keywords"] = "empty" if not decision.keywords else "none found in the note"
        try:
            tags = list(self.tag_check(list(decision.tags), draft)) if decision.tags else []
        except Exception:  # a failing hook must not cost the note its tags
            logger.exception("the tag check failed; keeping the model's tags")
            tags = list(decision.tags)
        if not tags:
            rejected["tags"] = "empty" if not decision.tags else "rejected by the tag check"
        problem = self.context_problem(decision.context, draft, candidates)
        if problem is not None:
            rejected["context"] = problem
        for name, why in rejected.items():
            logger.info("the model's %s for the new note replaced: %s", name, why)
        kept = decision.model_copy(
            update={
                "keywords": keywords,
                "tags": tags,
                "context": "" if "context" in rejected else decision.context,
            }
        )
        return FieldReview(decision=kept, rejected=rejected)
