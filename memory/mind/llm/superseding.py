"""The model's supersessions: which shown candidates a new note updates, validated.

    checked_supersessions()   the model's aliases -> valid proposals, and how many were not
    settle_supersessions()    the model's valid proposals, or the offline rule's when none

The model answers ``supersedes: ["n2"]`` in the same structured reply as the note's
keywords and links (no extra call). Like an evolution, a proposal is only kept when it
names a candidate that was really shown, of the new note's own scope, not already
superseded and not newer than the new note; the rest are dropped and counted
(``Usage.supersedes_replaced``). When the model proposes nothing valid, the fallback
mind's rule decides (:class:`~memory.mind.base.SupersessionRule`; offline:
:mod:`memory.supersede`), so an LLM memory supersedes at least as often as an offline one.
``memory.mind.apply`` checks every proposal again against the candidates under the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from memory.mind.base import (
    Candidate,
    Mind,
    MindDecision,
    NoteDraft,
    Supersession,
    Usage,
    supersession_rule,
)

__all__ = ["MODEL_REASON", "checked_supersessions", "settle_supersessions"]

logger = logging.getLogger(__name__)

MODEL_REASON = "the model: the new note updates or contradicts it"


def _problem(candidate: Candidate | None, draft: NoteDraft) -> str | None:
    """Why ``candidate`` cannot be superseded by ``draft`` (``None``: it can)."""
    if candidate is None:
        return "not a shown candidate"
    old = candidate.note
    if draft.scope is not None and old.scope != draft.scope:
        return "another scope"
    if old.superseded_by is not None:
        return "already superseded"
    if old.timestamp > draft.timestamp:
        return "newer than the new note"
    return None


def checked_supersessions(
    named: Sequence[str],
    aliases: dict[str, str],
    draft: NoteDraft,
    candidates: Sequence[Candidate],
) -> tuple[list[Supersession], int]:
    """The model's proposals that hold, and how many did not.

    Args:
        named: The aliases the model listed (``"n2"``; ``"[N2]"`` is accepted too).
        aliases: Alias to note id, as shown to the model.
        draft: The new note.
        candidates: The candidates the mind was given (the shown ones among them).

    Returns:
        ``(proposals, dropped)``: one proposal per valid, distinct candidate, in the
        model's order; ``dropped`` counts the other entries (repeats are not counted).
    """
    by_id = {c.note.id: c for c in candidates}
    kept: list[Supersession] = []
    seen: set[str] = set()
    dropped = 0
    for alias in named:
        key = str(alias).strip().strip("[]()<>#@'\"` ").lower()
        note_id = aliases.get(key)
        if note_id is not None and note_id in seen:
            continue
        candidate = by_id.get(note_id) if note_id is not None else None
        problem = _problem(candidate, draft)
        if candidate is None or problem is not None:
            logger.warning("dropped the model's supersession of %r: %s", alias, problem)
            dropped += 1
            continue
        seen.add(candidate.note.id)
        kept.append(Supersession(target_id=candidate.note.id, reason=MODEL_REASON))
    return kept, dropped


def settle_supersessions(
    decision: MindDecision,
    named: Sequence[str],
    aliases: dict[str, str],
    draft: NoteDraft,
    candidates: list[Candidate],
    fallback: Mind,
    fallback_decision: MindDecision | None,
) -> MindDecision:
    """``decision`` with the model's valid supersessions, else the fallback rule's.

    Args:
        decision: The model's settled decision (its keywords describe the note).
        named: The aliases the model listed under ``supersedes``.
        aliases: Alias to note id, as shown to the model.
        draft: The new note.
        candidates: The candidates the mind was given.
        fallback: The fallback mind (its :class:`SupersessionRule`, if it has one).
        fallback_decision: The fallback mind's decision, when one was made anyway.

    Returns:
        The decision with ``supersedes`` set and the counts added to its usage.
    """
    kept, dropped = checked_supersessions(named, aliases, draft, candidates)
    proposals = kept
    if not proposals:
        rule = supersession_rule(fallback)
        if rule is not None:
            proposals = rule.supersessions(draft, list(decision.keywords), candidates)
        elif fallback_decision is not None:
            proposals = list(fallback_decision.supersedes)
    counts = Usage(supersedes_accepted=len(kept), supersedes_replaced=dropped)
    return decision.model_copy(update={"supersedes": proposals, "usage": decision.usage + counts})
