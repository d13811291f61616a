"""IngestPipeline on its own (in-memory store, heuristic mind): candidates, links, tails."""

from __future__ import annotations

import threading
from datetime import timedelta

import numpy as np
import pytest

from memory.embed import HashingEmbedder
from memory.ingest.pipeline import IngestPipeline, IngestSettings
from memory.ingest.sequence import SequencePolicy, sequence_link
from memory.ingest.tails import Tail, Tails
from memory.mind.base import UsageMeter
from memory.mind.heuristic import HeuristicMind
from memory.model import Note, Scope
from memory.retrieve.lexical import LexicalIndex
from memory.store import History, InMemoryNoteStore
from memory.validate import note_input

TURNS = [
    "Melanie: I signed up for a pottery class yesterday!",
    "Caroline: Pottery sounds fun! Are you making clay bowls in the class?",
    "Melanie: Yes, the pottery class teaches clay bowls and mugs.",
]


def pipeline(*, sequence: bool = True) -> tuple[IngestPipeline, InMemoryNoteStore, LexicalIndex]:
    store, index, embedder = InMemoryNoteStore(), LexicalIndex(), HashingEmbedder()
    heuristic = HeuristicMind(embedder, link_threshold=0.3)
    built = IngestPipeline(
        store=store,
        index=index,
        embedder=embedder,
        heuristic=heuristic,
        mind=heuristic,
        tails=Tails(),
        settings=IngestSettings(
            link_candidates=8,
            max_concurrency=1,
            sequence=SequencePolicy(enabled=sequence, gap=timedelta(hours=6), strength=0.5),
        ),
        lock=threading.RLock(),
        check_open=lambda: None,
        meter=UsageMeter(),
    )
    return built, store, index


def items(scope_user: str = "u"):
    return [
        note_input(t, timestamp=f"2023-07-03 13:3{i}", user_id=scope_user, max_chars=1000)
        for i, t in enumerate(TURNS)
    ]


def test_a_batch_is_written_linked_and_indexed() -> None:
    ingest, store, index = pipeline()
    notes = ingest.ingest(items())
    assert store.count() == 3
    assert notes[1].follows == notes[0].id and notes[2].follows == notes[1].id
    for note in store.fetch([n.id for n in notes], Scope()).values():
        for target, strength in note.note.links.items():
            other = store.fetch([target], Scope())[target].note
            assert other.links[note.note.id] == strength, "links are symmetric"
    assert {nid for nid, _ in index.search("pottery", 5, scope=Scope())} <= {n.id for n in notes}


def test_the_next_batch_follows_the_tail_of_its_scope_only() -> None:
    ingest, _, _ = pipeline()
    first = ingest.ingest(items())
    later = note_input(
        "Caroline: See you at the class!", timestamp="2023-07-03 14:00", user_id="u", max_chars=1000
    )
    other = note_input(
        "Someone else entirely", timestamp="2023-07-03 14:00", user_id="v", max_chars=1000
    )
    second = ingest.ingest([later, other])
    assert second[0].follows == first[-1].id
    assert second[1].follows is None and not second[1].links, "scopes never link"


def test_sequence_links_can_be_switched_off() -> None:
    ingest, _, _ = pipeline(sequence=False)
    notes = ingest.ingest(items())
    assert all(n.follows is None for n in notes)


def test_ingest_many_equals_one_batch() -> None:
    one, _, _ = pipeline()
    many, _, _ = pipeline()
    a = one.ingest(items())
    b = many.ingest_many(items(), batch_size=2, window=1, show_progress=False)
    assert [(n.keywords, n.tags, n.content) for n in a] == [
        (n.keywords, n.tags, n.content) for n in b
    ]


class FetchLog(InMemoryNoteStore):
    """An in-memory store that records whether each fetch asked for vectors."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[bool] = []

    def fetch(self, ids, scope, **kwargs):  # type: ignore[no-untyped-def, override]
        self.asked.append(bool(kwargs.get("with_vectors")))
        return super().fetch(ids, scope, **kwargs)


def test_the_tail_vector_this_process_wrote_spares_a_read_until_its_text_changes() -> None:
    store = FetchLog()
    embed = HashingEmbedder().embed
    scope = Scope(user_id="u")
    tail_note = Note(content="Melanie: pottery class", user_id="u")
    stored_vector = embed(["Melanie: pottery class"])[0]
    store.write([(tail_note, stored_vector, History())])
    new = Note(content="Caroline: what are you making?", user_id="u")
    query = embed([new.content])[0]
    policy = SequencePolicy(enabled=True, gap=timedelta(hours=6), strength=0.5)
    kept = np.ones_like(stored_vector) / np.sqrt(len(stored_vector))  # not the stored one
    assert float(np.dot(kept, query)) != pytest.approx(float(np.dot(stored_vector, query)))

    def linked(tail: Tail) -> float:
        candidates: list = []
        links = sequence_link(store, policy, new, query, {scope: tail}, candidates, {})
        assert links == {tail_note.id: (0.5, "follows the previous turn")}
        assert candidates[0][1].note.id == tail_note.id
        return float(candidates[0][0])

    same_text = Tail(tail_note.id, tail_note.timestamp, kept, tail_note.content)
    assert linked(same_text) == pytest.approx(float(np.dot(kept, query))) and store.asked == [False]
    store.asked.clear()
    other_text = Tail(tail_note.id, tail_note.timestamp, kept, "what it said before an update")
    assert linked(other_text) == pytest.approx(float(np.dot(stored_vector, query)))
    assert True in store.asked
    store.asked.clear()
    rebuilt = Tail(tail_note.id, tail_note.timestamp)  # found on open: no vector known
    assert linked(rebuilt) == pytest.approx(float(np.dot(stored_vector, query)))
    assert store.asked == [True]
