"""The NoteStore contract: every implementation must pass every test here.

Run against Chroma (uncached, as on a shared server; and cached with a trusted
catalog, as for a single writer) and against the InMemoryNoteStore.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from memory.errors import InvalidInput, StoreError
from memory.model import Event, Note, Scope
from memory.store import ChromaNoteStore, History, InMemoryNoteStore, NoteStore

DIM = 8
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def basis(i: int, j: int | None = None, w: float = 0.0) -> np.ndarray:
    """A unit vector along axis ``i`` (tilted towards axis ``j`` by ``w``)."""
    v = np.zeros(DIM, dtype=np.float32)
    v[i] = 1.0
    if j is not None:
        v[j] = w
    return v / np.linalg.norm(v)


def note(content: str, *, user: str | None = "u1", run: str | None = None, **fields) -> Note:
    now = T0 + timedelta(seconds=len(content))
    return Note(
        content=content,
        user_id=user,
        run_id=run,
        timestamp=now,
        created_at=now,
        updated_at=now,
        **fields,
    )


def created(n: Note) -> History:
    return History.of([Event(note_id=n.id, action="create", reason="test")])


def chroma(cache_size: int) -> ChromaNoteStore:
    import chromadb
    from chromadb.config import Settings

    client = chromadb.EphemeralClient(settings=Settings(anonymized_telemetry=False))
    return ChromaNoteStore(
        client=client,
        prefix=f"contract-{uuid.uuid4().hex[:10]}",
        cache_size=cache_size,
        owns_collections=True,
    )


@pytest.fixture(params=["chroma", "chroma-cached", "in-memory"])
def store(request: pytest.FixtureRequest) -> Iterator[NoteStore]:
    made: NoteStore
    if request.param == "chroma":
        made = chroma(0)
    elif request.param == "chroma-cached":
        made = chroma(1000)
        list(made.scan())  # an empty full scan makes the catalog trusted
    else:
        made = InMemoryNoteStore()
    assert isinstance(made, NoteStore)
    yield made
    made.close()


def put(store: NoteStore, *pairs: tuple[Note, np.ndarray]) -> None:
    store.write([(n, v, created(n)) for n, v in pairs])


def test_a_written_note_reads_back_whole(store: NoteStore) -> None:
    n = note(
        "Caroline went to the pottery class",
        keywords=["pottery"],
        tags=["hobby"],
        context="a hobby",
        metadata={"turn": 3, "nested": {"a": [1, 2]}, "flag": True},
        links={},
        sources=["t1"],
    )
    put(store, (n, basis(0)))
    stored = store.fetch([n.id], Scope(), with_history=True, with_vectors=True)[n.id]
    assert stored.note == n
    assert [e.action for e in stored.history] == ["create"]
    assert stored.vector is not None and np.allclose(
        stored.vector / np.linalg.norm(stored.vector), basis(0)
    )
    assert store.count() == 1
    assert [s.note.id for s in store.scan()] == [n.id]


def test_a_returned_note_is_a_copy(store: NoteStore) -> None:
    n = note("mutable", metadata={"k": [1]})
    put(store, (n, basis(0)))
    first = store.fetch([n.id], Scope())[n.id].note
    first.metadata["k"].append(2)
    first.tags.append("changed")
    again = store.fetch([n.id], Scope())[n.id].note
    assert again.metadata == {"k": [1]} and again.tags == []


def test_reads_are_scoped(store: NoteStore) -> None:
    mine, theirs, run = note("mine"), note("theirs", user="u2"), note("in a run", run="r1")
    put(store, (mine, basis(0)), (theirs, basis(1)), (run, basis(2)))
    ids = [mine.id, theirs.id, run.id]
    assert set(store.fetch(ids, Scope(user_id="u1"))) == {mine.id, run.id}
    assert set(store.fetch(ids, Scope(user_id="u1"), exact_scope=True)) == {mine.id}
    assert set(store.fetch(ids, Scope())) == set(ids)
    assert store.visible_ids(ids, Scope(user_id="u2")) == {theirs.id}
    assert store.matching_ids(Scope(user_id="u1")) == {mine.id, run.id}
    assert store.matching_ids(Scope(run_id="r1")) == {run.id}


def test_kinds_and_metadata_filters(store: NoteStore) -> None:
    a = note("episode one", metadata={"turn": 1, "who": "ann"})
    b = note("episode two", metadata={"turn": 5, "who": "bob"})
    c = note("a procedure", kind="procedure", when_to_use="when cleaning", metadata={"turn": 9})
    put(store, (a, basis(0)), (b, basis(1)), (c, basis(2)))
    scope = Scope(user_id="u1")
    assert store.matching_ids(scope, kinds=["procedure"]) == {c.id}
    assert store.matching_ids(scope, filters={"who": "bob"}) == {b.id}
    assert store.matching_ids(scope, filters={"turn": {"$gte": 5}}) == {b.id, c.id}
    assert store.matching_ids(scope, filters={"$or": [{"who": "ann"}, {"turn": 9}]}) == {a.id, c.id}
    assert store.matching_ids(scope, filters={"who": {"$in": ["ann", "bob"]}}) == {a.id, b.id}
    assert set(store.fetch([a.id, b.id, c.id], scope, filters={"turn": {"$lt": 5}})) == {a.id}


@pytest.mark.parametrize(
    ("kinds", "filters"),
    [
        (["memo"], None),
        ([], None),
        (None, {"$nor": []}),
        (None, {"who": {"$regex": "a"}}),
        (None, {"who": {"$eq": {"nested": 1}}}),
        (None, {"turn": {"$gt": "three"}}),
        (None, {"who": {"$in": []}}),
        (None, {"who": ["a", "b"]}),
    ],
)
def test_bad_kinds_or_filters_are_invalid_input(
    store: NoteStore, kinds: list[str] | None, filters: dict | None
) -> None:
    put(store, (note("x", metadata={"who": "ann"}), basis(0)))
    with pytest.raises(InvalidInput):
        store.matching_ids(Scope(user_id="u1"), kinds=kinds, filters=filters)
    with pytest.raises(InvalidInput):
        store.nearest(basis(0)[None, :], Scope(user_id="u1"), 3, kinds=kinds, filters=filters)


def test_nearest_ranks_by_cosine_within_the_scope(store: NoteStore) -> None:
    near, middle, far = note("near"), note("middle"), note("far")
    other = note("other user", user="u2")
    put(
        store,
        (near, basis(0, 1, 0.1)),
        (middle, basis(0, 1, 1.0)),
        (far, basis(1)),
        (other, basis(0)),
    )
    rows = store.nearest(np.stack([basis(0), basis(1)]), Scope(user_id="u1"), 2)
    assert [nid for nid, _ in rows[0]] == [near.id, middle.id]
    assert [nid for nid, _ in rows[1]] == [far.id, middle.id]
    assert rows[0][0][1] == pytest.approx(float(basis(0) @ basis(0, 1, 0.1)), abs=1e-4)
    everything = store.nearest(basis(0)[None, :], Scope(), 10)[0]
    assert [nid for nid, _ in everything][:1] == [other.id] and len(everything) == 4
    assert store.nearest(basis(0)[None, :], Scope(user_id="nobody"), 3) == [[]]
    assert store.nearest(basis(0)[None, :], Scope(user_id="u1"), 0) == [[]]


def test_nearest_honours_exact_scope_kinds_and_filters(store: NoteStore) -> None:
    plain, in_run = note("plain"), note("in run", run="r1")
    proc = note("proc", kind="procedure", when_to_use="w", metadata={"turn": 2})
    put(store, (plain, basis(0)), (in_run, basis(0, 1, 0.2)), (proc, basis(0, 1, 0.4)))
    query = basis(0)[None, :]
    exact = store.nearest(query, Scope(user_id="u1"), 5, exact_scope=True)[0]
    assert {nid for nid, _ in exact} == {plain.id, proc.id}
    kinds = store.nearest(query, Scope(user_id="u1"), 5, kinds=["procedure"])[0]
    assert [nid for nid, _ in kinds] == [proc.id]
    filtered = store.nearest(query, Scope(user_id="u1"), 5, filters={"turn": 2})[0]
    assert [nid for nid, _ in filtered] == [proc.id]


def test_a_metadata_only_write_keeps_the_vector_and_drops_old_keys(store: NoteStore) -> None:
    n = note("keeps its vector", metadata={"old": 1})
    put(store, (n, basis(3)))
    changed = n.model_copy(update={"metadata": {"new": 2}, "tags": ["t"]})
    store.write([(changed, None, created(n))], previous={n.id: n})
    got = store.fetch([n.id], Scope())[n.id].note
    assert got.metadata == {"new": 2} and got.tags == ["t"]
    assert store.matching_ids(Scope(), filters={"old": 1}) == set()
    assert store.matching_ids(Scope(), filters={"new": 2}) == {n.id}
    assert store.nearest(basis(3)[None, :], Scope(), 1)[0][0][0] == n.id


def test_a_rejected_write_stores_nothing(store: NoteStore) -> None:
    first = note("sets the dimension")
    put(store, (first, basis(1)))
    good, bad = note("good"), note("bad")
    wrong = np.ones(DIM + 3, dtype=np.float32)
    with pytest.raises(StoreError):
        store.write([(good, wrong, created(good)), (bad, wrong, created(bad))])
    assert store.fetch([good.id, bad.id], Scope()) == {}
    assert store.count() == 1


def test_deletion_leaves_a_tombstone_with_the_history(store: NoteStore) -> None:
    n = note("to delete")
    put(store, (n, basis(0)))
    # As the writer does: the history read, plus the deletion (a store may keep the
    # events it already has as records of their own and be handed only the new one).
    read = store.fetch([n.id], Scope(), with_history=True)[n.id]
    history = read.log.plus(Event(note_id=n.id, action="delete", reason="bye"))
    store.entomb(n, history)
    store.remove([n.id])
    assert store.fetch([n.id], Scope()) == {}
    assert store.count() == 0
    assert store.tombstone_ids() == [n.id]
    tomb = store.tombstone(n.id)
    assert tomb is not None and tomb.note == n
    assert [e.action for e in tomb.history] == ["create", "delete"]
    assert store.tombstone("never-existed") is None
    many = [note(f"bulk {i}") for i in range(3)]
    store.entomb_many([(m, created(m)) for m in many])
    assert set(store.tombstone_ids()) == {n.id, *(m.id for m in many)}


def test_thread_neighbours_show_only_visible_notes(store: NoteStore) -> None:
    first = note("first turn")
    second = note("second turn", follows=first.id)
    third = note("third turn", follows=second.id, kind="concept")
    put(store, (first, basis(0)), (second, basis(1)), (third, basis(2)))
    scope = Scope(user_id="u1")
    threads = store.thread_neighbours([second.id, first.id, "missing"], scope)
    assert threads == {second.id: (first.id, third.id), first.id: (None, second.id)}
    episodic = store.thread_neighbours([second.id], scope, kinds=["episodic"])
    assert episodic == {second.id: (first.id, None)}
    assert store.thread_neighbours([second.id], Scope(user_id="u2")) == {}


def test_layout_upgrade_of_nothing_changes_nothing(store: NoteStore) -> None:
    n = note("current layout")
    put(store, (n, basis(0)))
    assert not any(s.legacy for s in store.scan())
    assert store.upgrade_layout([]) == 0
    assert store.fetch([n.id], Scope())[n.id].note == n
