"""The LLM mind proposes supersessions in its one reply; invalid ones are dropped and counted.

Runs with both scripted frameworks (``tests/doubles/scripted_llm.py``): unit tests on
``LLMMind.decide`` / ``adecide`` with a fallback whose rule is scripted too, then the
facade, where the older note ends up marked and its history says who decided.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from doubles.scripted_llm import FRAMEWORKS, Script

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.mind.base import Candidate, MindDecision, NoteDraft, Supersession
from memory.mind.llm import LLMMind
from memory.mind.llm.superseding import MODEL_REASON
from memory.model import Note, Scope

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
USER = "u"

ModelFactory = Callable[..., Any]


@pytest.fixture(params=list(FRAMEWORKS))
def make_model(request: pytest.FixtureRequest) -> ModelFactory:
    """``make_model(*replies)``: a scripted model of either framework, exactly ``replies``."""
    model_class = FRAMEWORKS[request.param]
    return lambda *replies: model_class(Script(*replies))


class RuleMind:
    """A fallback whose supersession rule always names ``rule_target`` (and counts calls)."""

    name = "rule"

    def __init__(self, rule_target: str | None) -> None:
        self.rule_target = rule_target
        self.rule_calls = 0

    def decide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return MindDecision(keywords=["rule"], tags=["rule"], context="rule context")

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        return self.decide(draft, candidates)

    def supersessions(
        self, draft: NoteDraft, keywords: list[str], candidates: list[Candidate]
    ) -> list[Supersession]:
        self.rule_calls += 1
        if self.rule_target is None:
            return []
        return [Supersession(target_id=self.rule_target, reason="the rule")]


class NoRuleMind(RuleMind):
    """A fallback with no supersession rule at all (only ``decide``)."""

    supersessions = None  # type: ignore[assignment]


def _candidate(note_id: str, content: str, **fields: Any) -> Candidate:
    fields = {"timestamp": T0, "user_id": USER, **fields}
    note = Note(id=note_id, content=content, keywords=["stand-up"], **fields)
    return Candidate(note=note, similarity=0.8)


DRAFT = NoteDraft(
    content="The team stand-up moved to 10:15 every morning",
    timestamp=T0 + timedelta(days=1),
    scope=Scope(user_id=USER),
)
CANDIDATES = [
    _candidate("id-old", "The team stand-up is at 9:30 every morning"),  # n1
    _candidate("id-gone", "The stand-up was at 9:00", superseded_by="id-old"),  # n2
    _candidate("id-later", "Stand-up notes", timestamp=T0 + timedelta(days=9)),  # n3
    _candidate("id-other", "The team stand-up is at 9:30", user_id="someone-else"),  # n4
]


def _reply(supersedes: Any) -> str:
    return json.dumps(
        {
            "keywords": ["team stand-up", "10:15"],
            "tags": ["meetings"],
            "context": "the stand-up's new time",
            "links": [],
            "updates": [],
            "supersedes": supersedes,
        }
    )


def test_a_valid_proposal_is_kept_in_the_same_call(make_model: ModelFactory) -> None:
    model = make_model(_reply(["N1"]))
    fallback = RuleMind("id-later")
    decision = LLMMind(llm=model, fallback=fallback).decide(DRAFT, CANDIDATES)

    assert decision.supersedes == [Supersession(target_id="id-old", reason=MODEL_REASON)]
    assert model.script.calls == 1 and fallback.rule_calls == 0
    assert decision.usage.supersedes_accepted == 1 and decision.usage.supersedes_replaced == 0
    assert "supersedes" in model.script.conversations[0][0][1]  # the schema asks for it


def test_invalid_proposals_are_dropped_counted_and_the_rule_decides(
    make_model: ModelFactory,
) -> None:
    # unknown alias, already superseded, newer than the note, another scope
    model = make_model(_reply(["n9", "n2", "n3", "n4"]))
    fallback = RuleMind("id-old")
    decision = LLMMind(llm=model, fallback=fallback).decide(DRAFT, CANDIDATES)

    assert decision.supersedes == [Supersession(target_id="id-old", reason="the rule")]
    assert decision.usage.supersedes_replaced == 4 and decision.usage.supersedes_accepted == 0
    assert fallback.rule_calls == 1


def test_invalid_and_valid_together_keep_the_valid_one(make_model: ModelFactory) -> None:
    model = make_model(_reply("n9, n1, n1"))  # a comma-separated string, a repeat
    fallback = RuleMind("id-later")
    decision = LLMMind(llm=model, fallback=fallback).decide(DRAFT, CANDIDATES)

    assert [s.target_id for s in decision.supersedes] == ["id-old"]
    assert decision.usage.supersedes_replaced == 1 and decision.usage.supersedes_accepted == 1
    assert fallback.rule_calls == 0


@pytest.mark.parametrize("said", [[], None, "absent"])
def test_saying_nothing_falls_back_to_the_rule(make_model: ModelFactory, said: Any) -> None:
    text = _reply(said)
    if said == "absent":
        text = json.dumps({k: v for k, v in json.loads(text).items() if k != "supersedes"})
    decision = LLMMind(llm=make_model(text), fallback=RuleMind("id-old")).decide(DRAFT, CANDIDATES)

    assert [s.target_id for s in decision.supersedes] == ["id-old"]
    assert decision.usage.supersedes_accepted == decision.usage.supersedes_replaced == 0


def test_a_fallback_without_a_rule_supersedes_nothing(make_model: ModelFactory) -> None:
    mind = LLMMind(llm=make_model(_reply([])), fallback=NoRuleMind("id-old"))
    assert mind.decide(DRAFT, CANDIDATES).supersedes == []


async def test_adecide_checks_proposals_the_same_way(make_model: ModelFactory) -> None:
    model = make_model(_reply(["n1"]), _reply(["n2"]))
    mind = LLMMind(llm=model, fallback=RuleMind(None))
    kept = await mind.adecide(DRAFT, CANDIDATES)
    dropped = await mind.adecide(DRAFT, CANDIDATES)

    assert [s.target_id for s in kept.supersedes] == ["id-old"]
    assert dropped.supersedes == [] and dropped.usage.supersedes_replaced == 1
    assert mind.usage.supersedes_accepted == 1 and mind.usage.supersedes_replaced == 1


# --- through the facade --------------------------------------------------------------------


OLD = "The quarterly report is due on the 14th"
NEW = "Heads up: the deadline for the quarterly report is the 21st"  # no change cue


def _naming(fragment: str) -> Callable[[str], str]:
    """A reply step naming the alias under which the prompt shows ``fragment``."""

    def step(prompt: str) -> str:
        for line in prompt.splitlines():
            alias, _, content = line.partition(": ")
            if fragment in content and alias.startswith("n"):
                return _reply([alias])
        raise AssertionError(f"{fragment!r} was not shown")

    return step


@pytest.fixture
def memory_of(make_model: ModelFactory) -> Iterator[Callable[..., AgenticMemory]]:
    made: list[AgenticMemory] = []

    def build(*replies: Any) -> AgenticMemory:
        mem = AgenticMemory(llm=make_model(*replies), embedder=HashingEmbedder())
        made.append(mem)
        return mem

    yield build
    for mem in made:
        mem.close()


def test_the_models_supersession_is_written_with_its_history(
    memory_of: Callable[..., AgenticMemory],
) -> None:
    mem = memory_of(_reply([]), _naming(OLD))
    old = mem.add(OLD, user_id=USER, timestamp=T0)
    new = mem.add(NEW, user_id=USER, timestamp=T0 + timedelta(days=1))

    assert mem.get(old.id).superseded_by == new.id
    [event] = [e for e in mem.history(old.id) if e.action == "supersede"]
    assert event.actor == "llm" and event.reason == MODEL_REASON
    assert event.after == {"superseded_by": new.id}
    assert mem.usage.supersedes_accepted == 1
    hits = [h.note.id for h in mem.search("When is the quarterly report due?", user_id=USER)]
    assert hits.index(new.id) < hits.index(old.id)


def test_an_invalid_proposal_is_counted_and_the_offline_rule_still_applies(
    memory_of: Callable[..., AgenticMemory],
) -> None:
    mem = memory_of(_reply([]), _reply(["n7"]), _reply(["n7"]))
    old = mem.add("The team stand-up is at 9:30 every morning", user_id=USER, timestamp=T0)
    lunch = mem.add("Lunch with the design team", user_id=USER, timestamp=T0)
    new = mem.add(
        "The team stand-up moved to 10:15 every morning",
        user_id=USER,
        timestamp=T0 + timedelta(days=1),
    )

    assert mem.get(old.id).superseded_by == new.id  # the change cue "moved"
    assert mem.get(lunch.id).superseded_by is None
    [event] = [e for e in mem.history(old.id) if e.action == "supersede"]
    assert "moved" in event.reason
    assert mem.usage.supersedes_replaced == 2 and mem.usage.supersedes_accepted == 0
