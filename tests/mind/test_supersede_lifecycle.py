"""No dangling ``superseded_by``: deleting the newer note makes the older one current again,
and ``repair()`` clears a ``superseded_by`` naming a missing note (Chroma and in-memory)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder
from memory.model import Scope
from memory.store import InMemoryNoteStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
OLD = "The team stand-up is at 9:30 every morning"
NEW = "The team stand-up moved to 10:15 every morning"
NEWER = "The team stand-up moved again, to 11:00 every morning"


@pytest.fixture(params=["chroma", "in-memory"])
def mem(request: pytest.FixtureRequest) -> Iterator[AgenticMemory]:
    store = InMemoryNoteStore() if request.param == "in-memory" else None
    memory = AgenticMemory(embedder=HashingEmbedder(), store=store)
    yield memory
    memory.close()


def _update_pair(mem: AgenticMemory, user: str = "u") -> tuple[Note, Note]:
    old = mem.add(OLD, user_id=user, timestamp=T0)
    new = mem.add(NEW, user_id=user, timestamp=T0 + timedelta(days=1))
    assert mem.get(old.id).superseded_by == new.id  # the offline rule's change cue
    return old, new


def _events(mem: AgenticMemory, note: Note, action: str) -> list:
    return [e for e in mem.history(note.id) if e.action == action]


def test_deleting_the_newer_note_makes_the_older_current(mem: AgenticMemory) -> None:
    old, new = _update_pair(mem)
    mem.delete(new.id)

    assert mem.get(old.id).superseded_by is None
    first, cleared = _events(mem, old, "supersede")
    assert first.after == {"superseded_by": new.id}
    assert cleared.before == {"superseded_by": new.id} and cleared.after == {"superseded_by": None}
    assert new.id in cleared.reason and "deleted" in cleared.reason
    current = mem.search("team stand-up", k=3, user_id="u", include_superseded=False)
    assert [h.note.id for h in current] == [old.id]
    assert not any(mem.repair().values())


def test_deleting_the_middle_of_a_chain_frees_only_what_it_superseded(
    mem: AgenticMemory,
) -> None:
    old, new = _update_pair(mem)
    mem.update(new.id, pinned=True)  # unrelated change: the chain stays as it is
    newest = mem.add(NEWER, user_id="u", timestamp=T0 + timedelta(days=2))
    assert mem.get(new.id).superseded_by == newest.id
    assert mem.get(old.id).superseded_by == new.id

    mem.delete(new.id)
    assert mem.get(old.id).superseded_by is None
    assert mem.get(newest.id).superseded_by is None


def test_deleting_the_older_note_changes_nothing_else(mem: AgenticMemory) -> None:
    old, new = _update_pair(mem)
    [recorded] = _events(mem, new, "supersede")  # the newer note's side of the record
    assert recorded.after == {"supersedes": old.id}
    mem.delete(old.id)
    assert mem.get(new.id).superseded_by is None
    assert _events(mem, new, "supersede") == [recorded] and not _events(mem, new, "repair")


def test_delete_all_leaves_no_dangling_successor_and_spares_other_scopes(
    mem: AgenticMemory,
) -> None:
    _update_pair(mem, "u")
    other_old, other_new = _update_pair(mem, "v")
    assert mem.delete_all(user_id="u") == 2

    assert mem.get(other_old.id).superseded_by == other_new.id
    assert not any(mem.repair().values())


def _corrupt(mem: AgenticMemory, note_id: str, superseded_by: str) -> None:
    """Write ``superseded_by`` straight to the store, as an older version or a crash could."""
    stored = mem._store.fetch([note_id], Scope(), with_history=True)[note_id]
    note = stored.note.model_copy(update={"superseded_by": superseded_by})
    mem._store.write([(note, None, stored.log)], {note_id: stored.note})


def test_repair_clears_a_dangling_or_cross_scope_successor(mem: AgenticMemory) -> None:
    lone = mem.add("The office wifi password is on the fridge", user_id="u", timestamp=T0)
    crossed = mem.add("The gym opens at six", user_id="u", timestamp=T0)
    elsewhere = mem.add("The gym opens at seven now", user_id="v", timestamp=T0)
    old, new = _update_pair(mem)
    _corrupt(mem, lone.id, "no-such-note")
    _corrupt(mem, crossed.id, elsewhere.id)

    report = mem.repair()
    assert report["supersessions_cleared"] == 2
    assert mem.get(lone.id).superseded_by is None and mem.get(crossed.id).superseded_by is None
    assert mem.get(old.id).superseded_by == new.id  # a valid one is kept
    [event] = _events(mem, lone, "repair")
    assert event.before == {"superseded_by": "no-such-note"}
    assert event.after == {"superseded_by": None} and event.actor == "repair"
    assert not any(mem.repair().values())


def test_an_interrupted_delete_is_finished_by_repair(mem: AgenticMemory) -> None:
    old, new = _update_pair(mem)
    stored = mem._store.fetch([new.id], Scope(), with_history=True)[new.id]
    mem._store.entomb(stored.note, stored.log)  # the crash came right after the tombstone

    report = mem.repair()
    assert report["deletions_completed"] == 1
    assert mem.get(old.id).superseded_by is None
    assert [e.action for e in mem.history(old.id)][-1] == "supersede"


def test_a_dangling_successor_is_repaired_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "store"

    def opened() -> AgenticMemory:
        return AgenticMemory(path, embedder=HashingEmbedder())

    with opened() as mem:
        old, new = _update_pair(mem)
        stored = mem._store.fetch([new.id], Scope(), with_history=True)[new.id]
        mem._store.entomb(stored.note, stored.log)
        mem._store.remove([new.id])  # deleted by a writer that did not free the older note
    with opened() as mem:
        assert mem.get(old.id).superseded_by is None
        assert _events(mem, old, "repair")
