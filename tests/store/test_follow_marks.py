"""The change feed's write marks: a followed change settles once its write has ended."""

from __future__ import annotations

import uuid

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings

from memory.model import Event, Note
from memory.store import ChromaNoteStore, History
from memory.store.base import StoredNote
from memory.store.chroma_records import FeedEntry
from memory.store.follow import FeedFollower


class Feed:
    """The two calls a follower makes of the events collection, on a list."""

    def __init__(self) -> None:
        self.entries: list[FeedEntry] = []

    def event_count(self) -> int:
        return len(self.entries)

    def events_after(self, position: int, limit: int) -> list[FeedEntry]:
        return self.entries[position : position + limit]


def follower() -> tuple[FeedFollower, Feed, list[list[str]]]:
    feed, reads = Feed(), []
    notes = {name: StoredNote(Note(content=name, user_id="u1")) for name in "xyzq"}

    def read(ids: list[str]) -> dict[str, StoredNote]:
        reads.append(sorted(ids))
        return {i: notes[i] for i in ids if i in notes}

    return FeedFollower(feed, read, writer_id="me"), feed, reads


@pytest.fixture(autouse=True)
def no_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("memory.store.follow.SETTLE_SECONDS", 3600.0)


def test_a_change_is_read_until_a_later_event_says_its_write_has_ended() -> None:
    follow, feed, reads = follower()
    feed.entries.append(FeedEntry("x", "link", "w1", write=0, done=0))
    follow.catch_up(force=True)
    follow.catch_up(force=True)  # write 0 may still be storing x's record: read again
    assert reads == [["x"], ["x"]]
    feed.entries.append(FeedEntry("y", "create", "w1", write=1, done=1))  # write 0 ended
    follow.catch_up(force=True)
    assert reads[-1] == ["x", "y"]  # x read once more, after its write ended
    assert follow.catch_up(force=True) == 0 and len(reads) == 3  # nothing left to watch


def test_changes_without_marks_or_of_another_writer_keep_being_read() -> None:
    follow, feed, reads = follower()
    feed.entries.append(FeedEntry("z", "link", "w2"))  # an older release: no marks
    feed.entries.append(FeedEntry("q", "link", "w3", write=4, done=4))
    feed.entries.append(FeedEntry("x", "create", "w2", write=9, done=9))
    feed.entries.append(FeedEntry("y", "create", "w1", write=7, done=7))  # not w3's end
    follow.catch_up(force=True)
    assert follow.catch_up(force=True) == 2 and reads[-1] == ["q", "z"]
    feed.entries.append(FeedEntry("y", "link", "me", write=5, done=5))  # own: skipped
    follow.catch_up(force=True)
    assert reads[-1] == ["q", "z"]
    feed.entries.append(FeedEntry("x", "link", "w3", write=5, done=5))
    follow.catch_up(force=True)
    assert reads[-1] == ["q", "x", "z"]  # q's write 4 ended; x waits for w3's write 5
    follow.catch_up(force=True)
    assert reads[-1] == ["x", "z"]


def test_a_chroma_store_marks_each_write_s_events() -> None:
    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    store = ChromaNoteStore(client=client, prefix=f"m-{uuid.uuid4().hex[:8]}", shared=True)
    for number in range(2):
        note = Note(content=f"note {number}", user_id="u1")
        history = History.of([Event(note_id=note.id, action="create")])
        store.write([(note, np.ones(4, dtype=np.float32), history)])
    entries = store._records.events_after(0, 10)  # type: ignore[attr-defined]
    assert [(e.write, e.done) for e in entries] == [(0, 0), (1, 1)]
    assert {e.writer for e in entries} == {store.writer_id}
    store.close()
