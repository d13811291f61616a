"""What a note's content determines, derived again for ``update(content=...)``.

A note's keywords, tags and context line are the mind's reading of its content.
When the caller rewrites the content, that reading is stale, so it is made again
by the memory's mind from the new text: the heuristic mind's ``describe`` (the
same call ``add`` makes), or an LLM mind's ``decide`` shown no candidates (links
are not reconsidered, see :meth:`~memory.changes_api.ChangesApi.update`). An LLM that
fails, raises or leaves a field empty is covered by the heuristic mind, so an
update is never lost to the model.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from memory.mind.base import Mind, MindDecision, NoteDraft, Usage
from memory.mind.heuristic import HeuristicMind
from memory.model import Note

__all__ = ["DERIVED_FIELDS", "Derived", "derive_from_content"]

logger = logging.getLogger(__name__)

DERIVED_FIELDS = ("keywords", "tags", "context")
"""The note fields the mind derives from the content."""


class Derived:
    """The fields derived from a new content, who derived them, and what it cost."""

    def __init__(self, fields: dict[str, Any], actor: str, usage: Usage) -> None:
        self.fields = fields
        self.actor = actor
        self.usage = usage


def _draft(note: Note, changes: dict[str, Any], vector: np.ndarray) -> NoteDraft:
    """The note as it will read after ``changes``, as a mind sees a new note."""
    return NoteDraft(
        content=changes["content"],
        kind=note.kind,
        timestamp=changes.get("timestamp", note.timestamp),
        metadata=changes.get("metadata", note.metadata),
        vector=vector,
    )


def _fields(decision: MindDecision) -> dict[str, Any]:
    return {
        "keywords": list(decision.keywords),
        "tags": list(decision.tags),
        "context": decision.context,
    }


def derive_from_content(
    mind: Mind,
    heuristic: HeuristicMind,
    note: Note,
    changes: dict[str, Any],
    vector: np.ndarray,
) -> Derived:
    """Keywords, tags and context of ``note`` once ``changes`` (with a content) apply.

    Args:
        mind: the memory's mind (the heuristic one, or an LLM mind).
        heuristic: the offline mind, the fallback of any other.
        note: the stored note.
        changes: the validated changes; ``changes["content"]`` is the new text.
        vector: the embedding of the new content.

    Returns:
        The derived fields (all three, never empty when the heuristic mind can fill
        them), the actor to record, and the LLM usage spent.
    """
    draft = _draft(note, changes, vector)
    described = heuristic.describe(draft) if mind is heuristic else None
    if described is not None:
        return Derived(described.model_dump(), heuristic.name, Usage())
    try:
        decision = mind.decide(draft, [])
    except Exception:  # a model failure must never lose the caller's update
        logger.exception("the mind failed to describe the new content; heuristic fallback")
        fallback = heuristic.describe(draft).model_dump()
        return Derived(fallback, "heuristic-fallback", Usage(fallbacks=1))
    fields = _fields(decision)
    if not all(fields.values()):
        offline = heuristic.describe(draft).model_dump()
        fields = {key: value or offline[key] for key, value in fields.items()}
    return Derived(fields, decision.actor, decision.usage)
