"""Tenant isolation: scoped reads, writes, evolution, learning and deletes stay in scope.

Notes of many users / agents / runs share the same sentences, so anything that
ignored the scope would find (or link, evolve, prune, delete) the wrong tenant's
notes. Scope rules (documented in the README): a query scope admits a note when
every field the query sets equals the note's; links and evolution happen only
between notes of exactly the same (user_id, agent_id, run_id); an unscoped call
sees every scope (the admin view).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from itertools import product
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from reliability_support import COUNTERS, invariant_violations, raw_notes, scale

from memory import AgenticMemory, NotFound, Scope
from memory.embed import HashingEmbedder

SENTENCES = [
    "Melanie signed up for a pottery class and made clay bowls",
    "The pottery class fired the clay bowls in the kiln",
    "Caroline went hiking in the mountains with her dog",
    "The dog loved the mountain trail and the lake",
    "Melanie is saving money to adopt a child through an agency",
    "The adoption agency interview went well for Melanie",
]
USERS = ["u0", "u1", "u2"]
AGENTS = [None, "a0", "a1"]
RUNS = [None, "r0"]
SCOPES = [Scope(user_id=u, agent_id=a, run_id=r) for u, a, r in product(USERS, AGENTS, RUNS)]
TRAJECTORY = {
    "task": "put a clean mug in coffeemachine",
    "steps": [
        {"action": "take mug 1 from countertop 1", "observation": "You pick up the mug 1."},
        {"action": "clean mug 1 with sinkbasin 1", "observation": "You clean the mug 1."},
        {"action": "put mug 1 in/on coffeemachine 1", "observation": "You put the mug 1."},
    ],
    "success": True,
}


def scope_kwargs(scope: Scope) -> dict[str, Any]:
    return scope.model_dump()


def outside(mem: AgenticMemory, scope: Scope, *, exact: bool) -> dict[str, Any]:
    """Raw state of every note the scope must not touch (its history included)."""
    keep = (lambda s: s != scope) if exact else (lambda s: not scope.admits(s))
    return {
        note_id: (stored.note.model_dump(mode="json"), stored.history_raw)
        for note_id, stored in raw_notes(mem, with_vectors=False).items()
        if keep(stored.note.scope)
    }


@pytest.fixture(scope="module")
def tenants() -> Iterator[AgenticMemory]:
    """Every scope holds the same six sentences, plus learned procedures in two scopes."""
    mem = AgenticMemory(embedder=HashingEmbedder(), link_threshold=0.3)
    items = [{"content": text, **scope_kwargs(s)} for s in SCOPES for text in SENTENCES]
    mem.add_many(items)
    for user in ("u0", "u1"):
        mem.learn({**TRAJECTORY, "id": f"t-{user}"}, user_id=user)
    assert invariant_violations(mem) == []
    yield mem
    mem.close()


query_scopes = st.builds(
    Scope,
    user_id=st.sampled_from([None, *USERS, "u-unknown"]),
    agent_id=st.sampled_from([None, "a0", "a1"]),
    run_id=st.sampled_from([None, "r0", "r-unknown"]),
)


@settings(max_examples=scale(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scope=query_scopes,
    words=st.lists(st.sampled_from(" ".join(SENTENCES).split()), min_size=1, max_size=5),
    k=st.integers(1, 40),
    expand=st.booleans(),
    pick=st.integers(0, 10_000),
)
def test_scoped_reads_never_see_another_scope(
    tenants: AgenticMemory, scope: Scope, words: list[str], k: int, expand: bool, pick: int
) -> None:
    mem, kwargs = tenants, scope_kwargs(scope)
    every = sorted(raw_notes(mem, with_vectors=False).values(), key=lambda s: s.note.id)
    visible = {s.note.id for s in every if scope.admits(s.note.scope)}
    leaks = [h.note.id for h in mem.search(" ".join(words), k=k, expand_links=expand, **kwargs)]
    leaks = [i for i in leaks if i not in visible]
    recalled = [h.note.id for h in mem.recall("clean a mug for coffee", k=5, **kwargs)]
    leaks += [i for i in recalled if i not in visible]
    assert {n.id for n in mem.notes(**kwargs)} == visible
    assert mem.count(**kwargs) == len(visible)
    target = every[pick % len(every)].note
    if scope.admits(target.scope):
        assert mem.get(target.id, **kwargs).id == target.id
        assert mem.history(target.id, **kwargs)[0].action == "create"
        neighbours = mem.neighbors(target.id, **kwargs)
        leaks += [n.id for n in neighbours if n.scope != target.scope]
    else:
        for read in (mem.get, mem.history, mem.neighbors):
            with pytest.raises(NotFound):
                read(target.id, **kwargs)
        with pytest.raises(NotFound):
            mem.feedback([target.id], True, **kwargs)
    COUNTERS.add("tenant", runs=1, leaks=len(leaks))
    assert not leaks, f"{scope} saw notes of other scopes: {leaks}"


@settings(max_examples=scale(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    adds=st.lists(
        st.tuples(st.sampled_from(SCOPES[:8]), st.sampled_from(SENTENCES)), min_size=1, max_size=5
    ),
    seed=st.integers(0, 2**16),
)
def test_links_and_evolution_stay_in_exactly_the_same_scope(
    adds: list[tuple[Scope, str]], seed: int
) -> None:
    """Parent and child scopes (u0 / u0+a0 / u0+a0+r0) hold the same text, yet never link."""
    rng = random.Random(seed)
    with AgenticMemory(embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        mem.add_many([{"content": t, **scope_kwargs(s)} for s in SCOPES[:8] for t in SENTENCES])
        for scope, text in adds:
            before = outside(mem, scope, exact=True)
            note = mem.add(f"{text} again {rng.random()}", **scope_kwargs(scope))
            after = outside(mem, scope, exact=True)
            changed = [i for i in before if before[i] != after.get(i)]
            linked = mem._store.fetch(list(note.links), Scope())
            leaks = changed + [i for i, s in linked.items() if s.note.scope != scope]
            COUNTERS.add("tenant", runs=1, leaks=len(leaks))
            assert note.links, "the same text is in scope: the new note should link"
            assert not leaks, f"an add in {scope} touched other scopes: {leaks}"
        assert invariant_violations(mem) == []


def test_delete_in_one_scope_touches_nothing_else(tenants: AgenticMemory) -> None:
    mem = tenants
    victim = mem.notes(user_id="u2", agent_id="a1", run_id="r0")[0]
    before = outside(mem, victim.scope, exact=True)
    with pytest.raises(NotFound):
        mem.delete(victim.id, user_id="u1")
    with pytest.raises(NotFound):
        mem.delete(victim.id, user_id="u2", agent_id="a0")
    mem.delete(victim.id, user_id="u2", agent_id="a1", run_id="r0")
    after = outside(mem, victim.scope, exact=True)
    leaks = [i for i in before if before[i] != after.get(i)]
    COUNTERS.add("tenant", runs=1, leaks=len(leaks))
    assert not leaks
    assert invariant_violations(mem) == []


def test_feedback_and_prune_stay_in_scope(embedder: HashingEmbedder) -> None:
    with AgenticMemory(embedder=embedder) as mem:
        mine = [mem.add(t, user_id="u0").id for t in SENTENCES[:3]]
        theirs = [mem.add(t, user_id="u1").id for t in SENTENCES[:3]]
        for trajectory_id, user in (("a", "u0"), ("b", "u0"), ("c", "u1"), ("d", "u1")):
            mem.learn({**TRAJECTORY, "id": trajectory_id}, user_id=user)
        with pytest.raises(NotFound):
            mem.feedback([mine[0], theirs[0]], False, user_id="u0")
        assert mem.get(theirs[0]).retrieved_count == 0, "a rejected feedback recorded nothing"
        for _ in range(3):
            mem.feedback(mine + theirs, False)
        before = outside(mem, Scope(user_id="u0"), exact=False)
        removed = mem.prune(min_uses=2, min_ratio=0.5, user_id="u0")
        after = outside(mem, Scope(user_id="u0"), exact=False)
        assert {r.note_id for r in removed} >= set(mine)
        assert all(mem.get(i).user_id == "u1" for i in theirs)
        leaks = [i for i in before if before[i] != after.get(i)]
        COUNTERS.add("tenant", runs=1, leaks=len(leaks))
        assert not leaks, "prune(user_id='u0') changed another user's notes"
        # An unscoped prune merges near-duplicates only within each exact scope.
        for removal in mem.prune(min_uses=100):
            if removal.merged_into is not None:
                kept = mem.get(removal.merged_into)
                gone = mem.history(removal.note_id)[-1].before
                assert kept.user_id == gone["user_id"]
        assert invariant_violations(mem) == []


def bulk_delete_all(embedder: HashingEmbedder, per_user: int) -> None:
    rng = random.Random(per_user)
    vocabulary = [f"w{i}" for i in range(3000)]
    with AgenticMemory(embedder=embedder, sequence_links=False) as mem:
        items = [
            {
                "content": f"{SENTENCES[i % 6]} {' '.join(rng.sample(vocabulary, 4))}",
                "user_id": user,
                "agent_id": AGENTS[i % 3],
                "run_id": RUNS[i % 2],
                "metadata": {"i": i},
            }
            for user in USERS
            for i in range(per_user)
        ]
        mem.add_many(items, batch_size=250)
        assert mem.count() == 3 * per_user
        target = Scope(user_id="u1")
        doomed = {n.id for n in mem.notes(user_id="u1")}
        before = outside(mem, target, exact=False)
        assert mem.delete_all(user_id="u1") == per_user
        after = outside(mem, target, exact=False)
        changed = [i for i in before if before[i] != after.get(i)]
        survivors = doomed & set(raw_notes(mem, with_vectors=False))
        COUNTERS.add("tenant", runs=1, leaks=len(changed), delete_all_notes=3 * per_user)
        assert not changed, "delete_all(user_id='u1') changed other users' notes"
        assert not survivors, f"{len(survivors)} notes of u1 survived delete_all"
        assert mem.count(user_id="u1") == 0 and mem.count() == 2 * per_user
        assert mem.search("pottery class clay bowls", k=50, user_id="u1") == []
        assert all(h.note.user_id != "u1" for h in mem.search("pottery", k=200))
        sample = sorted(doomed)[:: max(1, per_user // 10)]
        assert all(mem.history(i)[-1].action == "delete" for i in sample)
        assert invariant_violations(mem) == []


def test_delete_all_removes_exactly_one_users_notes(embedder: HashingEmbedder) -> None:
    bulk_delete_all(embedder, per_user=scale(100))


@pytest.mark.slow
def test_delete_all_removes_exactly_one_users_notes_among_1500(embedder: HashingEmbedder) -> None:
    bulk_delete_all(embedder, per_user=scale(500))


def test_delete_all_by_agent_or_run_spans_users_but_nothing_else(
    embedder: HashingEmbedder,
) -> None:
    with AgenticMemory(embedder=embedder) as mem:
        mem.add_many([{"content": t, **scope_kwargs(s)} for s in SCOPES for t in SENTENCES[:2]])
        for scope in (Scope(agent_id="a0"), Scope(user_id="u2", run_id="r0")):
            expected = {n.id for n in mem.notes(**scope_kwargs(scope))}
            before = outside(mem, scope, exact=False)
            assert mem.delete_all(**scope_kwargs(scope)) == len(expected) > 0
            after = outside(mem, scope, exact=False)
            assert before == after
            assert mem.count(**scope_kwargs(scope)) == 0
        assert invariant_violations(mem) == []


def test_unscoped_access_is_the_documented_admin_view(tenants: AgenticMemory) -> None:
    """No scope = every scope: search, get, notes, count and history see all tenants."""
    mem = tenants
    hits = mem.search("pottery class clay bowls", k=30)
    assert len({h.note.user_id for h in hits}) > 1, "an unscoped search sees several users"
    everything = raw_notes(mem, with_vectors=False)
    assert mem.count() == len(everything)
    assert {n.id for n in mem.notes()} == set(everything)
    some = next(iter(everything.values())).note
    assert mem.get(some.id).id == some.id
    assert mem.history(some.id)[0].action == "create"


def scripted_reply(links: list[dict[str, Any]], updates: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "keywords": ["pottery", "clay"],
            "tags": ["hobby"],
            "context": "Melanie talks about pottery",
            "links": links,
            "updates": updates,
        }
    )


def test_an_llm_reply_naming_another_scopes_note_changes_nothing_outside(
    embedder: HashingEmbedder,
) -> None:
    """The model proposes links/updates to unknown aliases and to a real id of another user."""
    benign = scripted_reply([], [])
    model = FakeListChatModel(responses=[benign])
    with AgenticMemory(embedder=embedder, llm=model, link_threshold=0.3) as mem:
        victims = [mem.add(t, user_id="victim").id for t in SENTENCES[:3]]
        mem.add_many([{"content": t, "user_id": "attacker"} for t in SENTENCES[:3]])
        hostile = scripted_reply(
            [
                {"to": "n1", "strength": 0.9, "reason": "real candidate"},
                {"to": "n99", "strength": 1.0, "reason": "no such alias"},
                {"to": victims[0], "strength": 1.0, "reason": "another user's id"},
                {"to": f"[{victims[1]}]", "strength": 1.0, "reason": "bracketed id"},
            ],
            [
                {"note": victims[0], "add_tags": ["pwned"], "context": "overwritten"},
                {"note": "n42", "add_tags": ["ghost"]},
                {"note": "n1", "add_tags": ["evolved"]},
            ],
        )
        model.responses, model.i = [hostile], 0
        before = outside(mem, Scope(user_id="attacker"), exact=True)
        note = mem.add("Melanie made clay bowls at the pottery class", user_id="attacker")
        after = outside(mem, Scope(user_id="attacker"), exact=True)
        leaks = [i for i in before if before[i] != after.get(i)]
        leaks += [t for t in note.links if mem.get(t).user_id != "attacker"]
        COUNTERS.add("tenant", runs=1, leaks=len(leaks))
        assert not leaks, f"an LLM reply reached another scope: {leaks}"
        assert mem.history(note.id)[0].actor == "llm", "the scripted reply was not used"
        assert set(note.links) and not set(note.links) & set(victims)
        assert any("evolved" in n.tags for n in mem.notes(user_id="attacker"))
        assert all("pwned" not in mem.get(v).tags for v in victims)
        assert note.user_id == "attacker" and mem.get(note.id).content.startswith("Melanie")
        assert invariant_violations(mem) == []
