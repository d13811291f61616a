"""Hypothesis state machine: add / add_many / update / delete / search / feedback / prune / reopen.

The model is what the caller was told: the live notes with their content, metadata,
scope and number of recorded updates, and the deleted ids. After every step the
store must agree with it: count matches (overall and per scope), no dangling or
one-sided or cross-scope links, each note has its vector, history starts with its
one ``create`` event and records every update and feedback, feedback counts and
``pinned`` match, ``prune`` removes exactly the notes the utility rule names (in
the scope asked, never a pinned one), metadata comes back exactly (keys
such as ``kind``, ``links``, ``m.x`` or ``history`` included), and no search ever
returns a deleted note or a note outside the query's scope. ``reopen`` closes the
persistent store and opens it again (running the repair pass).

Each example gets its own collection prefix on one shared persistent folder, so the
runs stay independent without paying for a fresh Chroma database each time. The
default profile is small; ``-m slow`` also runs a longer one.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    precondition,
    rule,
)
from reliability_support import COUNTERS, checked_invariants

from memory import AgenticMemory, NotFound, Scope
from memory.embed import HashingEmbedder

WORDS = ["pottery", "clay", "bowls", "hiking", "dog", "trail", "guitar", "band", "kiln", "lake"]
SCOPES = [
    Scope(),
    Scope(user_id="alice"),
    Scope(user_id="alice", agent_id="planner"),
    Scope(user_id="alice", agent_id="planner", run_id="r1"),
    Scope(user_id="bob"),
]
CLASHING_KEYS = ["kind", "links", "m.x", "history", "metadata", "user_id", "ts", "follows", ""]

valid_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
    min_size=1,
    max_size=24,
).filter(str.strip)
contents = st.one_of(
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join),
    valid_text,
)


def unicode_text(max_size: int) -> st.SearchStrategy[str]:
    """Any valid Unicode text (NUL included; lone surrogates are rejected input)."""
    return st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=max_size)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    unicode_text(12),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(unicode_text(5), inner, max_size=3),
    ),
    max_leaves=8,
)
metadata_keys = st.one_of(
    st.sampled_from(CLASHING_KEYS),
    unicode_text(10),
)
metadatas = st.dictionaries(metadata_keys, json_values, max_size=4)
scopes = st.sampled_from(SCOPES)

EMBEDDER = HashingEmbedder()
_FOLDER: Path | None = None


def shared_folder() -> Path:
    """One persistent folder for every example of the session (separate prefixes)."""
    global _FOLDER
    if _FOLDER is None:
        _FOLDER = Path(tempfile.mkdtemp(prefix="zettelmem-sm-"))
        atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
    return _FOLDER


@dataclass
class Expected:
    """What the caller was told about one live note."""

    content: str
    metadata: dict[str, Any]
    scope: Scope
    updates: int = 0
    pinned: bool = False
    retrieved: int = 0
    succeeded: int = 0

    def prunable(self, min_uses: int, min_ratio: float) -> bool:
        """Whether ``prune`` must remove this note (the documented utility rule)."""
        if self.pinned or self.retrieved < min_uses:
            return False
        return self.succeeded / self.retrieved < min_ratio


class MemoryMachine(RuleBasedStateMachine):
    """Random operations against one persistent memory and a model of it."""

    notes = Bundle("notes")

    def __init__(self) -> None:
        super().__init__()
        self.prefix = f"sm{uuid.uuid4().hex[:12]}"
        self.mem = self.open()
        self.live: dict[str, Expected] = {}
        self.deleted: set[str] = set()
        COUNTERS.add("property", runs=1)

    def open(self) -> AgenticMemory:
        return AgenticMemory(
            shared_folder(), embedder=EMBEDDER, collection_prefix=self.prefix, link_threshold=0.3
        )

    def teardown(self) -> None:
        for suffix in ("notes", "tombstones"):
            # The collections may be gone already if the example failed early.
            with contextlib.suppress(Exception):
                self.mem._client.delete_collection(f"{self.prefix}_{suffix}")
        self.mem.close()

    def record(self, note_id: str, content: str, metadata: dict[str, Any], scope: Scope) -> str:
        assert note_id not in self.live and note_id not in self.deleted
        self.live[note_id] = Expected(content, metadata, scope)
        COUNTERS.add("property", steps=1)
        return note_id

    # ---- rules -----------------------------------------------------------------------

    @rule(target=notes, content=contents, metadata=metadatas, scope=scopes)
    def add(self, content: str, metadata: dict[str, Any], scope: Scope) -> str:
        note = self.mem.add(content, metadata=metadata, **scope.model_dump())
        assert (note.content, note.metadata, note.scope) == (content, metadata, scope)
        return self.record(note.id, content, metadata, scope)

    @rule(
        target=notes,
        items=st.lists(st.tuples(contents, metadatas, scopes), min_size=1, max_size=4),
        batch_size=st.integers(1, 3),
    )
    def add_many(self, items: list[tuple[str, dict[str, Any], Scope]], batch_size: int) -> Any:
        requests = [
            {"content": c, "metadata": m, **s.model_dump(exclude_none=True)} for c, m, s in items
        ]
        notes = self.mem.add_many(requests, batch_size=batch_size)
        assert len(notes) == len(items)
        return multiple(
            *(self.record(n.id, c, m, s) for n, (c, m, s) in zip(notes, items, strict=True))
        )

    @rule(
        note_id=notes,
        content=st.none() | contents,
        metadata=st.none() | metadatas,
        pinned=st.none() | st.booleans(),
    )
    def update(
        self,
        note_id: str,
        content: str | None,
        metadata: dict[str, Any] | None,
        pinned: bool | None,
    ) -> None:
        if content is None and metadata is None and pinned is None:
            return
        changes: dict[str, Any] = {"content": content, "metadata": metadata, "pinned": pinned}
        if note_id in self.deleted:
            with pytest.raises(NotFound):
                self.mem.update(note_id, **changes)
            return
        expected = self.live[note_id]
        before = self.mem.get(note_id)
        note = self.mem.update(note_id, **changes)
        changed = (
            (content is not None and content != before.content)
            or (metadata is not None and metadata != before.metadata)
            or (pinned is not None and pinned != before.pinned)
        )
        expected.content = content if content is not None else expected.content
        expected.metadata = metadata if metadata is not None else expected.metadata
        expected.pinned = pinned if pinned is not None else expected.pinned
        expected.updates += int(changed)
        assert (note.content, note.metadata) == (expected.content, expected.metadata)
        COUNTERS.add("property", steps=1)

    @rule(note_id=consumes(notes), in_scope=st.booleans())
    def delete(self, note_id: str, in_scope: bool) -> None:
        if note_id in self.deleted:  # pruned meanwhile
            with pytest.raises(NotFound):
                self.mem.delete(note_id)
            return
        expected = self.live.pop(note_id)
        # Deleting through a different user's scope must fail and change nothing.
        other = Scope(user_id="mallory")
        with pytest.raises(NotFound):
            self.mem.delete(note_id, **other.model_dump())
        scope = expected.scope if in_scope else Scope()
        gone = self.mem.delete(note_id, **scope.model_dump())
        assert gone.id == note_id and gone.content == expected.content
        self.deleted.add(note_id)
        history = self.mem.history(note_id)
        assert history[0].action == "create" and history[-1].action == "delete"
        with pytest.raises(NotFound):
            self.mem.get(note_id)
        COUNTERS.add("property", steps=1)

    @rule(query=contents, scope=scopes, k=st.integers(1, 12), expand=st.booleans())
    def search(self, query: str, scope: Scope, k: int, expand: bool) -> None:
        hits = self.mem.search(query, k=k, expand_links=expand, **scope.model_dump())
        assert len(hits) <= k
        ids = [h.note.id for h in hits]
        assert len(ids) == len(set(ids)), "duplicate hits"
        leaks = [i for i, h in zip(ids, hits, strict=True) if not scope.admits(h.note.scope)]
        COUNTERS.add("property", steps=1, leaks=len(leaks))
        assert not leaks, f"search in {scope} returned notes of other scopes: {leaks}"
        assert not set(ids) & self.deleted, "search returned a deleted note"
        assert set(ids) <= set(self.live)

    @precondition(lambda self: bool(self.live))
    @rule(data=st.data())
    def search_finds_every_live_note(self, data: st.DataObject) -> None:
        note_id = data.draw(st.sampled_from(sorted(self.live)))
        expected = self.live[note_id]
        hits = self.mem.search(expected.content, k=50, **expected.scope.model_dump())
        assert note_id in {h.note.id for h in hits}, "a live note is not findable in its scope"
        COUNTERS.add("property", steps=1)

    @rule(note_ids=st.lists(notes, min_size=1, max_size=3), success=st.booleans())
    def feedback(self, note_ids: list[str], success: bool) -> None:
        if any(i in self.deleted for i in note_ids):
            with pytest.raises(NotFound):
                self.mem.feedback(note_ids, success)
            return
        self.mem.feedback(note_ids, success)
        for note_id in dict.fromkeys(note_ids):
            self.live[note_id].retrieved += 1
            self.live[note_id].succeeded += int(success)
        COUNTERS.add("property", steps=1)

    @rule(scope=scopes, min_uses=st.integers(1, 3), min_ratio=st.sampled_from([0.0, 0.5, 1.0]))
    def prune(self, scope: Scope, min_uses: int, min_ratio: float) -> None:
        doomed = {
            note_id
            for note_id, expected in self.live.items()
            if scope.admits(expected.scope) and expected.prunable(min_uses, min_ratio)
        }
        removed = self.mem.prune(min_uses=min_uses, min_ratio=min_ratio, **scope.model_dump())
        assert {r.note_id for r in removed} == doomed
        for note_id in doomed:
            del self.live[note_id]
            self.deleted.add(note_id)
            assert self.mem.history(note_id)[-1].action == "prune"
        COUNTERS.add("property", steps=1)

    @rule()
    def reopen(self) -> None:
        self.mem.close()
        self.mem = self.open()
        COUNTERS.add("property", steps=1)

    # ---- invariants ------------------------------------------------------------------

    @invariant()
    def store_matches_model(self) -> None:
        assert self.mem.count() == len(self.live)
        for scope in SCOPES[1:]:
            admitted = sum(scope.admits(e.scope) for e in self.live.values())
            assert self.mem.count(**scope.model_dump()) == admitted
        lost = 0
        for note_id, expected in self.live.items():
            note = self.mem.get(note_id, **expected.scope.model_dump())
            history = self.mem.history(note_id)
            updates = sum(event.action == "update" for event in history)
            feedbacks = sum(event.action == "feedback" for event in history)
            if (
                note.content,
                note.metadata,
                note.scope,
                note.pinned,
                note.retrieved_count,
                note.success_count,
                updates,
                feedbacks,
            ) != (
                expected.content,
                expected.metadata,
                expected.scope,
                expected.pinned,
                expected.retrieved,
                expected.succeeded,
                expected.updates,
                expected.retrieved,
            ):
                lost += 1
        COUNTERS.add("property", data_lost=lost)
        assert lost == 0, "a note differs from what the caller was told"

    @invariant()
    def store_is_consistent(self) -> None:
        assert checked_invariants(self.mem, "property") == []


MemoryMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestMemoryMachine = MemoryMachine.TestCase


class LongMemoryMachine(MemoryMachine):
    """The same machine with more and longer runs."""


LongMemoryMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TestLongMemoryMachine = pytest.mark.slow(LongMemoryMachine.TestCase)
