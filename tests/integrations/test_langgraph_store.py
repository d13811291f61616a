"""ZettelmemStore: LangGraph's BaseStore contract on notes, namespaces as scopes, graphs."""

from __future__ import annotations

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, GetOp, Item, PutOp, SearchOp
from typing_extensions import TypedDict

from integrations.langgraph_store import ZettelmemStore, value_matches
from memory import AgenticMemory

ALICE = ("memories", "alice")
BOB = ("memories", "bob")


@pytest.fixture
def store(mem: AgenticMemory) -> ZettelmemStore:
    return ZettelmemStore(mem, scope_keys=(None, "user_id"), index_fields=["text"])


def fill(store: ZettelmemStore) -> None:
    store.put(ALICE, "food", {"text": "Alice is vegetarian and loves risotto", "n": 1})
    store.put(ALICE, "pet", {"text": "Alice has a beagle called Rex", "n": 2})
    store.put(ALICE + ("work",), "job", {"text": "Alice works as a nurse", "n": 3})
    store.put(BOB, "food", {"text": "Bob loves spicy ramen", "n": 4})


def test_put_get_update_delete(store: ZettelmemStore, mem: AgenticMemory) -> None:
    value = {"text": "Alice is vegetarian", "tags": ["diet"], "nested": {"since": 2019}}
    store.put(ALICE, "food", value)
    item = store.get(ALICE, "food")
    assert item is not None
    assert (item.namespace, item.key, item.value) == (ALICE, "food", value)
    store.put(ALICE, "food", {"text": "Alice is vegan now"})
    updated = store.get(ALICE, "food")
    assert updated is not None and updated.value == {"text": "Alice is vegan now"}
    assert updated.created_at == item.created_at and updated.updated_at > item.updated_at
    assert mem.count() == 1
    note = mem.notes()[0]
    assert note.content == "Alice is vegan now" and note.user_id == "alice"
    assert [e.action for e in mem.history(note.id)][-1] == "update"
    store.delete(ALICE, "food")
    assert store.get(ALICE, "food") is None and mem.count() == 0
    store.delete(ALICE, "never-there")


def test_a_key_lives_in_exactly_one_namespace(store: ZettelmemStore) -> None:
    fill(store)
    assert store.get(BOB, "pet") is None
    assert store.get(("memories",), "food") is None
    assert store.get(ALICE + ("work",), "food") is None
    food = store.get(BOB, "food")
    assert food is not None and food.value["n"] == 4


def test_semantic_search_within_a_namespace_prefix(store: ZettelmemStore) -> None:
    fill(store)
    hits = store.search(ALICE, query="is alice vegetarian")
    assert hits[0].key == "food" and hits[0].namespace == ALICE
    assert all(hit.namespace[:2] == ALICE for hit in hits)
    assert {hit.key for hit in hits} == {"food", "pet", "job"}
    assert all(hit.score is not None for hit in hits)
    assert [hit.value["n"] for hit in store.search(BOB, query="food")] == [4]
    everyone = store.search(("memories",), query="loves food", limit=10)
    assert {(hit.namespace, hit.key) for hit in everyone} >= {(ALICE, "food"), (BOB, "food")}


def test_filters_limit_and_offset(store: ZettelmemStore) -> None:
    fill(store)
    keys = {hit.key for hit in store.search(ALICE, filter={"n": {"$gte": 2}})}
    assert keys == {"pet", "job"}
    assert [h.key for h in store.search(ALICE, query="Alice", filter={"n": 1})] == ["food"]
    listed = store.search(("memories",), limit=10)
    assert [h.key for h in listed] == ["food", "job", "pet", "food"]  # newest put first
    assert [h.key for h in store.search(("memories",), limit=2, offset=1)] == ["job", "pet"]
    assert all(h.score is None for h in listed)


def test_value_matches_follows_langgraph_rules() -> None:
    value = {"n": 3, "tags": ["a", "b"], "meta": {"lang": "en"}}
    assert value_matches(value, {"n": {"$gt": 2, "$lte": 3}})
    assert not value_matches(value, {"n": {"$ne": 3}})
    assert value_matches(value, {"tags": ["a", "b"], "meta": {"lang": "en"}})
    assert not value_matches(value, {"meta": {"lang": "fr"}})
    with pytest.raises(ValueError):
        value_matches(value, {"n": {"$regex": "3"}})


def test_list_namespaces(store: ZettelmemStore) -> None:
    fill(store)
    assert store.list_namespaces() == [ALICE, ALICE + ("work",), BOB]
    assert store.list_namespaces(prefix=("memories", "alice")) == [ALICE, ALICE + ("work",)]
    assert store.list_namespaces(suffix=("work",)) == [ALICE + ("work",)]
    assert store.list_namespaces(prefix=("memories", "*"), max_depth=2) == [ALICE, BOB]
    assert store.list_namespaces(limit=1, offset=2) == [BOB]


def test_namespaces_map_to_scopes_and_links_stay_inside(
    store: ZettelmemStore, mem: AgenticMemory
) -> None:
    fill(store)
    store.put(BOB, "pet", {"text": "Bob has a beagle called Rex too"})
    by_user = {note.user_id for note in mem.notes()}
    assert by_user == {"alice", "bob"}
    for note in mem.notes(user_id="bob"):
        assert all(mem.get(target).user_id == "bob" for target in note.links)
    assert store.scope_of(("memories", "alice", "x")) == {
        "user_id": "alice",
        "agent_id": None,
        "run_id": None,
    }
    default = ZettelmemStore(mem)
    assert default.scope_of(("u", "a", "r", "label")) == {
        "user_id": "u",
        "agent_id": "a",
        "run_id": "r",
    }
    with pytest.raises(ValueError):
        ZettelmemStore(mem, scope_keys=("user_id", "user_id"))
    with pytest.raises(ValueError):
        ZettelmemStore(mem, scope_keys=("tenant",))


def test_stores_sharing_a_memory_do_not_see_each_other(
    store: ZettelmemStore, mem: AgenticMemory
) -> None:
    fill(store)
    mem.add("A plain note of alice", user_id="alice")
    other = ZettelmemStore(mem, scope_keys=(None, "user_id"), name="other")
    assert other.search(ALICE, query="alice") == []
    assert other.list_namespaces() == []
    assert all(h.key != "plain" for h in store.search(ALICE, query="A plain note of alice"))
    assert len(store.search(ALICE, query="A plain note of alice", limit=10)) == 3


def test_indexing_uses_the_put_index_or_json(mem: AgenticMemory) -> None:
    store = ZettelmemStore(mem)
    store.put(("alice",), "a", {"title": "Trip", "body": {"text": "Kyoto in April"}})
    store.put(
        ("alice",), "b", {"title": "Diet", "body": {"text": "no peanuts"}}, index=["body.text"]
    )
    contents = {n.metadata["lg_key"]: n.content for n in mem.notes()}
    assert contents["b"] == "no peanuts"
    assert '"title": "Trip"' in contents["a"]  # the whole value as JSON


def test_batch_runs_in_order(store: ZettelmemStore) -> None:
    results = store.batch(
        [
            GetOp(ALICE, "k"),
            PutOp(ALICE, "k", {"text": "first"}),
            GetOp(ALICE, "k"),
            PutOp(ALICE, "k", None),
            SearchOp(ALICE, query="first"),
        ]
    )
    assert results[0] is None and results[1] is None
    got = results[2]
    assert isinstance(got, Item) and got.value == {"text": "first"}
    assert results[3] is None and results[4] == []


async def test_async_methods(store: ZettelmemStore) -> None:
    await store.aput(ALICE, "food", {"text": "Alice is vegetarian"})
    item = await store.aget(ALICE, "food")
    assert item is not None and item.value["text"] == "Alice is vegetarian"
    assert [h.key for h in await store.asearch(ALICE, query="vegetarian")] == ["food"]
    assert await store.alist_namespaces() == [ALICE]
    await store.adelete(ALICE, "food")
    assert await store.aget(ALICE, "food") is None


class State(TypedDict):
    user: str
    said: str
    recalled: list[str]


def store_of(runtime: Runtime) -> BaseStore:
    assert runtime.store is not None
    return runtime.store


def remember(state: State, runtime: Runtime) -> dict:
    store = store_of(runtime)
    key = f"m{len(store.search(('memories', state['user']), limit=100))}"
    store.put(("memories", state["user"]), key, {"text": state["said"]})
    return {}


def recall(state: State, runtime: Runtime) -> dict:
    items = store_of(runtime).search(("memories", state["user"]), query=state["said"], limit=5)
    return {"recalled": [item.value["text"] for item in items]}


async def test_a_langgraph_graph_uses_it_as_long_term_store(store: ZettelmemStore) -> None:
    builder = StateGraph(State)
    builder.add_node(remember)
    builder.add_node(recall)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    graph = builder.compile(store=store)
    graph.invoke({"user": "alice", "said": "I am allergic to peanuts", "recalled": []})
    graph.invoke({"user": "bob", "said": "I am allergic to cats", "recalled": []})
    out = await graph.ainvoke({"user": "alice", "said": "I love peanut-free cake", "recalled": []})
    assert set(out["recalled"]) == {"I am allergic to peanuts", "I love peanut-free cake"}
