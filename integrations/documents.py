"""A note as the adapters expose it: its content plus one flat metadata dict.

LangChain ``Document``s, LlamaIndex ``TextNode``s and the tools' artifacts all
carry the same metadata, so code that reads it works with either framework.
"""

from __future__ import annotations

from typing import Any

from memory.model import Note, SearchResult

__all__ = ["NOTE_FIELDS", "note_metadata", "result_metadata"]

NOTE_FIELDS: tuple[str, ...] = (
    "id",
    "kind",
    "keywords",
    "tags",
    "context",
    "links",
    "timestamp",
    "user_id",
    "agent_id",
    "run_id",
)
"""The keys :func:`note_metadata` sets (plus ``score`` / ``found_by`` for search hits)."""


def note_metadata(note: Note) -> dict[str, Any]:
    """The caller's metadata of ``note`` with the note's own fields on top.

    ``links`` lists the linked note ids, strongest first; ``timestamp`` is ISO 8601.
    A key of the caller's metadata that has the name of a note field is shadowed
    here (``memory.get(id).metadata`` still returns the caller's dict verbatim).

    Args:
        note: the note.

    Returns:
        A JSON-serialisable dict.
    """
    metadata: dict[str, Any] = dict(note.metadata)
    metadata.update(
        id=note.id,
        kind=note.kind,
        keywords=list(note.keywords),
        tags=list(note.tags),
        context=note.context,
        links=sorted(note.links, key=lambda target: -note.links[target]),
        timestamp=note.timestamp.isoformat(),
        user_id=note.user_id,
        agent_id=note.agent_id,
        run_id=note.run_id,
    )
    if note.when_to_use:
        metadata["when_to_use"] = note.when_to_use
    return metadata


def result_metadata(result: SearchResult) -> dict[str, Any]:
    """:func:`note_metadata` of a search hit, plus its ``score`` and ``found_by``."""
    metadata = note_metadata(result.note)
    metadata["score"] = float(result.score)
    metadata["found_by"] = result.found_by
    return metadata
