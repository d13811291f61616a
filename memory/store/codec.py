"""Encoding notes (and their inline history) as Chroma records, and back.

Chroma metadata holds only flat scalars. Only what ``where`` clauses filter on
gets a key of its own (kind, scope, follows, and the caller's metadata flattened
as ``m.<key>`` scalars so ``filters=`` can be pushed into Chroma); every other
field travels in one JSON ``fields`` value and the history in another. Chroma
writes a row per key, so this layout made writes about twice as fast as one key
per field (which older stores still have: they are read as they are and
rewritten on open). Chroma merges metadata on upsert and update, so keys that a
new version drops are written as ``None`` (which deletes them).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from memory.errors import InvalidInput
from memory.model import Note
from memory.store.chroma_layout import (
    HISTORY_ELSEWHERE,
    LAYOUT,
    LAYOUT_KEY,
    LINKS_ELSEWHERE,
    check_layout,
)
from memory.store.history import History

__all__ = [
    "FIELDS_KEY",
    "LEGACY_KEYS",
    "USER_PREFIX",
    "decode_note",
    "encode_note",
    "history_inline",
    "is_legacy",
    "without_legacy_keys",
    "validate_user_metadata",
]

USER_PREFIX = "m."
FIELDS_KEY = "fields"
_JSON_FIELDS = ("keywords", "tags", "links", "sources")
_TEXT_FIELDS = ("context", "when_to_use")
_SCOPE_FIELDS = ("user_id", "agent_id", "run_id")
_FILTER_FIELDS = ("kind", "follows")
LEGACY_KEYS = (
    *_JSON_FIELDS,
    *_TEXT_FIELDS,
    "metadata",
    "timestamp",
    "ts",
    "created_at",
    "updated_at",
    "retrieved_count",
    "success_count",
    "pinned",
)
"""Keys of the first layout, one per field; read still, rewritten on open."""


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
    note: Note,
    history: History,
    previous: Note | None = None,
    *,
    changes_only: bool = False,
    records_elsewhere: bool = False,
) -> tuple[str, dict[str, Any]]:
    """``(document, metadata)`` of a note's Chroma record, history inline.

    Args:
        note: the version to write.
        history: its whole history.
        previous: the stored version it replaces, if any.
        changes_only: leave out the keys whose value ``previous`` already has
            (Chroma's ``update`` keeps keys it is not sent, and each key sent
            costs it a row write).
        records_elsewhere: layout 3 (see :mod:`~memory.store.chroma_layout`): links
            and history live in records of their own; the record holds markers.
    """
    meta: dict[str, Any] = {
        FIELDS_KEY: json.dumps(
            {
                "metadata": note.metadata,
                "timestamp": note.timestamp.isoformat(),
                "created_at": note.created_at.isoformat(),
                "updated_at": note.updated_at.isoformat(),
                "retrieved_count": note.retrieved_count,
                "success_count": note.success_count,
                "pinned": note.pinned,
                "superseded_by": note.superseded_by,
                **{field: getattr(note, field) for field in (*_JSON_FIELDS, *_TEXT_FIELDS)},
                **({"links": LINKS_ELSEWHERE} if records_elsewhere else {}),
            },
            ensure_ascii=False,
        ),
        "history": HISTORY_ELSEWHERE if records_elsewhere else history.encoded(),
    }
    if records_elsewhere:
        meta[LAYOUT_KEY] = LAYOUT
    unchanged = previous if changes_only else None
    for field in (*_FILTER_FIELDS, *_SCOPE_FIELDS):
        value = getattr(note, field)
        if unchanged is not None and value == getattr(unchanged, field):
            continue
        # "" stands for an unset scope, so "exactly this scope" can be a where clause.
        meta[field] = (value or "") if field in _SCOPE_FIELDS else value
    if unchanged is None or note.metadata != unchanged.metadata:
        meta.update(_flat_user_metadata(note.metadata))
        if previous is not None:
            # Chroma merges metadata: delete the flattened keys this version dropped.
            for key in _flat_user_metadata(previous.metadata):
                meta.setdefault(key, None)
    return note.content, meta


def without_legacy_keys(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` plus deletions of the keys the one-key-per-field layout used."""
    return {**dict.fromkeys(LEGACY_KEYS), **meta}


def is_legacy(meta: dict[str, Any]) -> bool:
    """Whether a record was written in an earlier layout (1 or 2) and is to be upgraded."""
    return FIELDS_KEY not in meta or meta.get(LAYOUT_KEY) != LAYOUT


def history_inline(meta: dict[str, Any]) -> str | None:
    """The history a record of layout 1 or 2 holds inline (``None`` in layout 3)."""
    raw = meta.get("history")
    return None if raw == HISTORY_ELSEWHERE or meta.get(LAYOUT_KEY) == LAYOUT else raw


def decode_note(note_id: str, document: str | None, meta: dict[str, Any]) -> Note:
    """Rebuild a ``Note`` from its Chroma record (either layout)."""
    check_layout(meta.get(LAYOUT_KEY), f"note {note_id}")
    fields = json.loads(meta[FIELDS_KEY]) if FIELDS_KEY in meta else _legacy_fields(meta)
    links = fields.get("links")
    if not isinstance(links, dict):
        links = {}  # layout 3: assembled from the link records by the store
    return Note(
        id=note_id,
        content=document or "",
        kind=meta.get("kind", "episodic"),
        keywords=fields.get("keywords") or [],
        tags=fields.get("tags") or [],
        context=fields.get("context") or "",
        links=links,
        timestamp=datetime.fromisoformat(fields["timestamp"]),
        metadata=fields.get("metadata") or {},
        sources=fields.get("sources") or [],
        when_to_use=fields.get("when_to_use") or "",
        user_id=meta.get("user_id") or None,
        agent_id=meta.get("agent_id") or None,
        run_id=meta.get("run_id") or None,
        created_at=datetime.fromisoformat(fields["created_at"]),
        updated_at=datetime.fromisoformat(fields["updated_at"]),
        retrieved_count=int(fields.get("retrieved_count") or 0),
        success_count=int(fields.get("success_count") or 0),
        pinned=bool(fields.get("pinned", False)),
        follows=meta.get("follows"),
        superseded_by=fields.get("superseded_by"),
    )


def _legacy_fields(meta: dict[str, Any]) -> dict[str, Any]:
    fields = {key: meta.get(key) for key in LEGACY_KEYS}
    for key in (*_JSON_FIELDS, "metadata"):
        raw = meta.get(key) or "null"
        fields[key] = None if raw == LINKS_ELSEWHERE else json.loads(raw)
    return fields
