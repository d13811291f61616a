"""Who each stored note belongs to and where it sits in its thread, held in memory.

A search ranks a pool of a few hundred candidate ids and returns ten notes. Asking
Chroma for every candidate's full record just to learn its scope, kind and
``follows`` costs more than the ranking itself once the store outgrows the read
cache (measured at 100k notes: most of a 150 ms search). The catalog keeps those
few fields for every note, so visibility checks and thread context need no store
round trip and only the notes returned are read in full.

It is only trustworthy while this process is the store's single writer, and only
once a full scan has filled it (``complete``); until then callers fall back to
reading records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from memory.model import Note, Scope

__all__ = ["Catalog"]

# Beyond this many distinct scopes, finding every scope a user-less partial scope admits
# would cost more than the query it is meant to help (an exact scope is one lookup, and
# a scope naming its user judges only that user's scopes).
_MAX_SCOPES_TO_SCAN = 512


class _Entry(NamedTuple):
    scope: Scope
    kind: str
    follows: str | None


class Catalog:
    """Scope, kind and predecessor of every note, plus who follows whom."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._successor: dict[str, str] = {}
        # One Scope object per distinct scope: 100k notes in a few scopes share them.
        self._scopes: dict[Scope, Scope] = {}
        # scope -> kind -> ids, in the order they were recorded.
        self._members: dict[Scope, dict[str, dict[str, None]]] = {}
        # user id -> the scopes holding that user's notes: a search names its user,
        # so with thousands of tenants it need not judge every scope.
        # (Ordered, like everything here, so equal scores rank the same in every run.)
        self._user_scopes: dict[str | None, dict[Scope, None]] = {}
        self.complete = False
        self.version = 0  # changes with every record and forget (keys cached scans)

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, notes: Iterable[Note]) -> None:
        """Add or replace these notes' entries."""
        self.version += 1
        for note in notes:
            self._drop(note.id)
            scope = note.scope
            scope = self._scopes.setdefault(scope, scope)
            self._entries[note.id] = _Entry(scope, note.kind, note.follows)
            self._members.setdefault(scope, {}).setdefault(note.kind, {})[note.id] = None
            self._user_scopes.setdefault(scope.user_id, {})[scope] = None
            if note.follows is not None:
                self._successor[note.follows] = note.id

    def forget(self, note_ids: Iterable[str]) -> None:
        """Drop these notes' entries (unknown ids are ignored)."""
        self.version += 1
        for note_id in note_ids:
            self._drop(note_id)

    def _drop(self, note_id: str) -> None:
        entry = self._entries.pop(note_id, None)
        if entry is None:
            return
        kinds = self._members[entry.scope]
        del kinds[entry.kind][note_id]
        if not kinds[entry.kind]:
            del kinds[entry.kind]
            if not kinds:
                del self._members[entry.scope]
                users = self._user_scopes[entry.scope.user_id]
                users.pop(entry.scope, None)
                if not users:
                    del self._user_scopes[entry.scope.user_id]
        if entry.follows is not None and self._successor.get(entry.follows) == note_id:
            del self._successor[entry.follows]

    def count_visible(
        self, scope: Scope, *, kinds: Sequence[str] | None = None, exact_scope: bool = False
    ) -> int | None:
        """How many notes ``scope`` sees (``None`` when there are too many scopes to judge)."""
        groups = self._groups_seen(scope, kinds, exact_scope)
        return None if groups is None else sum(len(ids) for ids in groups)

    def members(
        self, scope: Scope, *, kinds: Sequence[str] | None = None, exact_scope: bool = False
    ) -> list[str] | None:
        """Ids of every note ``scope`` sees (``None`` when there are too many scopes to judge)."""
        groups = self._groups_seen(scope, kinds, exact_scope)
        return None if groups is None else [note_id for ids in groups for note_id in ids]

    def scope_of(self, note_id: str) -> Scope | None:
        """The scope a note belongs to, if it is known."""
        entry = self._entries.get(note_id)
        return entry.scope if entry is not None else None

    def _groups_seen(
        self, scope: Scope, kinds: Sequence[str] | None, exact_scope: bool
    ) -> list[dict[str, None]] | None:
        if exact_scope:
            by_kind = [self._members.get(scope, {})]
        else:
            candidates: Iterable[Scope] = self._members
            if scope.user_id is not None:
                candidates = self._user_scopes.get(scope.user_id, ())
            elif len(self._members) > _MAX_SCOPES_TO_SCAN:
                return None
            by_kind = [self._members[member] for member in candidates if scope.admits(member)]
        return [
            ids
            for groups in by_kind
            for kind, ids in groups.items()
            if kinds is None or kind in kinds
        ]

    def visible(
        self,
        ids: Iterable[str],
        scope: Scope,
        *,
        kinds: Sequence[str] | None = None,
        exact_scope: bool = False,
    ) -> set[str]:
        """Which of ``ids`` exist, are visible in ``scope`` and are of one of ``kinds``."""
        out: set[str] = set()
        # Scopes are interned and few: judge each once per call, not once per note.
        verdicts: dict[int, bool] = {}
        for note_id in ids:
            entry = self._entries.get(note_id)
            if entry is None:
                continue
            admitted = verdicts.get(id(entry.scope))
            if admitted is None:
                admitted = (entry.scope == scope) if exact_scope else scope.admits(entry.scope)
                verdicts[id(entry.scope)] = admitted
            if admitted and (kinds is None or entry.kind in kinds):
                out.add(note_id)
        return out

    def thread(self, note_id: str) -> tuple[str | None, str | None]:
        """``(predecessor, successor)`` of a note in its conversation thread."""
        entry = self._entries.get(note_id)
        predecessor = entry.follows if entry is not None else None
        return predecessor, self._successor.get(note_id)
