"""Turning a mind's decision into notes and history events -- validated, by id.

A decision is only a proposal. Here it is checked against the candidates that
were really shown (same scope, real ids): links to anything else are dropped
and logged, neighbour changes that would wipe a field are rejected, and every
change becomes an event with its before and after values and its reason.
Links are written on both sides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from memory.mind.base import MindDecision, NeighbourChange
from memory.model import Event, Note, utc_now

__all__ = ["AppliedDecision", "apply_decision", "link_event"]

logger = logging.getLogger(__name__)

_MAX_TAGS = 6
_MAX_KEYWORDS = 8


@dataclass
class AppliedDecision:
    """The new note, the neighbours it changed, and the events for each note id."""

    note: Note
    neighbours: dict[str, Note] = field(default_factory=dict)
    events: dict[str, list[Event]] = field(default_factory=dict)

    def add_event(self, event: Event) -> None:
        self.events.setdefault(event.note_id, []).append(event)


def link_event(note_id: str, target_id: str, strength: float, reason: str, actor: str) -> Event:
    """The history event of ``note_id`` gaining a link to ``target_id``."""
    return Event(
        note_id=note_id,
        action="link",
        after={"link": target_id, "strength": strength},
        reason=reason,
        actor=actor,
    )


def _evolved(neighbour: Note, change: NeighbourChange) -> tuple[Note, dict, dict] | None:
    """The neighbour after ``change``, with before/after of the changed fields."""
    before: dict = {}
    after: dict = {}
    tags = list(neighbour.tags)
    for tag in change.add_tags:
        tag = tag.strip()
        if tag and tag not in tags and len(tags) < _MAX_TAGS:
            tags.append(tag)
    if tags != neighbour.tags:
        before["tags"], after["tags"] = neighbour.tags, tags
    keywords = list(neighbour.keywords)
    for keyword in change.add_keywords:
        keyword = keyword.strip()
        if keyword and keyword not in keywords and len(keywords) < _MAX_KEYWORDS:
            keywords.append(keyword)
    if keywords != neighbour.keywords:
        before["keywords"], after["keywords"] = neighbour.keywords, keywords
    if change.context is not None:
        context = change.context.strip()
        if not context:
            logger.warning("rejected evolution of %s: it would empty the context", neighbour.id)
            return None
        if context != neighbour.context:
            before["context"], after["context"] = neighbour.context, context
    if not after:
        return None
    return neighbour.model_copy(update={**after, "updated_at": utc_now()}), before, after


def _chosen_links(
    note_id: str,
    decision: MindDecision,
    neighbours: dict[str, Note],
    extra_links: dict[str, tuple[float, str]],
) -> dict[str, tuple[float, str]]:
    """``target -> (strength, reason)``: the mind's links to shown candidates, plus extras."""
    links: dict[str, tuple[float, str]] = {}
    for choice in decision.links:
        if choice.target_id not in neighbours or choice.target_id == note_id:
            logger.warning("ignored a link to %r: not among the candidates", choice.target_id)
            continue
        links[choice.target_id] = (choice.strength, choice.reason)
    for target_id, (strength, reason) in extra_links.items():
        if target_id in neighbours:
            # The mind's own reason for the same link is the more informative one.
            mind_strength, mind_reason = links.get(target_id, (0.0, ""))
            links[target_id] = (max(mind_strength, strength), mind_reason or reason)
    return links


def apply_decision(
    note: Note,
    decision: MindDecision,
    neighbours: dict[str, Note],
    *,
    extra_links: dict[str, tuple[float, str]] | None = None,
) -> AppliedDecision:
    """Fill ``note`` from ``decision`` and link / evolve the given ``neighbours``.

    Args:
        note: the new note (content, scope, times already set).
        decision: the mind's proposal.
        neighbours: the candidates that were shown, by id -- the only notes that
            may be linked or changed (they are in the note's scope).
        extra_links: links the caller adds regardless of the mind (e.g. the
            sequence link to the previous turn), ``id -> (strength, reason)``.
    """
    # One function on purpose: every change it applies (links, evolution,
    # supersession) is checked against the same shown neighbours and recorded in
    # the same result, in this order; the link choice is already its own function.
    built = note.model_copy(
        update={
            "keywords": decision.keywords,
            "tags": decision.tags,
            "context": decision.context,
        }
    )
    result = AppliedDecision(note=built)
    links = _chosen_links(note.id, decision, neighbours, extra_links or {})
    built.links = {target_id: strength for target_id, (strength, _) in links.items()}
    result.add_event(
        Event(
            note_id=built.id,
            action="create",
            after=built.model_dump(mode="json", exclude={"links"}) | {"links": built.links},
            reason="added",
            actor=decision.actor,
            usage=decision.usage.as_event_usage(),
        )
    )
    changed: dict[str, Note] = {}
    for target_id, (strength, reason) in links.items():
        neighbour = neighbours[target_id]
        changed[target_id] = neighbour.model_copy(
            update={"links": {**neighbour.links, built.id: strength}, "updated_at": utc_now()}
        )
        result.add_event(link_event(target_id, built.id, strength, reason, decision.actor))
    for change in decision.changes:
        if change.target_id not in links:
            logger.warning("ignored evolution of %r: not linked to the new note", change.target_id)
            continue
        evolved = _evolved(changed[change.target_id], change)
        if evolved is None:
            continue
        changed[change.target_id], before, after = evolved
        result.add_event(
            Event(
                note_id=change.target_id,
                action="evolve",
                before=before,
                after=after,
                reason=change.reason or f"evolved by new note {built.id}",
                actor=decision.actor,
            )
        )
    for proposal in decision.supersedes:
        old = changed.get(proposal.target_id) or neighbours.get(proposal.target_id)
        if old is None or proposal.target_id == note.id:
            logger.warning("ignored supersession of %r: not a candidate", proposal.target_id)
            continue
        if old.scope != built.scope or old.superseded_by is not None:
            logger.warning("ignored supersession of %r: other scope or already", old.id)
            continue
        changed[old.id] = old.model_copy(
            update={"superseded_by": built.id, "updated_at": utc_now()}
        )
        reason = proposal.reason or f"updated by new note {built.id}"
        for note_id, after in (
            (old.id, {"superseded_by": built.id}),
            (built.id, {"supersedes": old.id}),
        ):
            # Both sides, like a link: deleting the new note finds the old one by its history.
            before = {"superseded_by": None} if note_id == old.id else {}
            result.add_event(
                Event(
                    note_id=note_id,
                    action="supersede",
                    before=before,
                    after=after,
                    reason=reason,
                    actor=decision.actor,
                )
            )
    result.neighbours = changed
    return result
