"""A note's append-only history as the store keeps it: JSON, decoded only when read.

Every write of a note rewrites its whole record, history included, and most
writes only append one event (a neighbour gains a link, a note is retrieved).
Decoding a hub's long history into models and encoding it back on each of those
writes cost more than anything else in an import, so the stored part stays the
JSON array it was read as and new events are spliced onto its end.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from memory.model import Event

__all__ = ["History", "decode_history", "encode_history"]


def encode_history(history: Iterable[Event]) -> str:
    """JSON array of events."""
    return json.dumps([event.model_dump(mode="json") for event in history], ensure_ascii=False)


def decode_history(raw: str | None) -> list[Event]:
    """Events from their JSON array (empty for a missing value)."""
    if not raw:
        return []
    return [Event.model_validate(item) for item in json.loads(raw)]


@dataclass(frozen=True)
class History:
    """The stored JSON array of a note's events plus the events appended since.

    Immutable: :meth:`plus` returns a new value, so a pending write never changes
    what another holder of the same history sees.
    """

    stored: str | None = None
    added: tuple[Event, ...] = ()

    @classmethod
    def of(cls, events: Iterable[Event]) -> History:
        """A history of ``events`` that has never been stored."""
        return cls(None, tuple(events))

    def plus(self, *events: Event) -> History:
        """This history with ``events`` appended."""
        return History(self.stored, (*self.added, *events)) if events else self

    def events(self) -> list[Event]:
        """Every event, oldest first (decodes the stored part)."""
        return [*decode_history(self.stored), *self.added]

    def encoded(self) -> str:
        """The whole history as one JSON array, without decoding the stored part."""
        stored = (self.stored or "").rstrip()
        if not self.added:
            return stored or "[]"
        new = encode_history(self.added)
        if not stored or stored == "[]":
            return new
        if not stored.endswith("]"):
            # Not an array we wrote: go the slow way, which raises on corrupt JSON.
            return encode_history(self.events())
        return f"{stored[:-1]}, {new[1:]}"
