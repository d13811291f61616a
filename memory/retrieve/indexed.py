"""What retrieval indexes for a note.

The dense index embeds :func:`embedded_text` (the content, or the task a learned
note was distilled from) once, before the mind has built the note: embedding again
after the note's structure is known would double the cost of every ``add``.

The lexical (BM25) index is cheap to rebuild, so it can also hold the note's
structure: :func:`lexical_text` appends the chosen ``fields`` -- the context line
(speaker, date, resolved relative dates, evolved theme), keywords, tags -- so a
question worded like the structure ("when", a date, a theme) finds the note. When
evolution changes a neighbour's context, its lexical entry is rewritten with it.
Which fields help is measured on LoCoMo (``benchmarks/locomo_retrieval.py
--ablations``).
"""

from __future__ import annotations

from collections.abc import Iterable

from memory.errors import InvalidInput
from memory.model import Note

__all__ = [
    "INDEX_FIELDS",
    "embedded_text",
    "index_text",
    "lexical_text",
    "validate_index_fields",
]

INDEX_FIELDS: tuple[str, ...] = ("context", "keywords", "tags")
"""The note fields that can reach the lexical index besides the content."""


def index_text(note: Note) -> str:
    """Procedures and concepts are indexed by their *when to use* key, others by content.

    Recall for a new task must match *when* a procedure applies, not the concrete
    objects of the trajectory it came from.
    """
    if note.kind != "episodic" and note.when_to_use:
        return note.when_to_use
    return note.content


def embedded_text(note: Note) -> str:
    """What the dense index embeds: a learned note's task as it was first stated,
    else :func:`index_text`.

    A *when to use* key has its arguments replaced by ``<arg1>`` placeholders,
    which a sentence embedding reads as noise; the statement the run was learned
    from is a sentence it understands, and recall compares it with the new task's
    statement (:mod:`memory.procedures.fusion`). The lexical index keeps the key.
    """
    if note.kind != "episodic":
        distilled = note.metadata.get("distilled")
        task = distilled.get("task") if isinstance(distilled, dict) else None
        if isinstance(task, str) and task.strip():
            return task
    return index_text(note)


def lexical_text(note: Note, fields: Iterable[str] = ()) -> str:
    """:func:`index_text` plus the chosen structure ``fields`` of an episodic note."""
    text = index_text(note)
    if note.kind != "episodic":
        return text
    parts = [text]
    for name in fields:
        if name == "context" and note.context:
            parts.append(note.context)
        elif name == "keywords" and note.keywords:
            parts.append(", ".join(note.keywords))
        elif name == "tags" and note.tags:
            parts.append(" ".join(tag.replace("-", " ") for tag in note.tags))
    return "\n".join(parts)


def validate_index_fields(fields: Iterable[str]) -> tuple[str, ...]:
    """``fields`` as a tuple, each one of :data:`INDEX_FIELDS`.

    Raises:
        InvalidInput: an unknown field name.
    """
    if isinstance(fields, str):
        raise InvalidInput("index_fields must be a collection of field names, not one string")
    chosen = tuple(fields)
    unknown = [name for name in chosen if name not in INDEX_FIELDS]
    if unknown:
        raise InvalidInput(f"unknown index fields {unknown}; choose from {list(INDEX_FIELDS)}")
    return chosen
