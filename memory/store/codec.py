"""Encoding notes (and their inline history) as Chroma records, and back.

Chroma metadata holds only flat scalars, so list and dict fields are JSON. The
caller's metadata is kept twice: verbatim as JSON (what ``note.metadata``
returns) and flattened as ``m.<key>`` scalars so ``filters=`` can be pushed into
Chroma's ``where``. Chroma merges metadata on upsert, so keys that a new version
drops are written as ``None`` (which deletes them).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from memory.errors import InvalidInput
from memory.model import Note
from memory.store.history import History

__all__ = [
    "INTERNAL_KEYS",
    "USER_PREFIX",
    "decode_note",
    "encode_note",
    "validate_user_metadata",
]

USER_PREFIX = "m."
_JSON_FIELDS = ("keywords", "tags", "links", "sources")
_TEXT_FIELDS = ("context", "when_to_use")
_SCOPE_FIELDS = ("user_id", "agent_id", "run_id")
INTERNAL_KEYS = frozenset(
    {"kind", "metadata", "history", "timestamp", "ts", "created_at", "updated_at", "follows"}
    | set(_JSON_FIELDS)
    | set(_TEXT_FIELDS)
    | set(_SCOPE_FIELDS)
    | {"retrieved_count", "success_count", "pinned"}
)


def validate_user_metadata(metadata: Any) -> dict[str, Any]:
    """Check the caller's metadata round-trips through JSON unchanged.

    Raises:
        InvalidInput: not a dict, non-string keys, or values JSON cannot hold
            (sets, objects, NaN), or lone surrogates -- such values could not
            come back verbatim.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInput(f"metadata must be a dict, not {type(metadata).__name__}")
    for key in metadata:
        if not isinstance(key, str):
            raise InvalidInput(f"metadata keys must be strings, got {key!r}")
    try:
        encoded = json.dumps(metadata, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"metadata must be JSON-serialisable: {exc}") from exc
    try:
        encoded.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Chroma would refuse the record later, as a StoreError, after other checks passed.
        raise InvalidInput(
            "metadata is not valid Unicode (a lone surrogate in a key or value)"
        ) from exc
    if json.loads(encoded) != metadata:
        raise InvalidInput(
            "metadata must round-trip through JSON unchanged (use lists, not tuples; "
            "string keys only)"
        )
    return metadata


def _flat_user_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in metadata.items():
        if isinstance(value, bool | int | str) or (
            isinstance(value, float) and math.isfinite(value)
        ):
            flat[USER_PREFIX + key] = value
    return flat


def encode_note(
    note: Note, history: History, previous: Note | None = None
) -> tuple[str, dict[str, Any]]:
    """``(document, metadata)`` of a note's Chroma record, history inline."""
    meta: dict[str, Any] = {
        "kind": note.kind,
        "metadata": json.dumps(note.metadata, ensure_ascii=False),
        "history": history.encoded(),
        "timestamp": note.timestamp.isoformat(),
        "ts": note.timestamp.timestamp(),
        "created_at": note.created_at.isoformat(),
        "updated_at": note.updated_at.isoformat(),
        "retrieved_count": note.retrieved_count,
        "success_count": note.success_count,
        "pinned": note.pinned,
        "follows": note.follows,
    }
    for field in _JSON_FIELDS:
        meta[field] = json.dumps(getattr(note, field), ensure_ascii=False)
    for field in _TEXT_FIELDS:
        meta[field] = getattr(note, field)
    for field in _SCOPE_FIELDS:
        # "" stands for unset, so "exactly this scope" can be a where clause.
        meta[field] = getattr(note, field) or ""
    meta.update(_flat_user_metadata(note.metadata))
    if previous is not None:
        # Upsert merges metadata: delete the flattened keys this version dropped.
        for key in _flat_user_metadata(previous.metadata):
            meta.setdefault(key, None)
    return note.content, meta


def decode_note(note_id: str, document: str | None, meta: dict[str, Any]) -> Note:
    """Rebuild a ``Note`` from its Chroma record."""
    return Note(
        id=note_id,
        content=document or "",
        kind=meta.get("kind", "episodic"),
        keywords=json.loads(meta.get("keywords") or "[]"),
        tags=json.loads(meta.get("tags") or "[]"),
        context=meta.get("context") or "",
        links=json.loads(meta.get("links") or "{}"),
        timestamp=datetime.fromisoformat(meta["timestamp"]),
        metadata=json.loads(meta.get("metadata") or "{}"),
        sources=json.loads(meta.get("sources") or "[]"),
        when_to_use=meta.get("when_to_use") or "",
        user_id=meta.get("user_id") or None,
        agent_id=meta.get("agent_id") or None,
        run_id=meta.get("run_id") or None,
        created_at=datetime.fromisoformat(meta["created_at"]),
        updated_at=datetime.fromisoformat(meta["updated_at"]),
        retrieved_count=int(meta.get("retrieved_count") or 0),
        success_count=int(meta.get("success_count") or 0),
        pinned=bool(meta.get("pinned", False)),
        follows=meta.get("follows"),
    )
