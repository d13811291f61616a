"""LLMMind through both frameworks: replies, faults, fallback, usage, async, threads.

Every behaviour runs twice, once with a LangChain ``BaseChatModel`` and once with a
LlamaIndex ``CustomLLM`` (``tests/doubles/scripted_llm.py``), both replaying exactly the
scripted replies, recording each conversation and reporting fixed token usage.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

import pytest
from doubles.scripted_llm import FRAMEWORKS, Script, ScriptedChatModel

from memory.errors import InvalidInput
from memory.mind.base import Candidate, LinkChoice, MindDecision, NoteDraft, Usage
from memory.mind.llm import LLMMind
from memory.mind.llm.mind import MIN_LINK_STRENGTH
from memory.model import Note

REPORTED_PROMPT = 321
REPORTED_COMPLETION = 54


def scripted(replies: Sequence[Any], delay: float = 0.0) -> Script:
    """Exactly ``replies`` in order (one call too many fails the test), reporting fixed usage."""
    return Script(*replies, delay=delay, tokens=(REPORTED_PROMPT, REPORTED_COMPLETION))


ModelFactory = Callable[..., Any]


@pytest.fixture(params=list(FRAMEWORKS))
def make_model(request: pytest.FixtureRequest) -> ModelFactory:
    """Build a scripted model of either framework: ``make_model(replies, delay=0.0)``."""
    model_class = FRAMEWORKS[request.param]

    def build(replies: Sequence[Any], delay: float = 0.0, **kwargs: Any) -> Any:
        return model_class(scripted(replies, delay), **kwargs)

    return build


class StubMind:
    """A deterministic fallback mind that counts its calls."""

    name = "stub"

    def __init__(self) -> None:
        self.calls = 0

    def decide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        self.calls += 1
        links = [LinkChoice(target_id=candidates[0].note.id, strength=0.4)] if candidates else []
        return MindDecision(
            keywords=["stub keyword"],
            tags=["stub"],
            context="stub context",
            links=links,
            actor="heuristic",
        )

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return self.decide(draft, candidates)


DRAFT = NoteDraft(
    content="Melanie: That's great, Caroline! I'm painting a sunrise over the lake for the "
    "charity art show next month.",
    timestamp=datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc),
    metadata={"speaker": "Melanie", "session": 1},
)


def _note(note_id: str, content: str, keywords: list[str], tags: list[str], context: str) -> Note:
    return Note(id=note_id, content=content, keywords=keywords, tags=tags, context=context)


CANDIDATES = [
    Candidate(
        note=_note(
            "id-support",
            "Caroline: I went to an LGBTQ support group yesterday and it was so powerful.",
            ["LGBTQ support group", "Caroline"],
            ["community"],
            "Caroline tells Melanie about a support group, May 2023",
        ),
        similarity=0.61,
    ),
    Candidate(
        note=_note(
            "id-painting",
            "Melanie: I finished a painting of the lake last week, my kids loved it.",
            ["painting", "lake", "kids"],
            ["art", "family"],
            "Melanie shares her lake painting with Caroline",
        ),
        similarity=0.74,
    ),
]

VALID = {
    "keywords": ["sunrise painting", "lake", "charity art show", "Melanie"],
    "tags": ["Art", "community"],
    "context": "Melanie tells Caroline (8 May 2023) she is painting for a charity show",
    "links": [
        {"to": "n2", "strength": 0.8, "reason": "both about Melanie's lake paintings"},
        {"to": "n1", "strength": 0.3, "reason": "same conversation"},
    ],
    "updates": [
        {
            "note": "n2",
            "add_tags": ["charity"],
            "add_keywords": ["charity art show"],
            "context": None,
            "reason": "the lake painting now leads to a charity show",
        }
    ],
}
VALID_JSON = json.dumps(VALID)


def _reply(**changes: Any) -> str:
    return json.dumps({**VALID, **changes})


def _mind(model: Any, stub: StubMind | None = None, **kwargs: Any) -> LLMMind:
    return LLMMind(llm=model, fallback=stub or StubMind(), **kwargs)


# --- the common case ---------------------------------------------------------------


def test_valid_reply_fills_fields_and_maps_aliases_to_ids(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON])
    stub = StubMind()
    decision = _mind(model, stub).decide(DRAFT, CANDIDATES)

    assert decision.actor == "llm"
    assert decision.keywords == VALID["keywords"]
    assert decision.tags == ["art", "community"]
    assert decision.context.startswith("Melanie tells Caroline")
    assert {(link.target_id, link.strength) for link in decision.links} == {
        ("id-painting", 0.8),
        ("id-support", 0.3),
    }
    [change] = decision.changes
    assert change.target_id == "id-painting"
    assert change.add_tags == ["charity"]
    assert change.context is None
    assert change.reason.startswith("the lake painting")
    assert stub.calls == 0
    assert model.script.calls == 1
    assert decision.usage == Usage(
        calls=1,
        prompt_tokens=REPORTED_PROMPT,
        completion_tokens=REPORTED_COMPLETION,
        keywords_accepted=1,
        tags_accepted=1,
        context_accepted=1,
    )


def test_prompt_shows_aliases_not_ids(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON])
    _mind(model).decide(DRAFT, CANDIDATES)
    text = "\n".join(content for _, content in model.script.conversations[0])
    assert "n1:" in text and "n2:" in text
    assert "id-support" not in text and "id-painting" not in text
    assert "speaker=Melanie" in text


def test_invented_alias_is_ignored_and_logged(
    make_model: ModelFactory, caplog: pytest.LogCaptureFixture
) -> None:
    reply = _reply(
        links=[
            {"to": "n9", "strength": 0.9, "reason": "invented"},
            {"to": "id-support", "strength": 0.9, "reason": "a real id, never shown"},
            {"to": "N2", "strength": 0.7, "reason": "case slip"},
        ],
        updates=[{"note": "n7", "add_tags": ["ghost"], "reason": "invented"}],
    )
    model = make_model([reply])
    with caplog.at_level(logging.WARNING, logger="memory.mind.llm.mind"):
        decision = _mind(model).decide(DRAFT, CANDIDATES)

    assert [link.target_id for link in decision.links] == ["id-painting"]
    assert decision.changes == []
    assert "n9" in caplog.text and "n7" in caplog.text
    assert decision.usage.calls == 1 and decision.usage.retries == 0


def test_strengths_are_clamped_and_duplicates_merged(make_model: ModelFactory) -> None:
    reply = _reply(
        links=[
            {"to": "n1", "strength": 1.7},
            {"to": "n2", "strength": 0},
            {"to": "n2", "strength": -3},
        ]
    )
    decision = _mind(make_model([reply])).decide(DRAFT, CANDIDATES)
    strengths = {link.target_id: link.strength for link in decision.links}
    assert strengths == {"id-support": 1.0, "id-painting": MIN_LINK_STRENGTH}


@pytest.mark.parametrize(
    "wrapped",
    [
        f"Here is the note structure you asked for:\n{VALID_JSON}\nLet me know if you need more.",
        f"```json\n{VALID_JSON}\n```",
        f"Sure.\n```\n{VALID_JSON}\n```\nDone.",
    ],
    ids=["prose", "fence", "prose-and-fence"],
)
def test_prose_and_fences_are_tolerated(make_model: ModelFactory, wrapped: str) -> None:
    model = make_model([wrapped])
    decision = _mind(model).decide(DRAFT, CANDIDATES)
    assert decision.actor == "llm"
    assert decision.keywords == VALID["keywords"]
    assert decision.usage.retries == 0
    assert model.script.calls == 1


# --- faults that recover on retry ---------------------------------------------------

RECOVERABLE = {
    "invalid-json": '{"keywords": ["lake",], "tags": [}',
    "wrong-types": _reply(links=[{"to": "n2", "strength": "very strong"}]),
    "links-not-a-list": _reply(links="n2"),
    "empty": "",
    "no-json": "I think these notes are related to art.",
    "exception": ConnectionError("connection reset by peer"),
}


@pytest.mark.parametrize("fault", RECOVERABLE.values(), ids=RECOVERABLE.keys())
def test_fault_then_valid_reply_recovers_on_retry(make_model: ModelFactory, fault: Any) -> None:
    model = make_model([fault, VALID_JSON])
    stub = StubMind()
    decision = _mind(model, stub).decide(DRAFT, CANDIDATES)

    assert decision.actor == "llm"
    assert decision.keywords == VALID["keywords"]
    assert stub.calls == 0
    assert model.script.calls == 2
    assert decision.usage.calls == 2
    assert decision.usage.retries == 1
    assert decision.usage.fallbacks == 0


def test_retry_tells_the_model_what_was_wrong(make_model: ModelFactory) -> None:
    bad = _reply(links=[{"to": "n2", "strength": "very strong"}])
    model = make_model([bad, VALID_JSON])
    _mind(model).decide(DRAFT, CANDIDATES)

    retry = model.script.conversations[1]
    assert retry[-2][1] == bad  # the bad answer is echoed as the assistant turn
    assert "links.0.strength" in retry[-1][1]
    assert len(retry) == len(model.script.conversations[0]) + 2


def test_follow_up_turns_do_not_pile_up(make_model: ModelFactory) -> None:
    model = make_model(["not json", "still not json", VALID_JSON])
    _mind(model).decide(DRAFT, CANDIDATES)
    first, second, third = (len(prompt) for prompt in model.script.conversations)
    assert second == third == first + 2


# --- faults that never recover: the fallback decides ---------------------------------

PERSISTENT = {
    "exception": lambda: RuntimeError("rate limited"),
    "invalid-json": lambda: "{'keywords': ['single quotes']}",
    "wrong-types": lambda: _reply(keywords={"not": "a list"}),
    "empty": lambda: "",
    "prose-only": lambda: "Sorry, I cannot help with that.",
}


@pytest.mark.parametrize("fault", PERSISTENT.values(), ids=PERSISTENT.keys())
def test_persistent_fault_falls_back_and_counts_usage(
    make_model: ModelFactory, fault: Callable[[], Any]
) -> None:
    model = make_model([fault() for _ in range(3)])
    stub = StubMind()
    mind = _mind(model, stub, max_retries=2)
    decision = mind.decide(DRAFT, CANDIDATES)

    assert decision.actor == "heuristic-fallback"
    assert (decision.keywords, decision.tags, decision.context) == (
        ["stub keyword"],
        ["stub"],
        "stub context",
    )
    assert [link.target_id for link in decision.links] == ["id-support"]
    assert stub.calls == 1
    assert model.script.calls == 3
    assert decision.usage.calls == 3
    assert decision.usage.retries == 2
    assert decision.usage.fallbacks == 1
    assert mind.usage == decision.usage


def test_timeout_is_retried_then_falls_back(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON, VALID_JSON], delay=0.5)
    decision = _mind(model, max_retries=1, timeout=0.05).decide(DRAFT, CANDIDATES)
    assert decision.actor == "heuristic-fallback"
    assert decision.usage.calls == 2
    assert decision.usage.retries == 1
    assert decision.usage.fallbacks == 1


async def test_async_timeout_is_retried_then_falls_back(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON, VALID_JSON], delay=0.5)
    decision = await _mind(model, max_retries=1, timeout=0.05).adecide(DRAFT, CANDIDATES)
    assert decision.actor == "heuristic-fallback"
    assert (decision.usage.calls, decision.usage.fallbacks) == (2, 1)


def test_zero_retries_means_one_attempt(make_model: ModelFactory) -> None:
    model = make_model(["nonsense"])
    decision = _mind(model, max_retries=0).decide(DRAFT, CANDIDATES)
    assert decision.actor == "heuristic-fallback"
    assert (decision.usage.calls, decision.usage.retries) == (1, 0)


# --- partial replies ---------------------------------------------------------------


def test_empty_fields_are_filled_from_the_fallback_without_another_call(
    make_model: ModelFactory,
) -> None:
    model = make_model([_reply(keywords=[], tags=None, context="")])
    stub = StubMind()
    decision = _mind(model, stub).decide(DRAFT, CANDIDATES)

    assert decision.actor == "llm"
    assert decision.keywords == ["stub keyword"]
    assert decision.tags == ["stub"]
    assert decision.context == "stub context"
    assert {link.target_id for link in decision.links} == {"id-painting", "id-support"}
    assert stub.calls == 1
    assert model.script.calls == 1
    assert decision.usage.fallbacks == 0


def test_no_candidates_still_one_call(make_model: ModelFactory) -> None:
    model = make_model([_reply(links=[{"to": "n1", "strength": 0.9}], updates=[])])
    decision = _mind(model).decide(DRAFT, [])
    assert decision.links == []
    assert "EXISTING NOTES:\nnone" in model.script.conversations[0][-1][1]
    assert decision.usage.calls == 1


# --- usage -------------------------------------------------------------------------


def test_usage_is_estimated_when_the_model_reports_none(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON], report_usage=False)
    decision = _mind(model).decide(DRAFT, CANDIDATES)
    prompt_chars = sum(len(text) for _, text in model.script.conversations[0])
    assert decision.usage.prompt_tokens == pytest.approx(prompt_chars / 4, rel=0.1)
    assert decision.usage.completion_tokens == pytest.approx(len(VALID_JSON) / 4, rel=0.1)


def test_running_total_adds_up_decisions(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON, "bad", VALID_JSON, "x", "y", "z"])
    mind = _mind(model)
    decisions = [mind.decide(DRAFT, CANDIDATES) for _ in range(3)]
    total = sum((d.usage for d in decisions), Usage())
    assert mind.usage == total
    assert total == Usage(
        calls=6,
        prompt_tokens=6 * REPORTED_PROMPT,
        completion_tokens=6 * REPORTED_COMPLETION,
        retries=3,
        fallbacks=1,
        keywords_accepted=2,
        tags_accepted=2,
        context_accepted=2,
    )


def test_running_total_is_thread_safe(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON] * 16, delay=0.01)
    mind = _mind(model, timeout=None)
    threads = [threading.Thread(target=mind.decide, args=(DRAFT, CANDIDATES)) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mind.usage.calls == 16
    assert mind.usage.prompt_tokens == 16 * REPORTED_PROMPT


# --- async -------------------------------------------------------------------------


async def test_adecide_matches_decide(make_model: ModelFactory) -> None:
    sync_decision = _mind(make_model([VALID_JSON])).decide(DRAFT, CANDIDATES)
    async_decision = await _mind(make_model([VALID_JSON])).adecide(DRAFT, CANDIDATES)
    assert async_decision == sync_decision


async def test_adecide_falls_back_through_the_async_fallback(make_model: ModelFactory) -> None:
    model = make_model([ValueError("boom")] * 3)
    stub = StubMind()
    decision = await _mind(model, stub).adecide(DRAFT, CANDIDATES)
    assert decision.actor == "heuristic-fallback"
    assert stub.calls == 1
    assert decision.usage.fallbacks == 1


async def test_adecide_runs_requests_concurrently(make_model: ModelFactory) -> None:
    model = make_model([VALID_JSON] * 5, delay=0.05)
    mind = _mind(model)
    decisions = await asyncio.gather(*(mind.adecide(DRAFT, CANDIDATES) for _ in range(5)))
    assert all(d.actor == "llm" for d in decisions)
    # real async calls, not a serialised sync fallback; at most the client's 4 slots
    assert model.script.peak == 4
    assert mind.usage.calls == 5


# --- query rewriting ---------------------------------------------------------------


def test_rewrite_query(make_model: ModelFactory) -> None:
    model = make_model(['{"query": "Melanie painting charity art show lake sunrise"}'])
    mind = _mind(model)
    assert mind.rewrite_query("what is Mel painting?") == (
        "Melanie painting charity art show lake sunrise"
    )
    assert mind.usage.calls == 1


@pytest.mark.parametrize("reply", [RuntimeError("down"), "no json here", '{"query": ""}'])
def test_rewrite_query_returns_the_original_on_failure(
    make_model: ModelFactory, reply: Any
) -> None:
    model = make_model([reply])
    mind = _mind(model)
    assert mind.rewrite_query("what is Mel painting?") == "what is Mel painting?"
    assert model.script.calls == 1  # no retries for a search-time rewrite


async def test_arewrite_query(make_model: ModelFactory) -> None:
    model = make_model(['```json\n{"query": "Caroline support group"}\n```'])
    assert await _mind(model).arewrite_query("Caroline group?") == "Caroline support group"


# --- construction ------------------------------------------------------------------


def test_constructor_rejects_bad_arguments() -> None:
    model = ScriptedChatModel(scripted([]))
    with pytest.raises(InvalidInput):
        LLMMind(llm=model, fallback=object())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        LLMMind(llm=model, fallback=StubMind(), max_retries=-1)
    with pytest.raises(InvalidInput):
        LLMMind(llm=model, fallback=StubMind(), timeout=0)
    with pytest.raises(InvalidInput):
        LLMMind(llm="gpt-4o", fallback=StubMind())


def test_with_the_real_heuristic_mind_as_fallback() -> None:
    heuristic = pytest.importorskip("memory.mind.heuristic")
    from memory.embed import HashingEmbedder

    fallback = heuristic.HeuristicMind(HashingEmbedder())
    model = ScriptedChatModel(scripted([RuntimeError("down")] * 2 + [_reply(keywords=[], tags=[])]))
    mind = LLMMind(llm=model, fallback=fallback, max_retries=1)

    fell_back = mind.decide(DRAFT, CANDIDATES)
    assert fell_back.actor == "heuristic-fallback"
    assert fell_back.keywords and fell_back.tags and fell_back.context
    assert fell_back.usage.fallbacks == 1

    filled = mind.decide(DRAFT, CANDIDATES)
    assert filled.actor == "llm"
    assert filled.keywords and filled.tags
    assert filled.context == VALID["context"]
