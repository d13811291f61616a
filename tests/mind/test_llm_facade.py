"""The LLM mind through the facade: ``AgenticMemory(llm=model)`` with scripted models.

Every test runs twice, with a LangChain ``BaseChatModel`` and a LlamaIndex ``CustomLLM``
(``tests/doubles/scripted_llm.py``). Both replay a ``Script`` of steps -- a reply text, an
exception, a reply that hangs past the mind's timeout, or a function of the prompt (to
name the aliases the mind really showed) -- and answer every call after the queue with
``plain_reply``. Both report fixed token usage (``PROMPT_TOKENS`` / ``COMPLETION_TOKENS``
per answered call), so the counts in ``mem.usage`` and in history events are exact.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from doubles.scripted_llm import COMPLETION_TOKENS, FRAMEWORKS, PROMPT_TOKENS, Hang, Script

from memory import AgenticMemory, Event, Note
from memory.embed import HashingEmbedder
from memory.mind.base import Usage
from memory.mind.heuristic import HeuristicMind
from memory.mind.llm import LLMMind
from memory.mind.llm.prompts import NEW_NOTE_END

USER = "caroline-and-melanie"


def plain_reply(prompt: str) -> str:
    """A valid reply with no links: keywords from the new note's first words."""
    content = prompt.split(f"\n{NEW_NOTE_END}\nEXISTING NOTES:")[0].splitlines()[-1]
    words = [w for w in re.findall(r"[a-z]{4,}", content.lower())][:3]
    return json.dumps(
        {
            "keywords": words or ["remark"],
            "tags": ["conversation"],
            "context": f"a turn about {' and '.join(words[:2]) or 'the day'}",
            "links": [],
            "updates": [],
        }
    )


def reply(**fields: Any) -> str:
    """A reply JSON: a complete note description, with ``fields`` replacing defaults."""
    base: dict[str, Any] = {
        "keywords": ["pottery bowl", "Melanie"],
        "tags": ["art"],
        "context": "Melanie shows Caroline the bowl from her pottery class",
        "links": [],
        "updates": [],
    }
    return json.dumps({**base, **fields})


def alias_of(prompt: str, fragment: str) -> str:
    """The alias (``n3``) under which the prompt shows the note containing ``fragment``."""
    for line in prompt.splitlines():
        match = re.match(r"^(n\d+): (.*)$", line)
        if match and fragment in match.group(2):
            return match.group(1)
    raise AssertionError(f"no note containing {fragment!r} was shown:\n{prompt}")


ModelFactory = Callable[..., Any]


@pytest.fixture(params=list(FRAMEWORKS))
def make_model(request: pytest.FixtureRequest) -> ModelFactory:
    """``make_model(script, report_usage=True)``: a scripted model of either framework."""
    return FRAMEWORKS[request.param]


def new_script(delay: float = 0.0) -> Script:
    """A script answering ``plain_reply`` once its queued steps are played."""
    return Script(then=plain_reply, delay=delay)


@pytest.fixture
def script() -> Script:
    return new_script()


@pytest.fixture
def mem(make_model: ModelFactory, script: Script) -> Iterator[AgenticMemory]:
    """A memory whose LLM plays ``script``; no sequence links, so every link is the model's."""
    memory = AgenticMemory(llm=make_model(script), embedder=HashingEmbedder(), sequence_links=False)
    yield memory
    memory.close()


def tight_memory(model: Any, *, max_retries: int = 1) -> AgenticMemory:
    """A memory whose LLM mind gives up on a call after 0.2 s."""
    embedder = HashingEmbedder()
    mind = LLMMind(
        llm=model, fallback=HeuristicMind(embedder), timeout=0.2, max_retries=max_retries
    )
    return AgenticMemory(mind=mind, embedder=embedder, sequence_links=False)


def create_event(mem: AgenticMemory, note: Note) -> Event:
    [event] = [e for e in mem.history(note.id, user_id=USER) if e.action == "create"]
    return event


def events(mem: AgenticMemory, note: Note, action: str) -> list[Event]:
    return [e for e in mem.history(note.id, user_id=USER) if e.action == action]


def filled(note: Note) -> bool:
    return bool(note.keywords and note.tags and note.context)


def usage_of(
    *, calls: int, replies: int, retries: int = 0, fallbacks: int = 0, described: int = 0
) -> Usage:
    """What ``calls`` calls cost when ``replies`` of them returned (exceptions cost no tokens),
    for ``described`` notes whose keywords, tags and context the model gave and kept."""
    return Usage(
        calls=calls,
        prompt_tokens=replies * PROMPT_TOKENS,
        completion_tokens=replies * COMPLETION_TOKENS,
        retries=retries,
        fallbacks=fallbacks,
        keywords_accepted=described,
        tags_accepted=described,
        context_accepted=described,
    )


SEED = "Melanie: I signed up for a pottery class yesterday, it starts next week!"
NEW = "Melanie: Look at this bowl I made in my pottery class!"
VALID = reply()


# --- the common case ------------------------------------------------------------------


def test_links_and_evolution_are_applied_by_id_with_the_models_reasons(
    mem: AgenticMemory, script: Script
) -> None:
    seed = mem.add(SEED, user_id=USER)
    script.push(
        lambda prompt: reply(
            links=[{"to": alias_of(prompt, "signed up"), "strength": 0.8, "reason": "same class"}],
            updates=[
                {
                    "note": alias_of(prompt, "signed up"),
                    "add_tags": ["craft"],
                    "add_keywords": ["bowl"],
                    "context": "Melanie's pottery class, where she later made a bowl",
                    "reason": "the class produced a bowl",
                }
            ],
        )
    )
    note = mem.add(NEW, user_id=USER)

    assert (note.keywords, note.tags) == (["pottery bowl", "Melanie"], ["art"])
    assert note.context == "Melanie shows Caroline the bowl from her pottery class"
    assert note.links == {seed.id: 0.8}
    assert seed.id not in script.prompts[-1]  # the model saw an alias, never the id

    neighbour = mem.get(seed.id, user_id=USER)
    assert neighbour.links == {note.id: 0.8}
    assert "craft" in neighbour.tags and "bowl" in neighbour.keywords
    assert neighbour.context == "Melanie's pottery class, where she later made a bowl"
    [link] = events(mem, neighbour, "link")
    assert (link.after["link"], link.reason, link.actor) == (note.id, "same class", "llm")
    [evolve] = events(mem, neighbour, "evolve")
    assert (evolve.reason, evolve.actor) == ("the class produced a bowl", "llm")
    assert evolve.before["context"] == seed.context
    assert evolve.after["context"] == neighbour.context


def test_history_create_event_carries_usage_and_actor(mem: AgenticMemory, script: Script) -> None:
    note = mem.add(NEW, user_id=USER)
    event = create_event(mem, note)
    assert event.actor == "llm"
    assert event.usage == {
        "calls": 1,
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": COMPLETION_TOKENS,
        "keywords_accepted": 1,
        "tags_accepted": 1,
        "context_accepted": 1,
    }
    assert mem.usage == usage_of(calls=1, replies=1, described=1)
    assert script.calls == 1


@pytest.mark.parametrize(
    "wrapped",
    [
        f"Here is the note you asked for:\n{VALID}\nI hope this helps.",
        f"```json\n{VALID}\n```",
    ],
    ids=["prose", "fence"],
)
def test_prose_or_fences_around_json_cost_one_call(
    mem: AgenticMemory, script: Script, wrapped: str
) -> None:
    script.push(wrapped)
    note = mem.add(NEW, user_id=USER)
    assert note.keywords == ["pottery bowl", "Melanie"]
    assert create_event(mem, note).actor == "llm"
    assert mem.usage == usage_of(calls=1, replies=1, described=1)


def test_empty_fields_are_filled_without_another_call(mem: AgenticMemory, script: Script) -> None:
    script.push(reply(keywords=[], tags=[], context=""))
    note = mem.add(NEW, user_id=USER)
    assert filled(note)
    assert create_event(mem, note).actor == "llm"
    emptied = Usage(keywords_replaced=1, tags_replaced=1, context_replaced=1)
    assert mem.usage == usage_of(calls=1, replies=1) + emptied
    assert create_event(mem, note).usage == mem.usage.as_event_usage()


def test_add_many_with_an_llm_makes_one_call_per_note(mem: AgenticMemory, script: Script) -> None:
    notes = mem.add_many([{"content": f"{SEED} ({i})", "user_id": USER} for i in range(5)])
    assert len(notes) == mem.count(user_id=USER) == 5
    assert all(create_event(mem, note).actor == "llm" for note in notes)
    assert script.calls == 5
    assert mem.usage == usage_of(calls=5, replies=5, described=5)


# --- faults -------------------------------------------------------------------------

PERSISTENT: dict[str, Callable[[], str | BaseException]] = {
    "exception": lambda: ConnectionError("connection reset by peer"),
    "invalid-json": lambda: "{'keywords': ['pottery'], 'tags': None}",
    "truncated": lambda: VALID[: len(VALID) // 2],
    "wrong-types": lambda: reply(links="n1"),
    "prose-only": lambda: "Sorry, I cannot describe this note.",
    "empty": lambda: "",
}


@pytest.mark.parametrize("fault", PERSISTENT.values(), ids=PERSISTENT.keys())
def test_persistent_fault_stores_the_note_through_the_fallback(
    mem: AgenticMemory, script: Script, fault: Callable[[], str | BaseException]
) -> None:
    seed = mem.add(SEED, user_id=USER)
    script.push(*(fault() for _ in range(3)))  # max_retries=2: three attempts
    note = mem.add(NEW, user_id=USER)

    stored = mem.get(note.id, user_id=USER)
    assert filled(stored)
    assert mem.count(user_id=USER) == 2
    event = create_event(mem, note)
    assert event.actor == "heuristic-fallback"
    replies = 0 if isinstance(fault(), BaseException) else 3
    spent = usage_of(calls=3, replies=replies, retries=2, fallbacks=1)
    assert event.usage == spent.as_event_usage()
    assert mem.usage == usage_of(calls=1, replies=1, described=1) + spent
    assert mem.get(seed.id, user_id=USER).content == SEED


RECOVERABLE: dict[str, Callable[[], str | BaseException]] = {
    "exception": lambda: TimeoutError("read timed out"),
    "invalid-json": lambda: '{"keywords": ["pottery",], "tags": [}',
    "truncated": lambda: VALID[:30],
    "empty": lambda: "",
}


@pytest.mark.parametrize("fault", RECOVERABLE.values(), ids=RECOVERABLE.keys())
def test_fault_then_valid_reply_recovers_on_retry(
    mem: AgenticMemory, script: Script, fault: Callable[[], str | BaseException]
) -> None:
    script.push(fault(), VALID)
    note = mem.add(NEW, user_id=USER)

    assert note.keywords == ["pottery bowl", "Melanie"]
    event = create_event(mem, note)
    assert event.actor == "llm"
    replies = 1 if isinstance(fault(), BaseException) else 2
    assert mem.usage == usage_of(calls=2, replies=replies, retries=1, described=1)
    assert event.usage == mem.usage.as_event_usage()


@pytest.mark.parametrize("recovers", [False, True], ids=["every-attempt", "then-recovers"])
def test_timeout(make_model: ModelFactory, recovers: bool) -> None:
    script = new_script()
    with tight_memory(make_model(script), max_retries=1) as mem:
        script.push(Hang(0.6, VALID), VALID if recovers else Hang(0.6, VALID))
        note = mem.add(NEW, user_id=USER)

        assert filled(mem.get(note.id, user_id=USER))
        event = create_event(mem, note)
        assert event.actor == ("llm" if recovers else "heuristic-fallback")
        # a timed-out call returns nothing, so it costs no counted tokens
        expected = usage_of(
            calls=2,
            replies=1 if recovers else 0,
            retries=1,
            fallbacks=0 if recovers else 1,
            described=1 if recovers else 0,
        )
        assert mem.usage == expected
        assert event.usage == expected.as_event_usage()


def test_aliases_naming_nothing_are_ignored(
    mem: AgenticMemory, script: Script, caplog: pytest.LogCaptureFixture
) -> None:
    first = mem.add(SEED, user_id=USER)
    second = mem.add("Caroline: I'm off to the LGBTQ support group tonight.", user_id=USER)
    script.push(
        lambda prompt: reply(
            links=[
                {"to": "n9", "strength": 0.9, "reason": "invented alias"},
                {"to": second.id, "strength": 0.9, "reason": "a real id, never shown"},
                {"to": alias_of(prompt, "signed up"), "strength": 0.7, "reason": "same class"},
            ],
            updates=[{"note": "n7", "add_tags": ["ghost"], "reason": "invented"}],
        )
    )
    with caplog.at_level(logging.WARNING, logger="memory.mind.llm.mind"):
        note = mem.add(NEW, user_id=USER)

    assert note.links == {first.id: 0.7}
    assert mem.get(second.id, user_id=USER).links == {}
    assert all("ghost" not in n.tags for n in mem.notes(user_id=USER))
    assert "'n9'" in caplog.text and "'n7'" in caplog.text
    assert create_event(mem, note).actor == "llm"
    assert mem.usage.retries == 0


@pytest.mark.parametrize(
    ("update", "tags_added"),
    [
        ({"context": "", "add_tags": [], "add_keywords": []}, []),
        ({"context": "   ", "add_tags": ["craft"]}, ["craft"]),
    ],
    ids=["empty-context-only", "blank-context-with-a-tag"],
)
def test_an_update_that_would_wipe_the_context_is_rejected(
    mem: AgenticMemory, script: Script, update: dict[str, Any], tags_added: list[str]
) -> None:
    seed = mem.add(SEED, user_id=USER)
    assert seed.context
    script.push(
        lambda prompt: reply(
            links=[{"to": alias_of(prompt, "signed up"), "strength": 0.6, "reason": "class"}],
            updates=[{"note": alias_of(prompt, "signed up"), "reason": "wipe it", **update}],
        )
    )
    mem.add(NEW, user_id=USER)

    neighbour = mem.get(seed.id, user_id=USER)
    assert neighbour.context == seed.context
    assert neighbour.keywords == seed.keywords
    assert neighbour.tags == seed.tags + tags_added
    for event in events(mem, neighbour, "evolve"):
        assert "context" not in event.after
        assert event.reason == "wipe it"
    assert len(events(mem, neighbour, "evolve")) == (1 if tags_added else 0)


def test_candidates_and_links_never_cross_scope(mem: AgenticMemory, script: Script) -> None:
    mine = mem.add(SEED, user_id=USER)
    theirs = mem.add("Gina: I signed up for a pottery class too, at the studio.", user_id="gina")

    def link_everything(prompt: str) -> str:
        shown = re.findall(r"^(n\d+): ", prompt, flags=re.M)
        return reply(links=[{"to": alias, "strength": 0.9} for alias in shown])

    script.push(link_everything)
    note = mem.add(NEW, user_id=USER)

    assert "Gina" not in script.prompts[-1]
    assert note.links == {mine.id: 0.9}
    assert mem.get(theirs.id, user_id="gina").links == {}


# --- usage --------------------------------------------------------------------------


def test_usage_totals_add_up_to_the_history(mem: AgenticMemory, script: Script) -> None:
    clean = mem.add(SEED, user_id=USER)
    script.push("not json", VALID)
    recovered = mem.add(NEW, user_id=USER)
    script.push(RuntimeError("rate limited"), "", "")
    fell_back = mem.add("Caroline: That bowl is gorgeous, Mel!", user_id=USER)

    per_note = [Usage(**create_event(mem, n).usage) for n in (clean, recovered, fell_back)]
    assert per_note == [
        usage_of(calls=1, replies=1, described=1),
        usage_of(calls=2, replies=2, retries=1, described=1),
        usage_of(calls=3, replies=2, retries=2, fallbacks=1),
    ]
    assert mem.usage == sum(per_note, Usage())
    assert mem.usage == mem.mind.usage  # type: ignore[attr-defined]


def test_usage_is_estimated_when_the_model_reports_none(
    make_model: ModelFactory, script: Script
) -> None:
    with AgenticMemory(
        llm=make_model(script, report_usage=False), embedder=HashingEmbedder()
    ) as mem:
        note = mem.add(NEW, user_id=USER)
        usage = create_event(mem, note).usage
    prompt_chars = len(script.prompts[0])
    assert usage["calls"] == 1
    assert usage["prompt_tokens"] == pytest.approx(prompt_chars / 4, rel=0.15)
    assert usage["completion_tokens"] > 0


# --- the model's reason on the previous turn -----------------------------------------


def test_a_link_to_the_previous_turn_keeps_the_models_reason(
    make_model: ModelFactory, script: Script
) -> None:
    with AgenticMemory(llm=make_model(script), embedder=HashingEmbedder()) as mem:
        seed = mem.add(SEED, user_id=USER, timestamp="2023-05-08 13:56")
        script.push(
            lambda prompt: reply(
                links=[{"to": alias_of(prompt, "signed up"), "strength": 0.9, "reason": "class"}]
            )
        )
        mem.add(NEW, user_id=USER, timestamp="2023-05-08 13:57")
        [link] = events(mem, mem.get(seed.id, user_id=USER), "link")
        assert link.reason == "class"


# --- concurrency and async (once the facade has them) ---------------------------------

needs_async_facade = pytest.mark.skipif(
    not hasattr(AgenticMemory, "aadd"),
    reason="AgenticMemory.aadd / concurrent LLM add_many are not in the facade yet",
)


@needs_async_facade
def test_add_many_with_an_llm_respects_max_concurrency(make_model: ModelFactory) -> None:
    script = new_script(delay=0.05)
    with AgenticMemory(
        llm=make_model(script), embedder=HashingEmbedder(), max_concurrency=2
    ) as mem:
        notes = mem.add_many([{"content": f"{SEED} ({i})", "user_id": USER} for i in range(8)])
        assert mem.count(user_id=USER) == 8
        assert all(create_event(mem, note).actor == "llm" for note in notes)
        assert mem.usage == usage_of(calls=8, replies=8, described=8)
    assert script.peak == 2  # concurrent, and never more than the limit


@needs_async_facade
async def test_aadd_stores_through_the_async_model(make_model: ModelFactory) -> None:
    script = new_script()
    with AgenticMemory(llm=make_model(script), embedder=HashingEmbedder()) as mem:
        script.push(VALID)
        note = await mem.aadd(NEW, user_id=USER)  # type: ignore[attr-defined]
        assert mem.get(note.id, user_id=USER).keywords == ["pottery bowl", "Melanie"]
        assert create_event(mem, note).actor == "llm"
        assert mem.usage == usage_of(calls=1, replies=1, described=1)
        if hasattr(mem, "asearch"):
            results = await mem.asearch("pottery bowl", user_id=USER)
            assert results[0].note.id == note.id


@needs_async_facade
async def test_aadd_falls_back_when_the_model_keeps_failing(make_model: ModelFactory) -> None:
    script = new_script()
    with AgenticMemory(llm=make_model(script), embedder=HashingEmbedder()) as mem:
        script.push(*(ConnectionError("down") for _ in range(3)))
        note = await mem.aadd(NEW, user_id=USER)  # type: ignore[attr-defined]
        assert filled(mem.get(note.id, user_id=USER))
        assert create_event(mem, note).actor == "heuristic-fallback"
        assert mem.usage == usage_of(calls=3, replies=0, retries=2, fallbacks=1)
