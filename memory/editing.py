"""Changing and deleting notes (mixed into :class:`~memory.facade.AgenticMemory`).

Deletion is ordered for crash safety: the tombstone (last state + history) is
written first, then the neighbours lose their links, then the record goes;
``repair()`` finishes a deletion a crash interrupted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memory.errors import InvalidInput
from memory.model import Event, Note, utc_now
from memory.retrieve.indexed import index_text, lexical_text
from memory.validate import validate_content, validate_scope

if TYPE_CHECKING:
    from memory.facade import AgenticMemory

__all__ = ["EditingMethods"]


class EditingMethods:
    """update, delete and delete_all."""

    # ---- changing and deleting -------------------------------------------------------------

    def update(
        self: AgenticMemory,
        note_id: str,
        *,
        content: str | None = None,
        metadata: dict[str, Any] | None = None,
        keywords: list[str] | None = None,
        tags: list[str] | None = None,
        context: str | None = None,
        timestamp: Any = None,
        pinned: bool | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Note:
        """Change fields of a note; the change is recorded in its history.

        A new ``content`` is re-embedded and re-indexed; links are kept.

        Raises:
            NotFound: no such note in this scope.
            InvalidInput: a bad value (nothing changed).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        changes = self._validated_changes(
            content, metadata, keywords, tags, context, timestamp, pinned
        )
        if not changes:
            raise InvalidInput("update needs at least one field to change")
        with self._lock:
            self._check_open()
            stored = self._fetch_one(note_id, scope)
            before = {key: getattr(stored.note, key) for key in changes}
            if all(before[key] == value for key, value in changes.items()):
                return stored.note
            note = stored.note.model_copy(update={**changes, "updated_at": utc_now()})
            vector = None
            if "content" in changes or (note.kind != "episodic" and "when_to_use" in changes):
                vector = self._embed([index_text(note)])[0]
            event = Event(
                note_id=note.id,
                action="update",
                before=stored.note.model_dump(mode="json", include=set(changes)),
                after=note.model_dump(mode="json", include=set(changes)),
                reason="updated by the caller",
            )
            self._store.write([(note, vector, stored.log.plus(event))], {note.id: stored.note})
            self._index.upsert(
                [(note.id, lexical_text(note, self.index_fields), note.scope, note.kind)]
            )
            return note

    def _validated_changes(
        self: AgenticMemory,
        content: Any,
        metadata: Any,
        keywords: Any,
        tags: Any,
        context: Any,
        timestamp: Any,
        pinned: Any,
    ) -> dict[str, Any]:
        from memory.store.codec import validate_user_metadata
        from memory.text.dialogue import parse_timestamp

        changes: dict[str, Any] = {}
        if content is not None:
            changes["content"] = validate_content(content, max_chars=self.max_content_chars)
        if metadata is not None:
            changes["metadata"] = validate_user_metadata(metadata)
        for name, value in (("keywords", keywords), ("tags", tags)):
            if value is not None:
                if not isinstance(value, list) or not all(
                    isinstance(v, str) and v.strip() for v in value
                ):
                    raise InvalidInput(f"{name} must be a list of non-empty strings")
                try:
                    "".join(value).encode("utf-8")
                except UnicodeEncodeError as exc:  # Chroma would refuse it, as a StoreError
                    raise InvalidInput(f"{name} are not valid Unicode (lone surrogate)") from exc
                changes[name] = value
        if context is not None:
            changes["context"] = validate_content(context, max_chars=2_000, what="context")
        if timestamp is not None:
            changes["timestamp"] = parse_timestamp(timestamp)
        if pinned is not None:
            if not isinstance(pinned, bool):
                raise InvalidInput("pinned must be a bool")
            changes["pinned"] = pinned
        return changes

    def delete(
        self: AgenticMemory,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        reason: str = "deleted by the caller",
        action: str = "delete",
    ) -> Note:
        """Delete a note and every link that points to it; its history stays readable.

        Returns:
            The deleted note (its last state).

        Raises:
            NotFound: no such note in this scope.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._lock:
            self._check_open()
            stored = self._fetch_one(note_id, scope)
            event = Event(
                note_id=note_id,
                action=action,  # type: ignore[arg-type]
                before=stored.note.model_dump(mode="json"),
                reason=reason,
            )
            # Tombstone first: if we die mid-way, repair() finishes the deletion.
            self._store.entomb(stored.note, stored.log.plus(event))
            self._unlink_and_remove(stored.note)
            return stored.note

    def _unlink_and_remove(self: AgenticMemory, note: Note) -> None:
        # The next turn of the thread follows this note without being linked to it
        # unless the two are related: it loses its ``follows`` pointer too.
        thread = self._store.thread_neighbours([note.id], note.scope)
        successor = thread.get(note.id, (None, None))[1]
        ids = list(note.links) + ([successor] if successor and successor not in note.links else [])
        linked = self._store.fetch(ids, note.scope, with_history=True)
        records = []
        for neighbour in linked.values():
            links = {t: s for t, s in neighbour.note.links.items() if t != note.id}
            follows = None if neighbour.note.follows == note.id else neighbour.note.follows
            changed = neighbour.note.model_copy(
                update={"links": links, "follows": follows, "updated_at": utc_now()}
            )
            event = Event(
                note_id=changed.id,
                action="unlink",
                before={"link" if note.id in neighbour.note.links else "follows": note.id},
                reason=f"linked note {note.id} was deleted",
            )
            records.append((changed, None, neighbour.log.plus(event)))
        self._store.write(records, {r[0].id: linked[r[0].id].note for r in records})
        self._store.remove([note.id])
        self._index.remove([note.id])
        tail = self._tails.get(note.scope)
        if tail is not None and tail[0] == note.id:
            del self._tails[note.scope]

    def delete_all(
        self: AgenticMemory,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """Delete every note of a scope (at least one scope id is required).

        Links never cross scopes, so nothing outside the scope is touched.

        Returns:
            How many notes were deleted.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        if scope.is_unscoped:
            raise InvalidInput("delete_all needs user_id, agent_id or run_id")
        with self._lock:
            self._check_open()
            ids = sorted(self._store.matching_ids(scope))
            for start in range(0, len(ids), 500):
                chunk = self._store.fetch(ids[start : start + 500], scope, with_history=True)
                tombstones = []
                for stored in chunk.values():
                    event = Event(
                        note_id=stored.note.id,
                        action="delete",
                        before=stored.note.model_dump(mode="json"),
                        reason=f"delete_all({scope.model_dump(exclude_none=True)})",
                    )
                    tombstones.append((stored.note, stored.log.plus(event)))
                self._store.entomb_many(tombstones)
                self._store.remove(list(chunk))
                self._index.remove(chunk)
            for tail_scope in [s for s in self._tails if scope.admits(s)]:
                del self._tails[tail_scope]
            return len(ids)
