"""Following a shared store's change feed: other processes' writes, applied here.

On a store other processes write (a Chroma server), each process keeps what it
may remember -- the catalog, decoded notes, the scopes' vectors (see
:mod:`~memory.store.chroma_state`) and its lexical index -- current by reading
the change feed: the event records, in the order Chroma stored them
(:meth:`~memory.store.chroma_records.ChromaRecords.events_after`). A read polls
the feed at most once every ``REFRESH_SECONDS``; the notes that changed are
read again (one ``get`` with vectors and links) and handed to every listener.
The process's own events are skipped: its writes update its state as they go.

Staleness bound: a note another process added, changed or deleted is seen as
it is now by the first read that starts ``REFRESH_SECONDS`` (0.2 s) or more after
that process's call returned.

A writer stores a note's events *before* its records (so a crash never leaves a
note without its history), so the feed can name a change whose record has not
landed yet. Hence a followed change is read again at every poll until it has
settled: a created note until its record exists, a deleted one until its record
is gone (it is hidden from the first sight of its delete event), any other
change until its writer's events say the write that made it has ended (each
event carries its write's number and the writer's lowest unfinished write,
:func:`~memory.store.chroma_layout.event_record`) or, for a writer that says
nothing more (events of older releases, a writer gone quiet), for
``SETTLE_SECONDS`` after it was first seen -- a write whose records land later
than that after its events (a stalled writer) is seen at the note's next change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from memory.store.base import StoredNote

__all__ = ["FeedFollower", "REFRESH_SECONDS", "SETTLE_SECONDS"]

REFRESH_SECONDS = 0.2
"""How often (at most) a read of a shared store polls the change feed."""
SETTLE_SECONDS = 2.0
"""How long a changed note is read again at each poll (its records may land after its event)."""
_PENDING_SECONDS = 60.0  # a created note not stored yet (or a deleted one still there)
_FEED_PAGE = 5000

Listener = Callable[[dict[str, StoredNote], list[str]], None]
"""Called with ``(notes changed or created, ids deleted)``."""


class FeedFollower:
    """Reads the change feed and tells each listener what changed.

    Args:
        records: the store's collections (``event_count`` / ``events_after``).
        read: reads the current records of some ids (vectors and links included).
        writer_id: this process's writer id; its own events are skipped.
    """

    def __init__(
        self, records: Any, read: Callable[[list[str]], dict[str, StoredNote]], writer_id: str
    ) -> None:
        self._records = records
        self._read = read
        self._writer_id = writer_id
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        # Read before the open-time scan, so nothing written meanwhile is missed
        # (applying a change twice is harmless).
        self.position = records.event_count()
        self._checked = time.monotonic()
        # id -> (what is awaited: "create" / "delete" / "change", when first seen)
        self._watch: dict[str, tuple[str, float]] = {}
        # id -> the (writer, write) whose end settles its change (None: time only)
        self._writes: dict[str, set[tuple[str, int]] | None] = {}
        self._done: dict[str, int] = {}  # writer -> every write below this has ended

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every change applied from now on."""
        self._listeners.append(listener)

    def not_deleting(self, ids: list[str]) -> list[str]:
        """``ids`` less the notes whose delete event was seen while their record remains."""
        watch = self._watch
        if not watch:
            return ids
        return [i for i in ids if watch.get(i, ("", 0.0))[0] != "delete"]

    def catch_up(self, *, max_age: float = REFRESH_SECONDS, force: bool = False) -> int:
        """Poll the feed if the last poll is older than ``max_age`` (or ``force``).

        Returns how many notes were re-read or removed.

        Raises:
            StoreError: the feed could not be read (``StoreUnavailable``: the server
                is gone); the next call polls again, nothing is served as current.
        """
        if not force and time.monotonic() - self._checked < max_age:
            return 0
        with self._lock:
            now = time.monotonic()
            if not force and now - self._checked < max_age:
                return 0  # another thread polled meanwhile
            done = self._poll(now)
            self._checked = now
            return done

    def _await_write(self, note_id: str, writer: str, write: int | None) -> None:
        """Settle ``note_id``'s change once ``writer``'s write ``write`` has ended."""
        pending = self._writes.setdefault(note_id, set())
        if pending is None or write is None:  # a change without marks: settled by time
            self._writes[note_id] = None
        else:
            pending.add((writer, write))

    def _landed(self, note_id: str) -> bool:
        """Whether every write that changed ``note_id`` is known to have ended (its
        records were stored before this poll read the note)."""
        writes = self._writes.get(note_id)
        if not writes:
            return False
        return all(self._done.get(writer, 0) > write for writer, write in writes)

    def _poll(self, now: float) -> int:
        position = self.position
        # A count first: a read past an offset may cost the server a walk over the events
        # before it, a count does not, and most polls find nothing new.
        while self._records.event_count() > position:
            changes = self._records.events_after(position, _FEED_PAGE)
            position += len(changes)
            for entry in changes:
                if entry.writer == self._writer_id:
                    continue
                if entry.done is not None:
                    done = self._done.get(entry.writer, 0)
                    self._done[entry.writer] = max(done, entry.done)
                note_id, action = entry.note_id, entry.action
                awaited = self._watch.get(note_id, ("", 0.0))[0]
                if action == "delete" or awaited == "delete":
                    self._watch[note_id] = ("delete", now)
                elif action == "create" and awaited != "change":
                    self._watch[note_id] = ("create", now)
                else:  # a later change may land after the create is visible
                    self._watch[note_id] = ("change", now)
                    self._await_write(note_id, entry.writer, entry.write)
            if len(changes) < _FEED_PAGE:
                break
        if not self._watch:
            self.position = position
            return 0
        found = self._read(list(self._watch))
        self.position = position  # only once the notes named so far are read
        changed: dict[str, StoredNote] = {}
        removed: list[str] = []
        for note_id, (awaited, seen) in list(self._watch.items()):
            stored = found.get(note_id)
            if awaited == "delete" or stored is None:
                # Hidden from its delete event on (or not stored yet): watched until
                # the record is gone (or has landed).
                removed.append(note_id)
                settled = awaited == "delete" and stored is None
            else:
                changed[note_id] = stored
                settled = awaited == "create" or now - seen >= SETTLE_SECONDS
                settled = settled or self._landed(note_id)
            if settled or now - seen >= _PENDING_SECONDS:
                del self._watch[note_id]
                self._writes.pop(note_id, None)
        for listener in self._listeners:
            listener(changed, removed)
        return len(changed) + len(removed)
