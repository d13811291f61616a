"""Changing and deleting notes: the rest of the notes half of the public API.

``ChangesApi`` validates the caller's input, takes the memory's lock (through
:class:`~memory.notes_api.NotesApi`) and hands the change to the writer. A new
content is first described again by the memory's mind (:mod:`memory.rederive`),
outside the lock, as ``add`` does for a new note.
"""

from __future__ import annotations

from typing import Any

from memory.errors import InvalidInput
from memory.mind.vocabulary import TagRevision
from memory.model import Note
from memory.notes_api import NotesApi
from memory.rederive import derive_from_content
from memory.retrieve.indexed import embedded_text
from memory.tag_maintenance import TagMaintenance
from memory.validate import validate_changes, validate_scope

__all__ = ["DELETE_ACTIONS", "ChangesApi"]

DELETE_ACTIONS = ("delete", "prune", "merge")
"""The history actions a deletion may be recorded as."""


class ChangesApi(NotesApi):
    """update, delete, delete_all, revise_tags."""

    _tags: TagMaintenance

    def update(
        self,
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

        A new ``content`` rebuilds everything that depends on it: the note is
        re-embedded and re-indexed (dense and BM25), and its keywords, tags and
        context line are derived again from the new text by the memory's mind
        (an LLM mind that fails falls back to the heuristic one; the update is
        never lost). Values you pass for ``keywords``, ``tags`` or ``context`` in
        the same call win over the derived ones. The whole change is one
        ``update`` event with the before and after of every changed field.

        Links are kept as they are: a link records that two notes were related
        when they were made (and the thread link, which note followed which), and
        a rewritten note is still the same note in the same place. Neighbours are
        not evolved again either. To have the note linked afresh, ``delete`` it
        and ``add`` the new text.

        Args:
            note_id: the note to change.
            content: new text.
            metadata: new metadata (replaces the old dict).
            keywords: new keywords.
            tags: new tags.
            context: new one-line context.
            timestamp: new time of the experience (datetime, POSIX time or date
                string).
            pinned: ``True`` keeps the note from ever being pruned.
            user_id: scope: the user the note must belong to.
            agent_id: scope: the agent the note must belong to.
            run_id: scope: the run the note must belong to.

        Returns:
            The note after the change (unchanged when nothing differs).

        Raises:
            NotFound: no such note in this scope.
            InvalidInput: a bad value (nothing changed).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        changes = validate_changes(
            content=content,
            metadata=metadata,
            keywords=keywords,
            tags=tags,
            context=context,
            timestamp=timestamp,
            pinned=pinned,
            max_chars=self.max_content_chars,
        )
        with self._open():
            stored = self._reader.fetch_one(note_id, scope)
        vectors: dict[str, Any] = {}
        reason = "updated by the caller"
        if "content" in changes and changes["content"] != stored.note.content:
            # Outside the lock: an LLM mind may take seconds to describe the text.
            changes, vectors, reason = self._with_derived_fields(stored.note, changes)
        with self._open():
            stored = self._reader.fetch_one(note_id, scope)
            if all(getattr(stored.note, key) == value for key, value in changes.items()):
                return stored.note
            return self._writer.revise(
                [(stored, changes)], action="update", reason=reason, vectors=vectors
            )[0]

    def _with_derived_fields(
        self, note: Note, changes: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], str]:
        """``changes`` plus the fields the mind derives from the new content, the new
        content's vector (when it is what the note is indexed by) and the reason."""
        vector = self._ingest.embed([changes["content"]])[0]
        derived = derive_from_content(
            self._ingest.mind, self._ingest.heuristic, note, changes, vector
        )
        self._meter.add(derived.usage)
        fields = {
            key: value
            for key, value in derived.fields.items()
            if key not in changes and value != getattr(note, key)
        }
        merged = {**changes, **fields}
        after = note.model_copy(update=merged)
        vectors = {note.id: vector} if embedded_text(after) == changes["content"] else {}
        reason = "updated by the caller"
        if fields:
            reason += f"; {', '.join(fields)} derived from the new content ({derived.actor})"
        return merged, vectors, reason

    def delete(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        reason: str = "deleted by the caller",
        action: str = "delete",
    ) -> Note:
        """Delete a note and every link that points to it; its history stays readable.

        A note it superseded is the current fact again (a ``supersede`` event says why).

        Args:
            note_id: the note to delete.
            user_id: scope: the user the note must belong to.
            agent_id: scope: the agent the note must belong to.
            run_id: scope: the run the note must belong to.
            reason: why, recorded in the note's last history event.
            action: the history event's action: "delete", "prune" or "merge".

        Returns:
            The deleted note (its last state).

        Raises:
            NotFound: no such note in this scope.
            InvalidInput: a bad ``action`` or ``reason`` (nothing deleted).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        if action not in DELETE_ACTIONS:
            raise InvalidInput(f"action must be one of {DELETE_ACTIONS}, not {action!r}")
        if not isinstance(reason, str):
            raise InvalidInput("reason must be a str")
        with self._open():
            stored = self._reader.fetch_one(note_id, scope)
            return self._writer.delete(stored, reason=reason, action=action)  # type: ignore[arg-type]

    def delete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """Delete every note of a scope (at least one scope id is required).

        Links never cross scopes, so nothing outside the scope is touched.

        Args:
            user_id: delete the notes of this user.
            agent_id: delete the notes of this agent.
            run_id: delete the notes of this run.

        Returns:
            How many notes were deleted.

        Raises:
            InvalidInput: no scope id given (nothing deleted).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        if scope.is_unscoped:
            raise InvalidInput("delete_all needs user_id, agent_id or run_id")
        with self._open():
            return self._writer.delete_scope(scope)

    def revise_tags(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[TagRevision]:
        """Merge tags that mean the same and split tags that hold two subjects.

        Each exact scope visible here is revised on its own (vocabularies never
        mix); every retagged note gets an ``evolve`` event with the tags before and
        after and the reason (:mod:`memory.mind.vocabulary`).

        Args:
            user_id: scope: only notes of this user.
            agent_id: scope: only notes of this agent.
            run_id: scope: only notes of this run.

        Returns:
            The revisions written.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._tags.revise(scope)
