"""Chat messages as notes: one note per message, ``"role: text"`` plus role, session and time.

The LangChain chat history and the LlamaIndex memory block both write messages
this way, so a conversation remembered through one adapter reads the same
through the other, and ``memory.search`` finds it like any other note.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from memory.model import Scope, utc_now

__all__ = [
    "ROLE_KEY",
    "SESSION_KEY",
    "TIME_KEY",
    "TURN_KEY",
    "chat_item",
    "split_chat_content",
]

ROLE_KEY = "role"
SESSION_KEY = "session"
TIME_KEY = "time"
TURN_KEY = "turn"


def chat_item(
    role: str,
    text: str,
    *,
    scope: Scope,
    session: str | None,
    at: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The ``add_many`` item that stores one chat message, or ``None`` if it has no text.

    Args:
        role: who spoke ("user", "assistant", "system", "tool", ...).
        text: what was said; surrounding whitespace is dropped.
        scope: the scope the note is written to.
        session: the conversation's id (kept in metadata as ``session``).
        at: when it was said (default now); also the note's timestamp.
        extra: more metadata (the message's own keys do not override it).

    Returns:
        A dict with ``content``, ``timestamp``, ``metadata`` and the scope ids.
    """
    text = text.strip()
    if not text:
        return None
    at = at or utc_now()
    metadata: dict[str, Any] = {ROLE_KEY: role, TIME_KEY: at.isoformat()}
    if session is not None:
        metadata[SESSION_KEY] = session
    metadata.update(extra or {})
    return {
        "content": f"{role}: {text}",
        "timestamp": at,
        "metadata": metadata,
        "user_id": scope.user_id,
        "agent_id": scope.agent_id,
        "run_id": scope.run_id,
    }


def split_chat_content(content: str, role: str | None = None) -> tuple[str | None, str]:
    """``(role, text)`` of a note written by :func:`chat_item`.

    Args:
        content: the note's content.
        role: the role from the note's metadata, if known (then only that prefix
            is removed, so a text that itself contains ``": "`` survives).

    Returns:
        The role (``None`` if the content has no ``"role: "`` prefix) and the text.
    """
    if role is not None and content.startswith(f"{role}: "):
        return role, content[len(role) + 2 :]
    head, sep, tail = content.partition(": ")
    if sep and head and " " not in head:
        return head, tail
    return None, content
