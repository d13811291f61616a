"""LLM faults: exceptions, timeouts and garbage from the model never cost a note.

A scripted LangChain fake chat model (``FakeListChatModel`` whose replies may also
be "raise" or "stall") drives the LLM mind through ``add``, ``add_many`` (concurrent
decisions) and ``aadd``. Whatever the model does, every call returns its notes, each
is stored with its content, scope and metadata, has a ``create`` event naming who
decided (the model, or ``heuristic-fallback``), and the store stays consistent.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from reliability_support import COUNTERS, checked_invariants

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder
from memory.mind.heuristic import HeuristicMind
from memory.mind.llm import LLMMind

RAISE = "<raise>"
STALL = "<stall>"
TIMEOUT = 0.2

GOOD = json.dumps(
    {
        "keywords": ["pottery", "clay bowls"],
        "tags": ["hobby"],
        "context": "Melanie talks about her pottery class",
        "links": [{"to": "n1", "strength": 0.8, "reason": "same class"}],
        "updates": [{"note": "n1", "add_tags": ["craft"]}],
    }
)


class FaultyChatModel(FakeListChatModel):
    """``FakeListChatModel`` whose script may also raise or stall past the timeout."""

    def _call(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> str:
        reply = super()._call(messages, stop, run_manager, **kw)
        if reply == RAISE:
            raise ConnectionError("scripted provider outage")
        if reply == STALL:
            time.sleep(TIMEOUT * 4)
            return GOOD
        return reply


FAULTS: dict[str, list[str]] = {
    "exception": [RAISE],
    "timeout": [STALL],
    "empty": [""],
    "prose": ["Sure! Here are some keywords: pottery, clay."],
    "truncated-json": ['{"keywords": ["pottery", "cl'],
    "json-array": ["[1, 2, 3]"],
    "json-null": ["null"],
    "wrong-types": ['{"keywords": 5, "tags": {"a": 1}, "links": "n1"}'],
    "strength-not-number": ['{"links": [{"to": "n1", "strength": "very strong"}]}'],
    "strength-nan": ['{"keywords": ["k"], "links": [{"to": "n1", "strength": NaN}]}'],
    "strength-huge": ['{"keywords": ["k"], "links": [{"to": "n1", "strength": 1e309}]}'],
    "unknown-aliases": ['{"links": [{"to": "n77", "strength": 1}], "updates": [{"note": "zz"}]}'],
    "empties-context": ['{"keywords": ["k"], "updates": [{"note": "n1", "context": "  "}]}'],
    "lone-surrogate": ['{"keywords": ["ok\\ud800"], "tags": ["t"], "context": "c\\udfff"}'],
    "nul-bytes": ['{"keywords": ["k\\u0000"], "tags": ["t"], "context": "c\\u0000"}'],
    "fenced": ["```json\n" + GOOD + "\n```"],
    "huge": ['{"context": "' + "c" * 200_000 + '", "keywords": ["' + "k" * 50_000 + '"]}'],
    "one-megabyte-prose": ["x" * 1_000_000],
    "flaky": [RAISE, GOOD, STALL, "{", GOOD],
}


@pytest.fixture(params=sorted(FAULTS), ids=sorted(FAULTS))
def faulty(request: pytest.FixtureRequest) -> Iterator[tuple[str, AgenticMemory]]:
    embedder = HashingEmbedder()
    model = FaultyChatModel(responses=FAULTS[request.param])
    mind = LLMMind(
        llm=model,
        fallback=HeuristicMind(embedder, link_threshold=0.3),
        max_retries=1,
        timeout=TIMEOUT,
    )
    with AgenticMemory(embedder=embedder, mind=mind, max_concurrency=4) as mem:
        yield request.param, mem


def check_stored(mem: AgenticMemory, notes: list[Note], requests: list[dict[str, Any]]) -> int:
    """How many of ``notes`` are missing or differ from their request (0 expected)."""
    lost = 0
    for note, request in zip(notes, requests, strict=True):
        stored = mem.get(note.id)
        if (stored.content, stored.metadata, stored.user_id) != (
            request["content"],
            request.get("metadata", {}),
            request.get("user_id"),
        ):
            lost += 1
        history = mem.history(note.id)
        if history[0].action != "create" or history[0].actor not in ("llm", "heuristic-fallback"):
            lost += 1
    return lost


def test_every_note_is_stored_whatever_the_model_does(faulty: tuple[str, AgenticMemory]) -> None:
    fault, mem = faulty
    requests: list[dict[str, Any]] = [
        {"content": f"Melanie: the pottery class made clay bowls, take {i}", "user_id": "u1"}
        | {"metadata": {"turn": i}}
        for i in range(3)
    ]
    notes = [mem.add(**r) for r in requests]
    batch = [
        {"content": f"Caroline: hiking with the dog, part {i}", "user_id": "u1"}
        | {"metadata": {"i": i}}
        for i in range(4)
    ]
    notes += mem.add_many(batch, batch_size=4)
    requests += batch
    late: dict[str, Any] = {"content": "Melanie: the kiln fired the clay bowls", "user_id": "u1"}
    notes.append(asyncio.run(mem.aadd(**late)))
    requests.append(late)
    lost = check_stored(mem, notes, requests)
    COUNTERS.add("llm_faults", runs=len(notes), data_lost=lost)
    assert lost == 0
    assert mem.count() == len(requests)
    assert checked_invariants(mem, "llm_faults") == []
    actors = {mem.history(n.id)[0].actor for n in notes}
    if fault in ("exception", "timeout", "empty", "prose", "json-null", "one-megabyte-prose"):
        assert actors == {"heuristic-fallback"}, "a failed model must hand over to the heuristic"
    if fault == "fenced":
        assert actors == {"llm"}, "a fenced JSON reply is usable"
