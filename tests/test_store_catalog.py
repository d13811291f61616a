"""The store's in-memory catalog: visibility, thread neighbours, counts, staying in step."""

from __future__ import annotations

from memory.model import Note, Scope
from memory.store.catalog import Catalog

ALICE = Scope(user_id="alice")
BOB = Scope(user_id="bob")


def note(note_id: str, user: str, *, kind: str = "episodic", follows: str | None = None) -> Note:
    return Note(id=note_id, content=f"note {note_id}", user_id=user, kind=kind, follows=follows)


def filled() -> Catalog:
    catalog = Catalog()
    catalog.record(
        [
            note("a1", "alice"),
            note("a2", "alice", follows="a1"),
            note("a3", "alice", follows="a2"),
            note("p1", "alice", kind="procedure"),
            note("b1", "bob"),
        ]
    )
    return catalog


def test_visibility_by_scope_kind_and_exactness() -> None:
    catalog = filled()
    ids = ["a1", "p1", "b1", "missing"]
    assert catalog.visible(ids, ALICE) == {"a1", "p1"}
    assert catalog.visible(ids, ALICE, kinds=["procedure"]) == {"p1"}
    assert catalog.visible(ids, Scope()) == {"a1", "p1", "b1"}
    assert catalog.visible(ids, Scope(), exact_scope=True) == set()
    assert catalog.visible(ids, Scope(user_id="alice", run_id="r")) == set()


def test_counts_follow_records_and_forgets() -> None:
    catalog = filled()
    assert catalog.count_visible(ALICE) == 4
    assert catalog.count_visible(ALICE, kinds=["episodic"]) == 3
    assert catalog.count_visible(Scope()) == 5
    assert catalog.count_visible(Scope(), exact_scope=True) == 0
    catalog.forget(["a1", "nope"])
    catalog.record([note("b1", "alice")])  # moved between scopes by a rewrite
    assert catalog.count_visible(ALICE) == 4 and catalog.count_visible(BOB) == 0
    assert len(catalog) == 4


def test_thread_neighbours_stay_in_step() -> None:
    catalog = filled()
    assert catalog.thread("a2") == ("a1", "a3")
    assert catalog.thread("a1") == (None, "a2")
    catalog.forget(["a3"])
    assert catalog.thread("a2") == ("a1", None)
    # A repair that drops a dangling ``follows`` takes the successor entry with it.
    catalog.record([note("a2", "alice")])
    assert catalog.thread("a1") == (None, None)
    assert catalog.thread("unknown") == (None, None)


def test_members_of_many_tenants_are_found_through_their_user() -> None:
    catalog = Catalog()
    catalog.record(note(f"{user}-{i}", f"user{user}") for user in range(600) for i in range(3))
    catalog.record([Note(id="agent-note", content="x", user_id="user7", agent_id="helper")])
    user7 = Scope(user_id="user7")
    assert catalog.members(user7) == ["7-0", "7-1", "7-2", "agent-note"]  # recorded order
    assert catalog.count_visible(user7, exact_scope=True) == 3
    # Judging 600 scopes for a query that names no user would cost more than it saves.
    assert catalog.count_visible(Scope(agent_id="helper")) is None
    catalog.forget(["agent-note"])
    assert catalog.members(user7) == ["7-0", "7-1", "7-2"]
    assert list(catalog._user_scopes["user7"]) == [user7]
    catalog.forget(["7-0", "7-1", "7-2"])
    assert catalog.members(user7) == [] and "user7" not in catalog._user_scopes
