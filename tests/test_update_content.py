"""``update(content=...)`` rebuilds what depends on the content (issue 17).

Embedding, keywords, tags, context and the BM25 entry are derived again from the new
text, in one history event; links are kept; scopes and bad input leave the note as it
was. Both minds: the heuristic one, and an LLM mind (whose failure falls back).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.errors import InvalidInput, NotFound
from memory.model import Scope
from tests.doubles.scripted_llm import Script, ScriptedChatModel

WHEN = datetime(2024, 5, 8, 12, tzinfo=timezone.utc)
OLD = "Caroline: I am vegetarian, so no meat dishes at the barbecue please"
NEW = "Caroline: I was vegetarian until April 2024; now I eat fish and grilled salmon"


def _vector(mem: AgenticMemory, note_id: str) -> np.ndarray:
    stored = mem._store.fetch([note_id], Scope(), with_vectors=True)[note_id]
    return np.asarray(stored.vector)


def test_new_content_rederives_keywords_tags_and_context(mem: AgenticMemory) -> None:
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    updated = mem.update(note.id, content=NEW, user_id="u1")

    fresh_memory = AgenticMemory(embedder=HashingEmbedder(), link_threshold=0.3)
    fresh = fresh_memory.add(NEW, timestamp=WHEN, user_id="u1")
    fresh_memory.close()
    assert updated.content == NEW
    assert (updated.keywords, updated.context) == (fresh.keywords, fresh.context)
    # Tags are not compared: they come from the scope's own vocabulary, which holds
    # the old note's tags here and is empty in the fresh memory.
    assert updated.keywords != note.keywords
    assert "meat" not in updated.context and "meat" not in " ".join(updated.keywords)
    assert mem.get(note.id, user_id="u1") == updated


def test_one_history_event_holds_before_and_after_of_every_changed_field(
    mem: AgenticMemory,
) -> None:
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    updated = mem.update(note.id, content=NEW, user_id="u1")

    event = mem.history(note.id, user_id="u1")[-1]
    assert event.action == "update"
    assert {"content", "keywords", "context"} <= set(event.after)
    assert set(event.before) == set(event.after)
    assert event.before["content"] == OLD and event.after["content"] == NEW
    assert event.before["keywords"] == note.keywords
    assert event.after["keywords"] == updated.keywords
    assert event.after["context"] == updated.context
    assert "derived from the new content (heuristic)" in event.reason


def test_search_finds_the_new_content_not_the_old(mem: AgenticMemory) -> None:
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    for filler in ("Melanie: I ran a charity race", "Caroline: my dog loves the beach"):
        mem.add(filler, user_id="u1")
    mem.update(note.id, content=NEW, user_id="u1")

    # Dense: the stored vector is the new content's; the old one is gone.
    vector = _vector(mem, note.id)
    assert np.allclose(vector, mem.embedder.embed([NEW])[0], atol=1e-6)
    assert not np.allclose(vector, mem.embedder.embed([OLD])[0], atol=1e-3)
    # BM25: words only the old text had no longer find the note; the new ones do.
    index = mem._search._index  # the BM25 side of the hybrid search
    assert note.id not in dict(index.search("meat dishes barbecue", 5, scope=Scope()))
    assert note.id in dict(index.search("salmon fish", 5, scope=Scope()))
    # Fused: the note is the top hit for the new text.
    assert mem.search("grilled salmon fish", user_id="u1")[0].note.id == note.id


def test_caller_values_win_over_derived_ones(mem: AgenticMemory) -> None:
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    updated = mem.update(note.id, content=NEW, keywords=["diet"], user_id="u1")
    assert updated.keywords == ["diet"]
    assert updated.context != note.context  # still derived: not passed


def test_links_are_kept(mem: AgenticMemory) -> None:
    first = mem.add("Melanie: I painted a sunrise over the lake", user_id="u1")
    second = mem.add("Melanie: I painted the lake again at sunset", user_id="u1")
    assert first.id in mem.get(second.id, user_id="u1").links
    links = mem.get(second.id, user_id="u1").links
    follows = mem.get(second.id, user_id="u1").follows

    updated = mem.update(second.id, content="Melanie: my car broke down on the highway")
    assert updated.links == links and updated.follows == follows
    assert second.id in mem.get(first.id).links


def test_same_content_changes_nothing(mem: AgenticMemory) -> None:
    note = mem.add(OLD, user_id="u1")
    history = mem.history(note.id)
    assert mem.update(note.id, content=OLD, user_id="u1") == note
    assert mem.history(note.id) == history


def test_other_scope_cannot_update(mem: AgenticMemory) -> None:
    note = mem.add(OLD, user_id="u1")
    with pytest.raises(NotFound):
        mem.update(note.id, content=NEW, user_id="u2")
    assert mem.get(note.id, user_id="u1") == note


@pytest.mark.parametrize(
    "bad",
    [{"content": ""}, {"content": "x" * 300_000}, {"tags": "not a list"}, {"timestamp": "soon"}],
)
def test_bad_input_leaves_the_note_untouched(mem: AgenticMemory, bad: dict) -> None:
    note = mem.add(OLD, user_id="u1")
    history = mem.history(note.id)
    vector = _vector(mem, note.id)
    with pytest.raises(InvalidInput):
        mem.update(note.id, **{"content": NEW, **bad})
    assert mem.get(note.id) == note
    assert mem.history(note.id) == history
    assert np.array_equal(_vector(mem, note.id), vector)


def _llm_reply(keywords: list[str], context: str) -> str:
    return json.dumps(
        {"keywords": keywords, "tags": ["food"], "context": context, "links": [], "updates": []}
    )


def test_llm_mind_describes_the_new_content() -> None:
    script = Script(
        _llm_reply(["vegetarian", "barbecue"], "Caroline avoids meat"),
        _llm_reply(["pescatarian", "salmon"], "Caroline now eats fish (since April 2024)"),
    )
    mem = AgenticMemory(embedder=HashingEmbedder(), llm=ScriptedChatModel(script))
    note = mem.add(OLD, user_id="u1")
    updated = mem.update(note.id, content=NEW, user_id="u1")
    mem.close()

    assert note.keywords == ["vegetarian", "barbecue"]
    # "pescatarian" is not in the note's text: the faithfulness check drops it.
    assert updated.keywords == ["salmon"]
    assert updated.context == "Caroline now eats fish (since April 2024)"
    assert "salmon" in script.prompt(1)  # the model was shown the new text
    assert mem.usage.calls == 2


def test_llm_failure_falls_back_and_keeps_the_update() -> None:
    script = Script(
        _llm_reply(["vegetarian", "barbecue"], "Caroline avoids meat"),
        then=ConnectionError("model down"),
    )
    mem = AgenticMemory(embedder=HashingEmbedder(), llm=ScriptedChatModel(script))
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    updated = mem.update(note.id, content=NEW, user_id="u1")
    event = mem.history(note.id)[-1]
    mem.close()
    offline = AgenticMemory(embedder=HashingEmbedder())  # what the fallback derives
    expected = offline.add(NEW, timestamp=WHEN, user_id="u1")
    offline.close()

    assert updated.content == NEW
    assert (updated.keywords, updated.context) == (expected.keywords, expected.context)
    assert "heuristic-fallback" in event.reason


async def test_aupdate_rederives_too(mem: AgenticMemory) -> None:
    note = mem.add(OLD, timestamp=WHEN, user_id="u1")
    updated = await mem.aupdate(note.id, content=NEW, user_id="u1")
    assert updated.keywords != note.keywords and updated.content == NEW
