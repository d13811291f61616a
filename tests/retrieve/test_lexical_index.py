"""The segmented BM25 index: in step with writes, scoped, and equal to a fresh rebuild."""

from __future__ import annotations

import random

import pytest

from memory.model import Note, Scope
from memory.retrieve.lexical import LexicalIndex

U1, U2 = Scope(user_id="u1"), Scope(user_id="u2")


def entries(texts: list[str], scope: Scope = U1, kind: str = "episodic"):  # type: ignore[no-untyped-def]
    return [(f"n{i}", text, scope, kind) for i, text in enumerate(texts)]


def test_finds_stemmed_words_and_drops_stop_words() -> None:
    index = LexicalIndex()
    index.upsert(entries(["She painted a sunrise", "the and of it", "pottery class"]))
    assert [hit[0] for hit in index.search("painting sunrises", 5, scope=U1)] == ["n0"]
    assert index.search("the and", 5, scope=U1) == []


def test_updates_and_deletes_take_effect_before_and_after_a_rebuild() -> None:
    index = LexicalIndex(min_rebuild=1, rebuild_fraction=0.0)
    index.upsert(entries(["pottery class", "hiking trip", "pottery wheel"]))
    index.search("pottery", 5, scope=U1)  # forces the main segment to be built
    index.upsert([("n0", "chess club", U1, "episodic")])
    index.remove(["n2"])
    assert index.search("pottery", 5, scope=U1) == []
    assert [h[0] for h in index.search("chess", 5, scope=U1)] == ["n0"]


def test_scope_kind_and_allowed_filters() -> None:
    index = LexicalIndex()
    index.upsert([("a", "garden bees", U1, "episodic"), ("b", "garden bees", U2, "episodic")])
    index.upsert([("c", "garden bees", U1, "procedure")])
    assert {h[0] for h in index.search("bees", 5, scope=U1)} == {"a", "c"}
    assert {h[0] for h in index.search("bees", 5, scope=U1, kinds=["episodic"])} == {"a"}
    assert {h[0] for h in index.search("bees", 5, scope=Scope())} == {"a", "b", "c"}
    assert index.search("bees", 5, scope=Scope(user_id="nobody")) == []
    assert {h[0] for h in index.search("bees", 5, scope=Scope(), allowed={"b"})} == {"b"}


def test_delta_segment_scores_match_a_fresh_index() -> None:
    rng = random.Random(7)
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(words) for _ in range(8)) for _ in range(300)]
    segmented = LexicalIndex(min_rebuild=10_000)  # never rebuilds: all in the delta
    segmented.upsert(entries(texts))
    fresh = LexicalIndex(min_rebuild=0, rebuild_fraction=0.0)  # rebuilds on first search
    fresh.upsert(entries(texts))
    for query in ("w1 w2", "w7", "w3 w30 w31"):
        left = dict(segmented.search(query, 300, scope=U1))
        right = dict(fresh.search(query, 300, scope=U1))
        assert left.keys() == right.keys()  # all matching notes (ties order freely)
        for note_id, score in left.items():
            assert score == pytest.approx(right[note_id], rel=1e-4)


def test_speaker_of_a_note() -> None:
    index = LexicalIndex()
    index.upsert([("a", "Melanie: I paint", U1, "episodic"), ("b", "no speaker", U1, "episodic")])
    assert index.speaker("a") == "melanie" and index.speaker("b") is None


def test_whether_a_note_says_when_follows_its_own_text() -> None:
    index = LexicalIndex(fields=("context",))
    dated = Note(content="Mel: we went camping last weekend", user_id="u1")
    undated = Note(content="Mel: camping is fun", user_id="u1", context="Mel, 8 May 2023")
    index.upsert_notes([dated, undated])
    # The context line dates every note; only the note's own words count.
    assert index.dated(dated.id) and not index.dated(undated.id)
    index.upsert_notes([dated.model_copy(update={"content": "Mel: camping is fun"})])
    assert not index.dated(dated.id), "an edit that drops the time drops the flag"
    index.upsert_notes([undated.model_copy(update={"content": "Mel: camping in 2022"})])
    index.remove([undated.id])
    assert not index.dated(undated.id)


def _thread_and_another_note() -> tuple[Note, Note, Note, Note]:
    """Three turns of one thread (a <- b <- c) and an unrelated note."""
    a = Note(content="first turn", user_id="u1")
    b = Note(content="second turn", user_id="u1", follows=a.id)
    c = Note(content="third turn", user_id="u1", follows=b.id)
    return a, b, c, Note(content="another day", user_id="u1")


def test_episode_is_the_first_note_of_the_thread() -> None:
    a, b, c, other = _thread_and_another_note()
    index = LexicalIndex()
    index.upsert_notes([c, b])  # out of order: a is not here yet
    assert index.episode(c.id) == b.id
    index.upsert_notes([a, other])
    assert {index.episode(n.id) for n in (a, b, c)} == {a.id}
    assert index.episode(other.id) == other.id
    index.upsert_notes([b.model_copy(update={"follows": other.id})])
    assert index.episode(c.id) == other.id, "a re-linked thread follows its new start"
    index.remove([b.id])
    assert index.episode(c.id) == c.id, "a deleted note ends the thread"


def test_episode_size_counts_the_notes_of_the_thread() -> None:
    a, b, c, other = _thread_and_another_note()
    index = LexicalIndex()
    index.upsert_notes([c, b])  # out of order: a is not here yet
    assert index.episode_size(index.episode(c.id)) == 2
    index.upsert_notes([a, other])
    assert index.episode_size(a.id) == 3, "the late start joins the thread"
    assert index.episode_size(other.id) == 1
    d = Note(content="fourth turn", user_id="u1", follows=c.id)
    index.upsert_notes([d])
    assert index.episode_size(index.episode(d.id)) == 4, "a new turn lengthens it"
    index.upsert_notes([c.model_copy(update={"follows": other.id})])
    assert index.episode_size(a.id) == 2
    assert index.episode_size(other.id) == 3, "a re-linked note takes its followers along"
    index.remove([c.id])
    assert index.episode_size(other.id) == 1
    assert index.episode_size(index.episode(d.id)) == 1, "a deleted note ends the thread"


def test_episode_sizes_agree_with_a_recount_under_random_changes() -> None:
    rng = random.Random(7)
    index = LexicalIndex()
    notes: dict[str, Note] = {}
    held: set[str] = set()

    def recount_root(note_id: str) -> str:
        seen = {note_id}
        while (before := notes[note_id].follows) in held and before not in seen:
            seen.add(before)
            note_id = before
        return note_id

    ids = [Note(content=f"turn {i}", user_id="u").id for i in range(40)]
    for step in range(300):
        note_id = rng.choice(ids)
        if note_id in held and rng.random() < 0.2:
            index.remove([note_id])
            held.discard(note_id)
        else:
            earlier = ids[: ids.index(note_id)]
            follows = rng.choice(earlier) if earlier and rng.random() < 0.8 else None
            notes[note_id] = Note(id=note_id, content=f"turn {step}", user_id="u", follows=follows)
            index.upsert_notes([notes[note_id]])
            held.add(note_id)
        if step % 3 == 0:  # ask sometimes, so the memos are exercised in between changes
            roots = {recount_root(n) for n in held}
            for n in held:
                assert index.episode(n) == recount_root(n)
            for root in roots:
                expected = sum(recount_root(n) == root for n in held)
                assert index.episode_size(root) == expected
