"""HybridSearch on its own: a store and a lexical index, hand-made vectors, no facade."""

from __future__ import annotations

import numpy as np

from memory.model import Event, Note, Scope
from memory.retrieve.indexed import index_text
from memory.retrieve.lexical import LexicalIndex
from memory.retrieve.search import HybridSearch, SearchSettings
from memory.store import History, InMemoryNoteStore


def unit(*weights: float) -> np.ndarray:
    v = np.zeros(6, dtype=np.float32)
    v[: len(weights)] = weights
    return v / np.linalg.norm(v)


def query(*weights: float) -> np.ndarray:
    return unit(*weights)[None, :]


def settings(**changes: object) -> SearchSettings:
    base = {
        "rrf_k": 5,
        "thread_weights": (0.0, 0.0),
        "link_expansion_weight": 0.5,
        "episodes": False,
    }
    return SearchSettings(**{**base, "speaker_boost": 0.0, **changes})  # type: ignore[arg-type]


def build(*pairs: tuple[Note, np.ndarray]) -> tuple[InMemoryNoteStore, LexicalIndex]:
    store, index = InMemoryNoteStore(), LexicalIndex()
    store.write([(n, v, History.of([Event(note_id=n.id, action="create")])) for n, v in pairs])
    index.upsert((n.id, index_text(n), n.scope, n.kind) for n, _ in pairs)
    return store, index


def test_fusion_puts_a_note_both_lists_agree_on_first() -> None:
    both = Note(content="kiln temperature for glazes", user_id="u")
    dense_only = Note(content="something unrelated in words", user_id="u")
    lexical_only = Note(content="kiln kiln kiln", user_id="u")
    store, index = build(
        (both, unit(1, 0.2)), (dense_only, unit(1, 0.1)), (lexical_only, unit(0, 1))
    )
    search = HybridSearch(store, index, settings())
    hits = search.rank("kiln temperature", query(1), 3, Scope(user_id="u"))
    assert hits[0].note.id == both.id
    assert {h.note.id for h in hits} == {both.id, dense_only.id, lexical_only.id}


def test_scope_and_kinds_are_respected() -> None:
    mine = Note(content="pottery class", user_id="u")
    theirs = Note(content="pottery class", user_id="v")
    proc = Note(content="pottery class", user_id="u", kind="procedure")
    store, index = build((mine, unit(1)), (theirs, unit(1)), (proc, unit(1)))
    search = HybridSearch(store, index, settings())
    hits = search.rank("pottery", query(1), 5, Scope(user_id="u"), kinds=["episodic"])
    assert [h.note.id for h in hits] == [mine.id]


def test_thread_context_lifts_the_turn_before_an_answer() -> None:
    question = Note(content="Did you like the trip?", user_id="u")
    answer = Note(content="Yes, very much.", user_id="u", follows=question.id)
    noise = Note(content="trip planning spreadsheet", user_id="u")
    store, index = build((question, unit(0, 1)), (answer, unit(1)), (noise, unit(0.6, 0.8)))
    flat = HybridSearch(store, index, settings())
    threaded = HybridSearch(store, index, settings(thread_weights=(0.9, 0.0)))
    vector = query(1)
    flat_order = [h.note.id for h in flat.rank("trip", vector, 3, Scope(user_id="u"))]
    threaded_scores = {
        h.note.id: h.score for h in threaded.rank("trip", vector, 3, Scope(user_id="u"))
    }
    flat_scores = {h.note.id: h.score for h in flat.rank("trip", vector, 3, Scope(user_id="u"))}
    assert answer.id in flat_order
    assert threaded_scores[answer.id] > flat_scores[answer.id], "relevance flows along the thread"


def test_speaker_boost_favours_the_named_speaker_when_switched_on() -> None:
    caroline = Note(content="Caroline: I adopted a dog", user_id="u")
    melanie = Note(content="Melanie: I adopted a dog", user_id="u")
    store, index = build((melanie, unit(1, 0.05)), (caroline, unit(1, 0.1)))
    search = HybridSearch(store, index, settings())
    question = "What did Caroline adopt?"
    assert search.rank(question, query(1), 2, Scope())[0].note.id == melanie.id
    search.settings.speaker_boost = 1.0
    assert search.rank(question, query(1), 2, Scope())[0].note.id == caroline.id


def test_a_time_question_favours_candidates_that_say_when() -> None:
    undated = Note(content="Mel: camping, camping with friends", user_id="u")
    dated = Note(content="Mel: we went camping with friends last weekend", user_id="u")
    store, index = build((undated, unit(1, 0.1)), (dated, unit(1, 0.3)))
    scope, vector = Scope(user_id="u"), query(1)

    def first(question: str, **changes: object) -> str:
        return (
            HybridSearch(store, index, settings(**changes))
            .rank(question, vector, 2, scope)[0]
            .note.id
        )

    assert first("When did Mel go camping?") == dated.id
    assert first("When did Mel go camping?", time_questions=False) == undated.id
    assert first("Did Mel go camping with friends?") == undated.id, "only time questions"


def test_the_episode_list_favours_the_thread_the_question_is_about() -> None:
    first = Note(content="turn one", user_id="u")
    second = Note(content="turn two", user_id="u", follows=first.id)
    third = Note(content="turn three", user_id="u", follows=second.id)
    fourth = Note(content="turn four", user_id="u", follows=third.id)
    lone = Note(content="elsewhere", user_id="u")
    store, index = build(
        (first, unit(1, 0.1)),
        (second, unit(1, 0.2)),
        (lone, unit(1, 0.3)),
        (third, unit(1, 0.4)),
        (fourth, unit(1, 0.5)),
    )
    index.upsert_notes([first, second, third, fourth, lone])  # with their threads

    def order(**changes: object) -> list[str]:
        search = HybridSearch(store, index, settings(**changes))
        return [h.note.id for h in search.rank("zzz", query(1), 5, Scope(user_id="u"))]

    flat = order(episodes=False)
    assert flat.index(lone.id) < flat.index(third.id)
    episodic = order(episodes=True)
    assert episodic.index(third.id) < episodic.index(lone.id)
    assert set(episodic) == set(flat), "nothing new enters"
