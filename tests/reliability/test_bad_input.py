"""Bad input: every rejected call raises a specific exception and changes nothing.

Each case runs against one seeded memory (notes in two scopes, links, a learned
procedure, feedback counts); the whole store -- notes with their raw history and
vectors, and the tombstones -- is snapshotted before and after the call and must be
identical. The accepted-with-normalisation cases (metadata keys that look internal,
NUL bytes in metadata, surrounding whitespace, 1 MB content with a raised limit, the
largest ``k``) are checked to round-trip exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from reliability_support import COUNTERS, invariant_violations, snapshot

from memory import (
    AgenticMemory,
    InvalidInput,
    InvalidTrajectory,
    NotFound,
)
from memory.embed import HashingEmbedder

TRAJECTORY = {
    "task": "put a clean mug in coffeemachine",
    "steps": [
        {"action": "go to countertop 1", "observation": "You see a mug 1."},
        {"action": "take mug 1 from countertop 1", "observation": "You pick up the mug 1."},
        {"action": "go to sinkbasin 1", "observation": "You see nothing."},
        {"action": "clean mug 1 with sinkbasin 1", "observation": "You clean the mug 1."},
        {"action": "go to coffeemachine 1", "observation": "You see nothing."},
        {"action": "put mug 1 in/on coffeemachine 1", "observation": "You put the mug 1."},
    ],
    "success": True,
}


@dataclass
class Seeded:
    """A memory with notes in two scopes, and the ids the cases refer to."""

    mem: AgenticMemory
    note: str  # user u1
    other: str  # user u2
    procedure: str
    initial_count: int


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    mem = AgenticMemory(embedder=HashingEmbedder(), link_threshold=0.3)
    first = mem.add("pottery class clay bowls", metadata={"kind": "mine"}, user_id="u1")
    mem.add("pottery class glaze kiln bowls", user_id="u1")
    other = mem.add("pottery class clay bowls", user_id="u2")
    learned = mem.learn(TRAJECTORY, user_id="u1")
    mem.feedback([learned[0].id], True, user_id="u1")
    assert mem.get(first.id).links, "the seed needs links for the snapshot to mean much"
    yield Seeded(mem, first.id, other.id, learned[0].id, mem.count())
    mem.close()


# The memory is typed Any: the cases pass wrong types on purpose.
Call = Callable[[Any, Seeded], Any]
BAD_TRAJECTORIES: list[Any] = [
    "a string",
    None,
    {},
    {**TRAJECTORY, "task": "   "},
    {**TRAJECTORY, "steps": []},
    {"task": "put a mug in sink", "steps": [{"action": "take mug"}]},  # no outcome
    {**TRAJECTORY, "steps": [{"action": ""}]},
    {**TRAJECTORY, "steps": [{"action": "go", "bogus": 1}]},
    {**TRAJECTORY, "steps": ["go to sink"]},
    {**TRAJECTORY, "task": "put a clean mug \ud800 in coffeemachine"},
]

CASES: list[tuple[str, Call, type[Exception]]] = [
    # content
    ("empty content", lambda m, s: m.add(""), InvalidInput),
    ("whitespace content", lambda m, s: m.add(" \n\t "), InvalidInput),
    ("1 MB content", lambda m, s: m.add("a" * 1_000_000), InvalidInput),
    ("int content", lambda m, s: m.add(123), InvalidInput),
    ("None content", lambda m, s: m.add(None), InvalidInput),
    ("bytes content", lambda m, s: m.add(b"bytes"), InvalidInput),
    ("list content", lambda m, s: m.add(["text"]), InvalidInput),
    ("lone surrogate content", lambda m, s: m.add("half \ud800 pair"), InvalidInput),
    ("NUL content", lambda m, s: m.add("nul \x00 byte"), InvalidInput),
    ("bad kind", lambda m, s: m.add("x", kind="bogus"), InvalidInput),
    ("garbage timestamp", lambda m, s: m.add("x", timestamp="garbage o'clock"), InvalidInput),
    ("NaN timestamp", lambda m, s: m.add("x", timestamp=math.nan), InvalidInput),
    ("huge timestamp", lambda m, s: m.add("x", timestamp=1e20), InvalidInput),
    ("bool timestamp", lambda m, s: m.add("x", timestamp=True), InvalidInput),
    # metadata
    ("set metadata", lambda m, s: m.add("x", metadata={"s": {1, 2}}), InvalidInput),
    ("object metadata", lambda m, s: m.add("x", metadata={"o": object()}), InvalidInput),
    ("NaN metadata", lambda m, s: m.add("x", metadata={"f": math.nan}), InvalidInput),
    ("inf metadata", lambda m, s: m.add("x", metadata={"f": math.inf}), InvalidInput),
    ("tuple metadata", lambda m, s: m.add("x", metadata={"t": (1, 2)}), InvalidInput),
    ("int metadata key", lambda m, s: m.add("x", metadata={1: "a"}), InvalidInput),
    ("list as metadata", lambda m, s: m.add("x", metadata=[("a", 1)]), InvalidInput),
    ("str as metadata", lambda m, s: m.add("x", metadata="a=1"), InvalidInput),
    ("surrogate metadata value", lambda m, s: m.add("x", metadata={"s": "\ud800"}), InvalidInput),
    ("surrogate metadata key", lambda m, s: m.add("x", metadata={"\udc00": 1}), InvalidInput),
    # scope ids
    ("empty user_id", lambda m, s: m.add("x", user_id=""), InvalidInput),
    ("blank user_id", lambda m, s: m.add("x", user_id="  "), InvalidInput),
    ("int user_id", lambda m, s: m.add("x", user_id=5), InvalidInput),
    ("long user_id", lambda m, s: m.add("x", user_id="u" * 257), InvalidInput),
    ("NUL agent_id", lambda m, s: m.add("x", agent_id="a\x00"), InvalidInput),
    ("surrogate run_id", lambda m, s: m.add("x", run_id="\ud800"), InvalidInput),
    ("dict run_id", lambda m, s: m.add("x", run_id={}), InvalidInput),
    ("bad scope in search", lambda m, s: m.search("x", user_id=7), InvalidInput),
    ("bad scope in count", lambda m, s: m.count(agent_id=""), InvalidInput),
    ("bad scope in delete_all", lambda m, s: m.delete_all(user_id=["u1"]), InvalidInput),
    ("unscoped delete_all", lambda m, s: m.delete_all(), InvalidInput),
    # add_many: all items validated before anything is written
    ("add_many of a str", lambda m, s: m.add_many("one string"), InvalidInput),
    ("add_many of a dict", lambda m, s: m.add_many({"content": "x"}), InvalidInput),
    ("add_many int item", lambda m, s: m.add_many(["ok", 1]), InvalidInput),
    ("add_many unknown key", lambda m, s: m.add_many([{"content": "x", "bogus": 1}]), InvalidInput),
    ("add_many no content", lambda m, s: m.add_many([{"user_id": "u1"}]), InvalidInput),
    ("add_many late empty", lambda m, s: m.add_many(["valid one", "valid two", ""]), InvalidInput),
    (
        "add_many batch_size -1",
        lambda m, s: m.add_many(["one", "two"], batch_size=-1),
        InvalidInput,
    ),
    ("add_many batch_size 0", lambda m, s: m.add_many(["one", "two"], batch_size=0), InvalidInput),
    ("add_many batch_size str", lambda m, s: m.add_many(["one"], batch_size="2"), InvalidInput),
    (
        "add_many late bad metadata",
        lambda m, s: m.add_many(["valid", {"content": "x", "metadata": {"s": {1}}}]),
        InvalidInput,
    ),
    # ids
    ("get unknown", lambda m, s: m.get("no-such-id"), NotFound),
    ("update unknown", lambda m, s: m.update("no-such-id", content="x"), NotFound),
    ("delete unknown", lambda m, s: m.delete("no-such-id"), NotFound),
    ("history unknown", lambda m, s: m.history("no-such-id"), NotFound),
    ("neighbors unknown", lambda m, s: m.neighbors("no-such-id"), NotFound),
    ("get int id", lambda m, s: m.get(5), InvalidInput),
    ("get None id", lambda m, s: m.get(None), InvalidInput),
    ("delete empty id", lambda m, s: m.delete(""), InvalidInput),
    ("history list id", lambda m, s: m.history(["a"]), InvalidInput),
    ("neighbors int id", lambda m, s: m.neighbors(1), InvalidInput),
    ("get surrogate id", lambda m, s: m.get("\ud800"), InvalidInput),
    ("delete surrogate id", lambda m, s: m.delete("\udfff"), InvalidInput),
    ("history surrogate id", lambda m, s: m.history("a\ud800"), InvalidInput),
    ("update surrogate id", lambda m, s: m.update("\ud800", content="x"), InvalidInput),
    ("feedback surrogate id", lambda m, s: m.feedback(["\ud800"], True), InvalidInput),
    ("update other scope", lambda m, s: m.update(s.other, content="x", user_id="u1"), NotFound),
    ("delete other scope", lambda m, s: m.delete(s.other, user_id="u1"), NotFound),
    ("get other scope", lambda m, s: m.get(s.other, user_id="u1"), NotFound),
    ("history other scope", lambda m, s: m.history(s.other, user_id="u1"), NotFound),
    ("neighbors other scope", lambda m, s: m.neighbors(s.other, user_id="u1"), NotFound),
    # update values
    ("update nothing", lambda m, s: m.update(s.note), InvalidInput),
    ("update empty content", lambda m, s: m.update(s.note, content=""), InvalidInput),
    ("update set metadata", lambda m, s: m.update(s.note, metadata={"s": {1}}), InvalidInput),
    ("update keywords str", lambda m, s: m.update(s.note, keywords="a,b"), InvalidInput),
    ("update blank tag", lambda m, s: m.update(s.note, tags=["ok", " "]), InvalidInput),
    ("update pinned str", lambda m, s: m.update(s.note, pinned="yes"), InvalidInput),
    ("update empty context", lambda m, s: m.update(s.note, context=""), InvalidInput),
    ("update bad timestamp", lambda m, s: m.update(s.note, timestamp="nope"), InvalidInput),
    ("update NUL content", lambda m, s: m.update(s.note, content="a\x00"), InvalidInput),
    ("update surrogate keyword", lambda m, s: m.update(s.note, keywords=["\ud800"]), InvalidInput),
    ("update surrogate tag", lambda m, s: m.update(s.note, tags=["ok", "x\udfff"]), InvalidInput),
    (
        "update surrogate metadata",
        lambda m, s: m.update(s.note, metadata={"\ud800": 1}),
        InvalidInput,
    ),
    # k and queries
    ("k zero", lambda m, s: m.search("pottery", k=0), InvalidInput),
    ("k negative", lambda m, s: m.search("pottery", k=-3), InvalidInput),
    ("k huge", lambda m, s: m.search("pottery", k=10**12), InvalidInput),
    ("k float", lambda m, s: m.search("pottery", k=2.5), InvalidInput),
    ("k bool", lambda m, s: m.search("pottery", k=True), InvalidInput),
    ("k str", lambda m, s: m.search("pottery", k="5"), InvalidInput),
    ("empty query", lambda m, s: m.search(" "), InvalidInput),
    ("int query", lambda m, s: m.search(5), InvalidInput),
    ("surrogate query", lambda m, s: m.search("\ud800"), InvalidInput),
    ("unknown kind filter", lambda m, s: m.search("x", kinds=["bogus"]), InvalidInput),
    ("empty kinds", lambda m, s: m.search("x", kinds=[]), InvalidInput),
    ("unknown operator", lambda m, s: m.search("x", filters={"$bad": 1}), InvalidInput),
    ("list filter value", lambda m, s: m.search("x", filters={"a": [1]}), InvalidInput),
    ("str filters", lambda m, s: m.notes(filters="a=1"), InvalidInput),
    # procedural memory
    ("recall empty task", lambda m, s: m.recall(""), InvalidInput),
    ("recall k zero", lambda m, s: m.recall("make coffee", k=0), InvalidInput),
    ("recall episodic kind", lambda m, s: m.recall("x", kinds=["episodic"]), InvalidInput),
    ("feedback str ids", lambda m, s: m.feedback(s.procedure, True), InvalidInput),
    ("feedback int id", lambda m, s: m.feedback([123], True), InvalidInput),
    ("feedback None id", lambda m, s: m.feedback([None], True), InvalidInput),
    ("feedback int success", lambda m, s: m.feedback([s.procedure], 1), InvalidInput),
    ("feedback one unknown", lambda m, s: m.feedback([s.procedure, "nope"], True), NotFound),
    ("feedback other scope", lambda m, s: m.feedback([s.other], True, user_id="u1"), NotFound),
    ("prune min_uses 0", lambda m, s: m.prune(min_uses=0), InvalidInput),
    ("prune min_uses float", lambda m, s: m.prune(min_uses=1.5), InvalidInput),
    ("prune min_ratio 2", lambda m, s: m.prune(min_ratio=2.0), InvalidInput),
    ("prune min_ratio NaN", lambda m, s: m.prune(min_ratio=math.nan), InvalidInput),
    ("prune min_ratio str", lambda m, s: m.prune(min_ratio="x"), InvalidInput),
    *[
        (f"malformed trajectory {i}", lambda m, s, t=t: m.learn(t, user_id="u1"), InvalidTrajectory)
        for i, t in enumerate(BAD_TRAJECTORIES)
    ],
]


def assert_rejected_without_change(seeded: Seeded, call: Call, expected: type[Exception]) -> None:
    before = snapshot(seeded.mem)
    count = seeded.mem.count()
    try:
        with pytest.raises(expected):
            call(seeded.mem, seeded)
    finally:
        changed = snapshot(seeded.mem) != before or seeded.mem.count() != count
        COUNTERS.add("bad_input", runs=1, data_lost=int(changed))
    assert not changed, "a rejected call changed the store"


@pytest.mark.parametrize(("call", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rejected_input_raises_and_changes_nothing(
    seeded: Seeded, call: Call, expected: type[Exception]
) -> None:
    assert_rejected_without_change(seeded, call, expected)


def test_the_seeded_store_is_intact_after_every_rejection(seeded: Seeded) -> None:
    """Runs after the cases above (same module fixture): nothing was added or lost."""
    assert seeded.mem.count() == seeded.initial_count
    assert seeded.mem.get(seeded.note).metadata == {"kind": "mine"}
    assert invariant_violations(seeded.mem) == []


# ---- accepted, with a documented normalisation ---------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        {"kind": "user-kind", "links": ["not", "links"], "m.x": {"nested": 1}, "history": None},
        {"metadata": "m", "user_id": "not-a-scope", "ts": 0, "follows": "x", "": "empty key"},
        {"nul": "a\x00b", "a\x00key": True, "big": 2**70, "neg": -(2**63), "tiny": 5e-324},
        {"deep": {"a": [{"b": [1, 2.5, None, "ü"]}]}, "emoji": "🦦", "rtl": "שלום"},
    ],
    ids=["internal-names", "more-internal-names", "nul-and-numbers", "nested-unicode"],
)
def test_metadata_keys_that_look_internal_round_trip_verbatim(
    mem: AgenticMemory, metadata: dict[str, Any]
) -> None:
    note = mem.add("pottery class clay bowls", metadata=metadata, user_id="u1")
    mem.add("pottery class clay bowls again", user_id="u1")  # rewrites the first note's record
    assert mem.get(note.id).metadata == metadata
    assert note.kind == "episodic" and note.user_id == "u1" and note.links == {}
    stored = mem.get(note.id)
    assert stored.kind == "episodic" and stored.user_id == "u1"
    assert set(stored.links) <= {n.id for n in mem.notes(user_id="u1")}
    assert mem.history(note.id)[0].action == "create"
    COUNTERS.add("bad_input", runs=1, data_lost=int(mem.get(note.id).metadata != metadata))


def test_filters_see_clashing_user_keys_not_internal_fields(mem: AgenticMemory) -> None:
    mine = mem.add("pottery class", metadata={"kind": "user-kind"}, user_id="u1")
    mem.add("pottery class two", user_id="u1")
    hits = mem.search("pottery", filters={"kind": "user-kind"}, user_id="u1")
    assert [h.note.id for h in hits] == [mine.id]
    assert mem.search("pottery", filters={"kind": "episodic"}, user_id="u1") == []


def test_surrounding_whitespace_and_unicode_content_are_kept_verbatim(mem: AgenticMemory) -> None:
    text = "  \tCafé ☕ — naïve 🦦 שלום\n"
    note = mem.add(text)
    assert mem.get(note.id).content == text
    COUNTERS.add("bad_input", runs=1, data_lost=int(mem.get(note.id).content != text))


def test_one_megabyte_content_is_stored_exactly_when_the_limit_allows(
    embedder: HashingEmbedder,
) -> None:
    with AgenticMemory(embedder=embedder, max_content_chars=1_100_000) as mem:
        text = ("otters hold hands while they sleep " * 30_000)[:1_000_000]
        note = mem.add(text, user_id="u1")
        assert len(note.content) == 1_000_000
        assert mem.get(note.id).content == text
        assert mem.search("otters sleep", user_id="u1")[0].note.id == note.id
        COUNTERS.add("bad_input", runs=1, data_lost=int(mem.get(note.id).content != text))


def test_largest_k_returns_at_most_what_exists(seeded: Seeded) -> None:
    hits = seeded.mem.search("pottery", k=10_000)
    assert 0 < len(hits) <= seeded.mem.count()
    assert len({h.note.id for h in hits}) == len(hits)
    COUNTERS.add("bad_input", runs=1)


def test_mutating_a_returned_note_never_reaches_the_store(mem: AgenticMemory) -> None:
    """Regression: the read cache handed out its own Note objects."""
    note = mem.add("pottery class clay bowls", metadata={"a": 1, "l": [1]}, user_id="u1")
    got = mem.get(note.id)
    got.metadata["a"] = 2
    got.metadata["l"].append(99)
    got.links["bogus"] = 1.0
    got.tags.append("hacked")
    hit = mem.search("pottery class", user_id="u1")[0].note
    hit.metadata["search"] = True
    mem.add("pottery class clay bowls again", user_id="u1")  # rewrites the first note's record
    fresh = mem.get(note.id)
    assert fresh.metadata == {"a": 1, "l": [1]}
    assert "bogus" not in fresh.links and "hacked" not in fresh.tags
    assert invariant_violations(mem) == []
    COUNTERS.add("bad_input", runs=1, data_lost=int(fresh.metadata != {"a": 1, "l": [1]}))
