"""The Chroma record layout: history appended as JSON, changed keys only, older stores upgraded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.model import Event, Note
from memory.store.codec import FIELDS_KEY, LEGACY_KEYS, decode_note, encode_note
from memory.store.history import History, decode_history, encode_history

TURNS = [
    "Melanie: I signed up for a pottery class yesterday!",
    "Caroline: Pottery sounds relaxing, what are you making in the pottery class?",
    "Melanie: A bowl for my kids, painted blue like the sea.",
    "Caroline: I went to a support group meeting on Tuesday.",
]


def event(note_id: str, number: int) -> Event:
    return Event(note_id=note_id, action="link", after={"link": f"n{number}", "strength": 0.5})


def test_history_splices_events_onto_the_stored_json() -> None:
    stored = [event("a", 1), event("a", 2)]
    history = History(encode_history(stored)).plus(event("a", 3)).plus(event("a", 4))
    assert [e.after["link"] for e in decode_history(history.encoded())] == ["n1", "n2", "n3", "n4"]
    assert history.events() == decode_history(history.encoded())
    assert json.loads(history.encoded()) == json.loads(encode_history(history.events()))


def test_history_edge_cases() -> None:
    assert History().encoded() == "[]"
    assert History("[]").plus(event("a", 1)).events()[0].after["link"] == "n1"
    first = event("a", 1)
    assert History.of([first]).encoded() == encode_history([first])
    base = History(encode_history([event("a", 1)]))
    longer = base.plus(event("a", 2))
    assert len(base.events()) == 1 and len(longer.events()) == 2  # values, not shared lists
    with pytest.raises(json.JSONDecodeError):
        History("{not json").plus(event("a", 2)).encoded()


def test_update_sends_only_changed_keys_and_round_trips() -> None:
    before = Note(content="hello", user_id="u1", metadata={"dia_id": "D1:1", "old": 1})
    after = before.model_copy(
        update={"links": {"x" * 32: 0.5}, "metadata": {"dia_id": "D1:1"}, "follows": "y" * 32}
    )
    _, full = encode_note(after, History(), before)
    _, changed = encode_note(after, History(), before, changes_only=True)
    assert "user_id" in full and "user_id" not in changed and "kind" not in changed
    assert changed["follows"] == "y" * 32
    assert changed["m.old"] is None and changed["m.dia_id"] == "D1:1"
    merged = {**full, **{k: v for k, v in changed.items() if v is not None}}
    merged.pop("m.old", None)
    assert decode_note(after.id, after.content, merged) == after


def legacy_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The record's metadata as the one-key-per-field layout wrote it."""
    fields = json.loads(meta.pop(FIELDS_KEY))
    for key in ("keywords", "tags", "links", "sources", "metadata"):
        fields[key] = json.dumps(fields[key], ensure_ascii=False)
    fields["ts"] = 0.0
    return {**meta, FIELDS_KEY: None, **{key: fields[key] for key in LEGACY_KEYS}}


def test_store_of_the_old_layout_opens_unchanged_and_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "mem"
    with AgenticMemory(path=path, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        mem.add_many(
            [{"content": t, "user_id": "u1", "metadata": {"turn": i}} for i, t in enumerate(TURNS)]
        )
        notes = {n.id: n for n in mem.notes(user_id="u1")}
        histories = {note_id: mem.history(note_id, user_id="u1") for note_id in notes}
        records = mem._store._notes.get(include=["metadatas"])
        mem._store._notes.update(
            ids=records["ids"], metadatas=[legacy_meta(dict(m)) for m in records["metadatas"]]
        )
        assert all(FIELDS_KEY not in m for m in mem._store._notes.get()["metadatas"])
    assert any(n.links for n in notes.values())

    with AgenticMemory(path=path, embedder=HashingEmbedder(), link_threshold=0.3) as mem:
        assert {n.id: n for n in mem.notes(user_id="u1")} == notes
        assert {i: mem.history(i, user_id="u1") for i in notes} == histories
        metas = mem._store._notes.get()["metadatas"]
        assert all(FIELDS_KEY in m and not set(LEGACY_KEYS) & set(m) for m in metas)
        assert mem.search("pottery class", k=2, user_id="u1")
        assert (
            mem.search("anything", k=4, user_id="u1", filters={"turn": 2})[0].note.content
            == (TURNS[2])
        )
        assert mem.repair()["records_upgraded"] == 0
