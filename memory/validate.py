"""Checking the caller's input before anything is written.

Every public write validates all of its input first, so a rejected call leaves
the store exactly as it was. Rules (documented in the README):

- content: a ``str`` with non-whitespace text, no NUL bytes, no lone UTF-16
  surrogates, at most ``max_chars`` characters; surrounding whitespace is kept.
- scope ids: ``None`` or a non-empty ``str`` of at most 256 characters without NUL.
- metadata: a JSON-round-trippable dict with string keys (any key names: the
  caller's metadata is namespaced internally, so nothing can clash).
- timestamp: datetime, POSIX number or date string (see ``parse_timestamp``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from memory.errors import InvalidInput
from memory.model import NOTE_KINDS, Scope, utc_now
from memory.store.codec import validate_user_metadata
from memory.text.dialogue import parse_timestamp

__all__ = [
    "NoteInput",
    "item_input",
    "items_input",
    "note_input",
    "validate_batch_size",
    "validate_changes",
    "validate_content",
    "validate_k",
    "validate_note_id",
    "validate_note_ids",
    "validate_scope",
]

_ITEM_KEYS = frozenset(
    {"content", "timestamp", "metadata", "user_id", "agent_id", "run_id", "kind"}
)
MAX_K = 10_000


class NoteInput(BaseModel):
    """One validated ``add`` request."""

    model_config = ConfigDict(frozen=True)

    content: str
    timestamp: datetime
    metadata: dict[str, Any]
    scope: Scope
    kind: str = "episodic"


def validate_content(content: Any, *, max_chars: int, what: str = "content") -> str:
    """Return ``content`` if acceptable, else raise :class:`InvalidInput`."""
    if not isinstance(content, str):
        raise InvalidInput(f"{what} must be a str, not {type(content).__name__}")
    if not content.strip():
        raise InvalidInput(f"{what} must not be empty or whitespace")
    if len(content) > max_chars:
        raise InvalidInput(
            f"{what} has {len(content):,} characters; the limit is {max_chars:,} "
            "(split it into several notes, or raise max_content_chars)"
        )
    if "\x00" in content:
        raise InvalidInput(f"{what} contains NUL bytes")
    try:
        content.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{what} is not valid Unicode (lone surrogate at {exc.start})") from exc
    return content


def validate_scope(user_id: Any, agent_id: Any, run_id: Any) -> Scope:
    """A :class:`Scope` from the three ids, each ``None`` or a short non-empty str."""
    for name, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidInput(f"{name} must be a str or None, not {type(value).__name__}")
        if not value.strip() or len(value) > 256 or "\x00" in value:
            raise InvalidInput(f"{name} must be 1-256 characters without NUL bytes")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput(f"{name} is not valid Unicode") from exc
    return Scope(user_id=user_id, agent_id=agent_id, run_id=run_id)


def validate_note_id(note_id: Any) -> str:
    """A note id must be a non-empty ``str`` that is valid Unicode."""
    if not isinstance(note_id, str) or not note_id:
        raise InvalidInput(f"note id must be a non-empty str, not {note_id!r}")
    try:
        note_id.encode("utf-8")
    except UnicodeEncodeError as exc:  # no stored id is like that; Chroma would raise
        raise InvalidInput(f"note id {note_id!r} is not valid Unicode") from exc
    return note_id


def validate_batch_size(batch_size: Any, default: int) -> int:
    """``batch_size`` (``None`` means ``default``) must be a positive int.

    A zero or negative size would make the batching loop store nothing at all.
    """
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInput(f"batch_size must be a positive int, got {batch_size!r}")
    return batch_size


def validate_k(k: Any) -> int:
    """``k`` must be an int between 1 and 10,000."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidInput(f"k must be an int, not {type(k).__name__}")
    if not 1 <= k <= MAX_K:
        raise InvalidInput(f"k must be between 1 and {MAX_K:,}, got {k}")
    return k


def note_input(
    content: Any,
    *,
    timestamp: Any = None,
    metadata: Any = None,
    user_id: Any = None,
    agent_id: Any = None,
    run_id: Any = None,
    kind: Any = "episodic",
    max_chars: int,
) -> NoteInput:
    """Validate one ``add`` request."""
    if kind not in NOTE_KINDS:
        raise InvalidInput(f"kind must be one of {NOTE_KINDS}, got {kind!r}")
    return NoteInput(
        content=validate_content(content, max_chars=max_chars),
        timestamp=utc_now() if timestamp is None else parse_timestamp(timestamp),
        metadata=validate_user_metadata(metadata),
        scope=validate_scope(user_id, agent_id, run_id),
        kind=kind,
    )


def item_input(item: Any, index: int, *, max_chars: int) -> NoteInput:
    """Validate one ``add_many`` item: a str or a dict with ``add``'s keywords."""
    if isinstance(item, str):
        return note_input(item, max_chars=max_chars)
    if not isinstance(item, dict):
        raise InvalidInput(f"item {index} must be a str or a dict, not {type(item).__name__}")
    unknown = set(item) - _ITEM_KEYS
    if unknown:
        raise InvalidInput(f"item {index} has unknown keys {sorted(unknown)}")
    if "content" not in item:
        raise InvalidInput(f"item {index} has no 'content'")
    try:
        return note_input(max_chars=max_chars, **item)
    except InvalidInput as exc:
        raise InvalidInput(f"item {index}: {exc}") from exc


def items_input(items: Any, *, max_chars: int, method: str) -> list[NoteInput]:
    """Validate every ``add_many`` item (a list, never a single item)."""
    if isinstance(items, str | bytes | dict):
        raise InvalidInput(f"{method} takes a list of items, not a single item")
    return [item_input(item, index, max_chars=max_chars) for index, item in enumerate(items)]


def validate_note_ids(note_ids: Any) -> list[str]:
    """A list of well-formed note ids (``feedback``'s argument)."""
    if isinstance(note_ids, str) or not isinstance(note_ids, Sequence):
        raise InvalidInput("note_ids must be a list of note ids")
    return [validate_note_id(note_id) for note_id in note_ids]


def _terms(name: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidInput(f"{name} must be a list of non-empty strings")
    try:
        "".join(value).encode("utf-8")
    except UnicodeEncodeError as exc:  # Chroma would refuse it, as a StoreError
        raise InvalidInput(f"{name} are not valid Unicode (lone surrogate)") from exc
    return value


def validate_changes(
    *,
    content: Any,
    metadata: Any,
    keywords: Any,
    tags: Any,
    context: Any,
    timestamp: Any,
    pinned: Any,
    max_chars: int,
) -> dict[str, Any]:
    """``update``'s arguments that are set, checked.

    Raises:
        InvalidInput: a bad value, or nothing to change.
    """
    changes: dict[str, Any] = {}
    if content is not None:
        changes["content"] = validate_content(content, max_chars=max_chars)
    if metadata is not None:
        changes["metadata"] = validate_user_metadata(metadata)
    if keywords is not None:
        changes["keywords"] = _terms("keywords", keywords)
    if tags is not None:
        changes["tags"] = _terms("tags", tags)
    if context is not None:
        changes["context"] = validate_content(context, max_chars=2_000, what="context")
    if timestamp is not None:
        changes["timestamp"] = parse_timestamp(timestamp)
    if pinned is not None:
        if not isinstance(pinned, bool):
            raise InvalidInput("pinned must be a bool")
        changes["pinned"] = pinned
    if not changes:
        raise InvalidInput("update needs at least one field to change")
    return changes
