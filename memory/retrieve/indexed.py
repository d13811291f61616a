"""What retrieval indexes for a note (the same text for the vector and BM25)."""

from __future__ import annotations

from memory.model import Note

__all__ = ["index_text"]


def index_text(note: Note) -> str:
    """Procedures and concepts are indexed by their *when to use* key, others by content.

    Recall for a new task must match *when* a procedure applies, not the concrete
    objects of the trajectory it came from.
    """
    if note.kind != "episodic" and note.when_to_use:
        return note.when_to_use
    return note.content
