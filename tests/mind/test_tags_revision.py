"""The tag vocabulary evolves: merges and splits, recorded in history, per scope."""

from __future__ import annotations

import numpy as np
import pytest

from memory import AgenticMemory, InvalidInput
from memory.embed import HashingEmbedder
from memory.mind.vocabulary import revise_tags
from memory.model import Note


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_two_tags_that_mean_the_same_merge() -> None:
    notes = [Note(content=f"n{i}", tags=["a" if i < 3 else "b"]) for i in range(5)]
    vectors = {n.id: _unit(1, 0.05 * i, 0) for i, n in enumerate(notes)}
    revisions = revise_tags(notes, vectors, threshold=0.8)
    assert {(r.note_id, r.old, r.new) for r in revisions} == {
        (notes[3].id, "b", "a"),
        (notes[4].id, "b", "a"),
    }
    assert "mean the same" in revisions[0].reason


def test_a_tag_holding_two_subjects_splits() -> None:
    notes = [
        Note(content=f"n{i}", tags=["mixed"], keywords=["garden" if i >= 3 else "tax"])
        for i in range(5)
    ]
    vectors = {n.id: _unit(1, 0, 0) if i < 3 else _unit(0, 1, 0) for i, n in enumerate(notes)}
    revisions = revise_tags(notes, vectors, threshold=0.5)
    assert {r.note_id for r in revisions} == {notes[3].id, notes[4].id}
    assert {r.new for r in revisions} == {"garden"}


def test_a_coherent_vocabulary_is_left_alone() -> None:
    notes = [Note(content=f"n{i}", tags=["a" if i < 3 else "b"]) for i in range(6)]
    vectors = {n.id: _unit(1, 0) if i < 3 else _unit(0, 1) for i, n in enumerate(notes)}
    assert revise_tags(notes, vectors, threshold=0.5) == []


def test_revise_tags_in_the_memory_records_history_and_keeps_scopes(
    embedder: HashingEmbedder,
) -> None:
    mem = AgenticMemory(embedder=embedder, sequence_links=False)
    texts = ["tomato seedlings need sun", "tomato seedlings need water"]
    a = [mem.add(t, user_id="a") for t in texts]
    b = [mem.add(t, user_id="b") for t in texts]
    # Force two tags onto one subject in scope "a" only, as drift would.
    mem.update(a[1].id, tags=["seedling-care"], user_id="a")
    revisions = mem.revise_tags()
    assert revisions and all(r.note_id in {n.id for n in a} for r in revisions)
    changed = mem.get(revisions[0].note_id)
    events = [e for e in mem.history(changed.id) if e.actor == "tag-vocabulary"]
    assert events and events[0].before["tags"] != events[0].after["tags"]
    assert [mem.get(n.id).tags for n in b] == [n.tags for n in b]
    assert mem.get(a[0].id).tags == mem.get(a[1].id).tags
    mem.close()


def test_memory_taxonomy_is_validated(embedder: HashingEmbedder) -> None:
    with pytest.raises(InvalidInput):
        AgenticMemory(embedder=embedder, taxonomy=["work", "work"])
    mem = AgenticMemory(embedder=embedder, taxonomy={"garden": "tomato seedlings soil"})
    assert mem.add("tomato seedlings and soil", user_id="u").tags == ["garden"]
    assert mem.add("quarterly invoice payment", user_id="u").tags == []
    mem.close()
