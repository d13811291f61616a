"""Timeouts that cannot corrupt a client: a slow, non-reentrant model is never entered twice.

The model is a scripted LangChain / LlamaIndex double (``tests/doubles/scripted_llm.py``)
whose engine raises -- and remembers -- whenever a second call enters while one is under
way, as a ``llama_cpp.Llama`` would crash. Each of its calls outlasts the caller's
timeout, so the caller abandons it and would, without the gate, retry on a client that
is still busy. Sync and async, the notes are stored (by the heuristic fallback) and the
model never overlaps; once the abandoned call ends, the model is used again.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from doubles.scripted_llm import FRAMEWORKS, Planned, Script, Turn

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.errors import InvalidInput
from memory.llm.gate import (
    HOSTED_CONCURRENCY,
    HOSTED_TIMEOUT,
    CallPolicy,
    ClientBusy,
    ModelGate,
    gate_for,
    is_in_process_model,
)

USER = "slow-model"
NOTE = "Melanie: I signed up for a pottery class yesterday, it starts next week!"
REPLY = json.dumps(
    {
        "keywords": ["pottery class", "Melanie"],
        "tags": ["hobby"],
        "context": "Melanie signed up for a pottery class",
        "links": [],
        "updates": [],
    }
)
SLOW = 0.6  # each model call takes this long ...
TIMEOUT = 0.15  # ... and the caller waits this long


class NonReentrant(Script):
    """A script that fails any call entering while another is under way (and counts it)."""

    def __init__(self, *steps: Any, delay: float = SLOW) -> None:
        super().__init__(*steps, then=REPLY, delay=delay)
        self.overlaps = 0
        self.finished = 0
        self._done = threading.Condition()

    def plan(self, turns: list[Turn]) -> Planned:
        if self.in_flight > 1:  # _enter ran: this call is not alone
            self.overlaps += 1
            raise RuntimeError("re-entered while a generation is running")
        return super().plan(turns)

    def answer(self, turns: list[Turn]) -> Any:
        try:
            return super().answer(turns)
        finally:
            with self._done:
                self.finished += 1
                self._done.notify_all()

    def wait_finished(self, count: int) -> None:
        """Block until ``count`` calls have returned (abandoned ones finish in their thread)."""
        with self._done:
            assert self._done.wait_for(lambda: self.finished >= count, timeout=30)


@pytest.fixture(params=list(FRAMEWORKS))
def framework(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def slow_memory(model: Any, *, retries: int = 2) -> AgenticMemory:
    """A memory whose model is declared not safe for concurrent calls, with a short timeout."""
    return AgenticMemory(
        llm=model,
        embedder=HashingEmbedder(),
        llm_timeout=TIMEOUT,
        llm_retries=retries,
        llm_concurrency=1,
        sequence_links=False,
    )


def create_actor(mem: AgenticMemory, note_id: str) -> tuple[str, dict[str, int]]:
    [event] = [e for e in mem.history(note_id, user_id=USER) if e.action == "create"]
    return event.actor, event.usage


def test_a_timed_out_call_is_never_overlapped_by_retries_or_the_next_request(
    framework: str,
) -> None:
    engine = NonReentrant()
    model = FRAMEWORKS[framework](engine)
    with slow_memory(model) as mem:
        first = mem.add(NOTE, user_id=USER)
        second = mem.add(NOTE + " (again)", user_id=USER)  # the first call still runs

        assert mem.count(user_id=USER) == 2
        assert mem.get(first.id, user_id=USER).keywords  # stored, built by the fallback
        actor, usage = create_actor(mem, first.id)
        assert actor == "heuristic-fallback"
        assert usage == {"calls": 1, "fallbacks": 1}  # no retry on the busy client
        actor, usage = create_actor(mem, second.id)
        assert actor == "heuristic-fallback"
        assert usage == {"fallbacks": 1}  # nothing was sent at all

        engine.wait_finished(1)
        engine.delay = 0.0
        third = mem.add(NOTE + " (later)", user_id=USER)
        assert create_actor(mem, third.id)[0] == "llm"  # free again, the model decides

    assert engine.calls == 2
    assert engine.overlaps == 0 and engine.peak == 1


def test_without_a_timeout_a_slow_model_decides_every_note(framework: str) -> None:
    engine = NonReentrant(delay=0.05)
    model = FRAMEWORKS[framework](engine)
    with AgenticMemory(
        llm=model, embedder=HashingEmbedder(), llm_timeout=None, llm_concurrency=1
    ) as mem:
        notes = mem.add_many([{"content": f"{NOTE} ({i})", "user_id": USER} for i in range(4)])
        assert [create_actor(mem, n.id)[0] for n in notes] == ["llm"] * 4
    assert engine.overlaps == 0 and engine.peak == 1  # add_many's 4 workers queued


async def test_async_timeouts_never_overlap_a_non_reentrant_model(framework: str) -> None:
    engine = NonReentrant()
    model = FRAMEWORKS[framework](engine)
    with slow_memory(model) as mem:
        notes = await asyncio.gather(*(mem.aadd(f"{NOTE} ({i})", user_id=USER) for i in range(3)))
        assert mem.count(user_id=USER) == 3
        actors = [create_actor(mem, n.id)[0] for n in notes]
        assert actors == ["heuristic-fallback"] * 3
        await asyncio.to_thread(engine.wait_finished, 1)
        engine.delay = 0.0
        later = await mem.aadd(NOTE + " (later)", user_id=USER)
        assert create_actor(mem, later.id)[0] == "llm"
    assert engine.overlaps == 0 and engine.peak == 1
    assert engine.calls == 2  # one abandoned call, then the later note's


async def test_async_calls_to_a_concurrent_client_are_cancelled_for_real(framework: str) -> None:
    engine = Script(then=REPLY, delay=5.0)
    model = FRAMEWORKS[framework](engine)
    with AgenticMemory(
        llm=model, embedder=HashingEmbedder(), llm_timeout=TIMEOUT, llm_retries=1
    ) as mem:
        note = await mem.aadd(NOTE, user_id=USER)
        assert create_actor(mem, note.id) == (
            "heuristic-fallback",
            {"calls": 2, "retries": 1, "fallbacks": 1},
        )
        assert engine.in_flight == 0  # both attempts were cancelled, not left running
        assert mem.mind.caller.gate.busy == 0  # type: ignore[attr-defined]


def test_a_concurrent_client_may_retry_beside_an_abandoned_call(framework: str) -> None:
    engine = Script(then=REPLY, delay=SLOW)
    model = FRAMEWORKS[framework](engine)
    with AgenticMemory(
        llm=model,
        embedder=HashingEmbedder(),
        llm_timeout=TIMEOUT,
        llm_retries=1,
        llm_concurrency=2,
    ) as mem:
        gate = mem.mind.caller.gate  # type: ignore[attr-defined]
        note = mem.add(NOTE, user_id=USER)
        # two slots: the retry ran beside the abandoned call; both timed out
        assert create_actor(mem, note.id)[1] == {"calls": 2, "retries": 1, "fallbacks": 1}
        assert gate.peak == 2


# --- the gate on its own ------------------------------------------------------------


def test_gate_blocks_a_new_call_while_an_abandoned_one_runs() -> None:
    gate = ModelGate(1)
    release = threading.Event()
    with pytest.raises(TimeoutError):
        gate.run(release.wait, timeout=0.05)
    assert gate.busy == 1 and gate.abandoned == 1
    with pytest.raises(ClientBusy, match="abandoned"):
        gate.run(lambda: "never runs", timeout=0.05)
    assert not gate.wait_idle(timeout=0.01)
    release.set()
    assert gate.wait_idle(timeout=5)
    assert gate.run(lambda: "ran", timeout=5) == "ran"
    assert gate.busy == 0 and gate.abandoned == 0 and gate.peak == 1


def test_gate_passes_errors_and_results_through() -> None:
    gate = ModelGate(2)
    assert gate.run(lambda: 7, timeout=None) == 7
    with pytest.raises(KeyError):
        gate.run(lambda: {}["missing"], timeout=1.0)
    assert gate.busy == 0


async def test_async_gate_waits_for_a_slot_without_blocking_the_loop() -> None:
    gate = ModelGate(1)
    order: list[str] = []

    async def job(name: str, seconds: float) -> None:
        async def work() -> None:
            order.append(f"{name} start")
            await asyncio.sleep(seconds)
            order.append(f"{name} end")

        await gate.arun(work, timeout=None)

    await asyncio.gather(job("a", 0.05), job("b", 0.0))
    assert order == ["a start", "a end", "b start", "b end"]
    assert gate.peak == 1 and gate.busy == 0


async def test_async_gate_gives_up_when_no_slot_frees_in_time() -> None:
    gate = ModelGate(1)
    release = threading.Event()
    with pytest.raises(TimeoutError):
        await gate.arun_blocking(release.wait, timeout=0.05)
    with pytest.raises(ClientBusy):
        await gate.arun(lambda: asyncio.sleep(0), timeout=0.05)
    release.set()
    assert await gate.arun_blocking(lambda: "ok", timeout=5) == "ok"


def test_one_gate_per_client_object() -> None:
    client = FRAMEWORKS["langchain"](Script())
    assert gate_for(client, 1) is gate_for(client, 3)
    assert gate_for(FRAMEWORKS["langchain"](Script()), 1) is not gate_for(client, 1)


# --- policies -----------------------------------------------------------------------


def test_hosted_defaults() -> None:
    policy = CallPolicy.for_model(FRAMEWORKS["langchain"](Script()))
    assert policy == CallPolicy(
        timeout=HOSTED_TIMEOUT, max_retries=2, concurrency=HOSTED_CONCURRENCY
    )


def _named(module: str) -> Any:
    cls = type("LocalModel", (), {"__module__": module})
    return cls()


@pytest.mark.parametrize(
    "module",
    [
        "langchain_community.chat_models.llamacpp",
        "llama_index.llms.llama_cpp.base",
        "langchain_community.llms.gpt4all",
    ],
)
def test_in_process_models_get_no_timeout_and_one_slot(module: str) -> None:
    model = _named(module)
    assert is_in_process_model(model)
    policy = CallPolicy.for_model(model)
    assert policy.timeout is None and policy.concurrency == 1 and policy.max_retries == 1
    assert CallPolicy.for_model(model, timeout=900).timeout == 900.0


def test_a_model_can_declare_itself() -> None:
    model = _named("my_company.models")
    assert not is_in_process_model(model)
    model.concurrent_calls = 1
    assert is_in_process_model(model)


@pytest.mark.parametrize(
    "options",
    [
        {"llm_timeout": 0},
        {"llm_timeout": -1.0},
        {"llm_timeout": "soon"},
        {"llm_retries": -1},
        {"llm_concurrency": 0},
    ],
    ids=str,
)
def test_invalid_call_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        AgenticMemory(llm=FRAMEWORKS["langchain"](Script()), embedder=HashingEmbedder(), **options)


def test_the_options_reach_the_caller() -> None:
    model = FRAMEWORKS["llamaindex"](Script())
    with AgenticMemory(
        llm=model, embedder=HashingEmbedder(), llm_timeout=None, llm_retries=0, llm_concurrency=3
    ) as mem:
        caller = mem.mind.caller  # type: ignore[attr-defined]
        assert caller.policy == CallPolicy(timeout=None, max_retries=0, concurrency=3)
        assert caller.gate.slots == 3
