"""LLM distillation of trajectories: ``AgenticMemory(llm=model).learn(...)`` with scripted models.

The models (``tests/doubles/scripted_llm.py``) replay a ``Script`` of replies (a JSON text,
garbage, or a function of the prompt) and record every conversation they were sent, so the
tests can read what the model saw. The facade tests run twice, with a LangChain
``BaseChatModel`` and a LlamaIndex ``CustomLLM``; both report fixed token counts
(``PROMPT_TOKENS`` / ``COMPLETION_TOKENS`` a call), so ``mem.usage`` is exact.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.scripted_llm import (
    COMPLETION_TOKENS,
    FRAMEWORKS,
    PROMPT_TOKENS,
    Script,
    ScriptedChatModel,
)
from llama_index.core.llms import MockLLM
from pydantic import ValidationError

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder
from memory.errors import InvalidInput
from memory.mind.base import Usage
from memory.mind.llm.prompts import json_instructions
from memory.model import Step, Trajectory
from memory.procedures import AVOID_TAG, distill_trajectory
from memory.procedures.llm_distill import (
    LLMDistiller,
    concept_name,
    drafts_from_reply,
    related_attempts,
)
from memory.procedures.llm_prompts import (
    FAILURE_SYSTEM,
    SUCCESS_SYSTEM,
    FailureReply,
    SuccessReply,
    build_distill_request,
)

USER = "alfworld-agent"
OBSERVATION = (
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 1, "
    "a fridge 1, a sinkbasin 1 and a diningtable 1.\nYour task is to: put a clean apple in "
    "sidetable."
)


def trajectory(
    trajectory_id: str, task: str, steps: list[tuple[str, str]], *, success: bool = True
) -> Trajectory:
    return Trajectory(
        id=trajectory_id,
        task=task,
        steps=[Step(action=a, observation=o) for a, o in steps],
        success=success,
    )


CLEAN_OK = trajectory(
    "t-clean",
    "put a clean lettuce in diningtable.",
    [
        ("go to fridge 1", "The fridge 1 is closed."),
        (
            "open fridge 1",
            "You open the fridge 1. The fridge 1 is open. In it, you see a lettuce 1.",
        ),
        ("take lettuce 1 from fridge 1", "You pick up the lettuce 1 from the fridge 1."),
        ("go to sinkbasin 1", "On the sinkbasin 1, you see nothing."),
        ("clean lettuce 1 with sinkbasin 1", "You clean the lettuce 1 using the sinkbasin 1."),
        ("go to diningtable 1", "On the diningtable 1, you see a cup 1."),
        ("put lettuce 1 in/on diningtable 1", "You put the lettuce 1 in/on the diningtable 1."),
    ],
)
CLEAN_FAILED = trajectory(
    "t-clean-failed",
    "put a clean lettuce in diningtable.",
    [
        ("go to countertop 1", "On the countertop 1, you see a lettuce 2."),
        ("take lettuce 2 from countertop 1", "You pick up the lettuce 2 from the countertop 1."),
        ("go to diningtable 1", "On the diningtable 1, you see a cup 1."),
        ("put lettuce 2 in/on diningtable 1", "You put the lettuce 2 in/on the diningtable 1."),
    ],
    success=False,
)
HEAT_OK = trajectory(
    "t-heat",
    "heat some egg and put it in diningtable.",
    [
        ("go to countertop 1", "On the countertop 1, you see a egg 1, and a fork 1."),
        ("take egg 1 from countertop 1", "You pick up the egg 1 from the countertop 1."),
        ("go to microwave 1", "The microwave 1 is closed."),
        ("heat egg 1 with microwave 1", "You heat the egg 1 using the microwave 1."),
        ("go to diningtable 1", "On the diningtable 1, you see a cup 1."),
        ("put egg 1 in/on diningtable 1", "You put the egg 1 in/on the diningtable 1."),
    ],
)
PUT_OK = trajectory(
    "t-put",
    "put some spraybottle on toilet.",
    [
        ("go to cabinet 1", "The cabinet 1 is closed."),
        ("open cabinet 1", "You open the cabinet 1. In it, you see a spraybottle 2."),
        ("take spraybottle 2 from cabinet 1", "You pick up the spraybottle 2 from the cabinet 1."),
        ("go to toilet 1", "On the toilet 1, you see a soapbottle 2."),
        ("put spraybottle 2 in/on toilet 1", "You put the spraybottle 2 in/on the toilet 1."),
    ],
)

FIND = {
    "name": "find <arg1>",
    "cues": ["find", "look for"],
    "description": "check the likely places one by one, opening closed ones",
    "parameters": ["<arg1>"],
}
CLEAN = {
    "name": "clean <arg1>",
    "cues": "clean, wash",  # a string where a list is expected: accepted
    "description": "take <arg1> to the sinkbasin and clean it there",
    "parameters": ["<arg1>"],
}
SHARED_RUN = "go to <arg>; put <arg> in/on <arg>"
"""The run the offline rules find in both CLEAN_OK and HEAT_OK (a concept of two kinds)."""


def success_reply(**fields: Any) -> str:
    base: dict[str, Any] = {
        "when_to_use": "a task asks for something cleaned and then placed somewhere",
        "steps": [
            "find <arg1>, opening closed receptacles such as the fridge",
            "take <arg1>",
            "clean <arg1> with the sinkbasin",
            "put <arg1> in/on <arg2>",
        ],
        "insights": [],
        "concepts": [FIND, CLEAN],
    }
    return json.dumps({**base, **fields})


def failure_reply(**fields: Any) -> str:
    base: dict[str, Any] = {
        "failures": [
            {
                "went_wrong": "put <arg1> in/on <arg2> without cleaning it",
                "instead": "clean <arg1> with the sinkbasin before putting it",
            }
        ],
        "insights": ["the success went to the sinkbasin between taking and putting"],
        "concepts": [FIND],
    }
    return json.dumps({**base, **fields})


def new_script(*replies: str | Callable[[str], str]) -> Script:
    """``replies`` in order, then garbage: a call the test did not plan gets no lesson."""
    return Script(*replies, then="no idea, sorry")


ModelFactory = Callable[[Script], Any]


@pytest.fixture(params=list(FRAMEWORKS))
def make_model(request: pytest.FixtureRequest) -> ModelFactory:
    return FRAMEWORKS[request.param]


@pytest.fixture
def script() -> Script:
    return new_script()


@pytest.fixture
def mem(make_model: ModelFactory, script: Script) -> Iterator[AgenticMemory]:
    memory = AgenticMemory(llm=make_model(script), embedder=HashingEmbedder())
    yield memory
    memory.close()


def spent(*, calls: int, retries: int = 0, fallbacks: int = 0) -> Usage:
    return Usage(
        calls=calls,
        prompt_tokens=calls * PROMPT_TOKENS,
        completion_tokens=calls * COMPLETION_TOKENS,
        retries=retries,
        fallbacks=fallbacks,
    )


def distilled(note: Note) -> dict[str, Any]:
    return note.metadata["distilled"]


def concepts(mem: AgenticMemory, name: str) -> list[Note]:
    """The stored (non-avoid) concept notes named ``name``."""
    found = mem.recall(name, k=50, user_id=USER, kinds=["concept"])
    return [
        hit.note
        for hit in found
        if AVOID_TAG not in hit.note.tags and distilled(hit.note)["name"] == name
    ]


# --- the common case -------------------------------------------------------------------


def test_a_valid_reply_gives_a_procedure_and_concepts_with_provenance(
    mem: AgenticMemory, script: Script
) -> None:
    script.push(success_reply())
    notes = mem.learn(CLEAN_OK, user_id=USER)

    assert script.calls == 1
    [procedure] = [n for n in notes if n.kind == "procedure"]
    offline = distill_trajectory(CLEAN_OK)[0]
    assert procedure.when_to_use == offline.when_to_use  # the generalised recall key
    assert procedure.content.startswith(
        "When to use: a task asks for something cleaned and then placed somewhere\nSteps:\n"
        "1. find <arg1>, opening closed receptacles such as the fridge\n"
    )
    assert "3. clean <arg1> with the sinkbasin" in procedure.content
    assert procedure.sources == ["t-clean"]
    assert distilled(procedure)["by"] == "llm"
    assert distilled(procedure)["steps"] == offline.metadata["steps"]
    assert distilled(procedure)["uses_concepts"] == ["find <arg1>", "clean <arg1>"]

    by_name = {distilled(n)["name"]: n for n in notes if n.kind == "concept"}
    assert set(by_name) == {"find <arg1>", "clean <arg1>"}
    clean = by_name["clean <arg1>"]
    assert distilled(clean)["cues"] == ["clean", "wash"]
    assert distilled(clean)["description"] == "take <arg1> to the sinkbasin and clean it there"
    assert distilled(clean)["parameters"] == ["<arg1>"]
    assert clean.sources == ["t-clean"] and clean.when_to_use == "clean <arg1> (verbs: clean)"
    assert "How: take <arg1> to the sinkbasin and clean it there" in clean.content
    for concept in by_name.values():
        assert procedure.links.get(concept.id) == 1.0

    assert mem.usage == spent(calls=1)
    assert mem.recall(OBSERVATION, k=1, user_id=USER)[0].note.id == procedure.id
    assert {n.id for n in mem.learn(CLEAN_OK, user_id=USER)} == {n.id for n in notes}
    assert script.calls == 1  # learning the same id again asks nothing


def test_the_system_prompt_carries_the_schema_generated_from_the_reply_model(
    mem: AgenticMemory, script: Script
) -> None:
    script.push(success_reply())
    mem.learn(CLEAN_OK, user_id=USER)
    system, user = script.conversations[0][0][1], script.conversations[0][1][1]
    assert system.startswith(SUCCESS_SYSTEM)
    assert json_instructions(SuccessReply) in system
    assert "went_wrong" not in system  # a success is not asked for failure triggers
    assert "TASK: put a clean lettuce in diningtable.\nOUTCOME: success\n" in user
    assert "3. take lettuce 1 from fridge 1 -> You pick up the lettuce 1" in user
    assert "RELATED ATTEMPTS:\nnone\nKNOWN CONCEPTS: none" in user


# --- concepts: deduplicated and merged by name -----------------------------------------


def test_a_concept_named_like_a_stored_one_is_merged_not_duplicated(
    mem: AgenticMemory, script: Script
) -> None:
    script.push(success_reply())
    [first] = [n for n in mem.learn(CLEAN_OK, user_id=USER) if n.kind == "concept"][:1]
    renamed = {**FIND, "name": "  Find <ARG1>. ", "cues": ["search"]}
    script.push(success_reply(concepts=[renamed], steps=["find <arg1>", "heat it"]))
    notes = mem.learn(HEAT_OK, user_id=USER)

    assert "KNOWN CONCEPTS: find <arg1>, clean <arg1>" in script.prompt(1)
    [find] = concepts(mem, "find <arg1>")
    assert find.id == first.id
    assert find.sources == ["t-clean", "t-heat"]
    assert distilled(find)["cues"] == ["find", "look for", "search"]
    assert find.content == first.content  # the first description stays
    assert find.id in {n.id for n in notes}  # what t-heat taught includes the merged concept
    [merge] = [e for e in mem.history(find.id, user_id=USER) if e.action == "merge"]
    assert merge.after["sources"] == ["t-clean", "t-heat"]
    [heat] = [n for n in notes if n.kind == "procedure"]
    assert heat.links.get(find.id) == 1.0


def test_duplicate_concept_names_in_one_reply_become_one_note(
    mem: AgenticMemory, script: Script
) -> None:
    twin = {**FIND, "name": "FIND <arg1>", "cues": ["search"], "parameters": "<arg1>"}
    script.push(success_reply(concepts=[FIND, twin, CLEAN]))
    notes = mem.learn(CLEAN_OK, user_id=USER)

    found = [n for n in notes if n.kind == "concept" and distilled(n)["name"] == "find <arg1>"]
    assert len(found) == 1
    assert distilled(found[0])["cues"] == ["find", "look for", "search"]
    assert distilled(found[0])["parameters"] == ["<arg1>"]
    assert len([n for n in notes if n.kind == "concept"]) == 2


def test_the_offline_refresh_adds_sources_but_keeps_a_models_description(
    mem: AgenticMemory, script: Script
) -> None:
    script.push(success_reply(concepts=[{**FIND, "name": SHARED_RUN}]))
    mem.learn(CLEAN_OK, user_id=USER)
    [written] = concepts(mem, SHARED_RUN)
    # The model names no concept this time; the rules find the shared run in both
    # procedures and credit the stored concept with the new trajectory.
    script.push(success_reply(concepts=[], steps=["find <arg1>", "heat <arg1>"]))
    mem.learn(HEAT_OK, user_id=USER)
    [shared] = concepts(mem, SHARED_RUN)
    assert shared.id == written.id and shared.sources == ["t-clean", "t-heat"]
    assert shared.content == written.content


def test_a_model_concept_merges_into_the_offline_concept_of_the_same_name(
    tmp_path: Path,
) -> None:
    embedder = HashingEmbedder()
    offline = AgenticMemory(path=tmp_path, embedder=embedder)
    offline.learn(CLEAN_OK, user_id=USER)
    offline.learn(HEAT_OK, user_id=USER)
    [rules] = concepts(offline, SHARED_RUN)
    assert "by" not in distilled(rules)
    offline.close()

    named = {**FIND, "name": SHARED_RUN, "cues": ["look for", "locate"]}
    script = new_script(success_reply(concepts=[named]))
    with_model = AgenticMemory(path=tmp_path, llm=ScriptedChatModel(script), embedder=embedder)
    try:
        with_model.learn(PUT_OK, user_id=USER)
        [shared] = concepts(with_model, SHARED_RUN)
        assert shared.id == rules.id
        assert set(shared.sources) >= {"t-clean", "t-heat", "t-put"}
        assert distilled(shared)["cues"][-1] == "locate"
    finally:
        with_model.close()


# --- failures and comparisons ----------------------------------------------------------


def test_a_failure_is_compared_with_the_stored_success_of_the_same_task(
    mem: AgenticMemory, script: Script
) -> None:
    script.push(success_reply())
    [success] = [n for n in mem.learn(CLEAN_OK, user_id=USER) if n.kind == "procedure"]
    script.push(success_reply(steps=["find <arg1>", "heat <arg1> with the microwave"]))
    mem.learn(HEAT_OK, user_id=USER)  # another task: never shown as a related attempt
    script.push(failure_reply())
    notes = mem.learn(CLEAN_FAILED, user_id=USER)

    system, prompt = script.conversations[2][0][1], script.prompt(2)
    assert system.startswith(FAILURE_SYSTEM) and json_instructions(FailureReply) in system
    assert "OUTCOME: failure\n" in prompt
    related = prompt.split("RELATED ATTEMPTS:\n", 1)[1].split("\nKNOWN CONCEPTS:", 1)[0]
    assert related.startswith("[success] When to use: a task asks for something cleaned")
    assert "clean <arg1> with the sinkbasin" in related
    assert "heat" not in related

    [avoid] = [n for n in notes if AVOID_TAG in n.tags]
    assert avoid.kind == "concept" and avoid.sources == ["t-clean-failed"]
    # The same kind of task: the same generalised phrase (the keys name each one's steps).
    assert distilled(avoid)["phrase"] == distilled(success)["phrase"]
    assert avoid.when_to_use.startswith(distilled(success)["phrase"])
    assert (
        "What went wrong:\n- put <arg1> in/on <arg2> without cleaning it\n"
        "Instead:\n- clean <arg1> with the sinkbasin before putting it\n"
        "Insights:\n- the success went to the sinkbasin between taking and putting"
    ) in avoid.content
    assert distilled(avoid)["causes"][0]["kind"] == "model"
    recalled = mem.recall(OBSERVATION, k=5, user_id=USER, kinds=["concept"])
    assert avoid.id in [hit.note.id for hit in recalled]


def test_a_success_is_shown_the_stored_failures_first() -> None:
    known = distill_trajectory(CLEAN_OK)
    drafts = [*distill_trajectory(CLEAN_FAILED, known=known), *distill_trajectory(HEAT_OK)]
    notes = [d.to_note() for d in drafts]
    other_success = distill_trajectory(CLEAN_OK.model_copy(update={"id": "t-clean-2"}))[0]
    notes.append(other_success.to_note())
    shown = related_attempts(notes, CLEAN_OK)
    assert [n.sources for n in shown] == [["t-clean-failed"], ["t-clean-2"]]
    assert related_attempts(notes, CLEAN_OK, limit=1)[0].sources == ["t-clean-failed"]
    request = build_distill_request(CLEAN_OK, shown)
    assert "RELATED ATTEMPTS:\n[failure] Avoid when: put a clean <arg1> in <arg2>" in request.user
    assert "ARGUMENTS: <arg1> = lettuce, <arg2> = diningtable" in request.user


def test_a_failure_the_rules_cannot_explain_is_still_learned_from_the_model(
    mem: AgenticMemory, script: Script
) -> None:
    unexplained = CLEAN_OK.model_copy(update={"id": "t-timeout", "success": False})
    assert distill_trajectory(unexplained) == []  # the rules see no cause
    script.push(failure_reply(insights=None, concepts=None))
    [avoid] = mem.learn(unexplained, user_id=USER)
    assert AVOID_TAG in avoid.tags and avoid.sources == ["t-timeout"]
    assert avoid.when_to_use == distill_trajectory(CLEAN_OK)[0].when_to_use
    assert "Insights:" not in avoid.content


# --- malformed replies -----------------------------------------------------------------


def test_malformed_json_then_a_valid_reply_on_retry(mem: AgenticMemory, script: Script) -> None:
    script.push('{"when_to_use": "cleaning", "steps": [', success_reply())
    notes = mem.learn(CLEAN_OK, user_id=USER)

    assert script.calls == 2
    assert "That answer was not usable" in script.prompt(1)
    [procedure] = [n for n in notes if n.kind == "procedure"]
    assert distilled(procedure)["by"] == "llm"
    assert mem.usage == spent(calls=2, retries=1)


def test_a_reply_without_steps_is_retried(mem: AgenticMemory, script: Script) -> None:
    script.push(success_reply(steps=[" ", "-"]), success_reply())
    mem.learn(CLEAN_OK, user_id=USER)
    assert script.calls == 2 and "steps" in script.conversations[1][-1][1]


def test_garbage_every_time_falls_back_to_the_offline_rules(
    mem: AgenticMemory, script: Script
) -> None:
    script.push("I think you should clean it.", "{}", "[1, 2]")
    notes = mem.learn(CLEAN_OK, user_id=USER)

    assert script.calls == 3  # the first attempt and two retries
    [procedure] = notes
    offline = distill_trajectory(CLEAN_OK)[0]
    assert procedure.content == offline.content and procedure.sources == ["t-clean"]
    assert "by" not in distilled(procedure)
    assert mem.usage == spent(calls=3, retries=2, fallbacks=1)
    assert mem.recall(OBSERVATION, k=1, user_id=USER)[0].note.id == procedure.id


def test_llamaindex_mock_llm_falls_back_and_the_trajectory_is_learned() -> None:
    # MockLLM echoes its prompt: never JSON for the schema, so every attempt fails.
    memory = AgenticMemory(llm=MockLLM(), embedder=HashingEmbedder())
    try:
        memory.learn(CLEAN_OK, user_id=USER)
        notes = memory.learn(CLEAN_FAILED, user_id=USER)
        assert [n.sources for n in notes] == [["t-clean-failed"]]
        known = distill_trajectory(CLEAN_OK)
        assert notes[0].content == distill_trajectory(CLEAN_FAILED, known=known)[0].content
        assert memory.usage.calls == 6 and memory.usage.fallbacks == 2
    finally:
        memory.close()


# --- the lock, the pure parts, the modules ---------------------------------------------


def test_the_memory_stays_usable_while_the_model_answers(
    mem: AgenticMemory, script: Script
) -> None:
    seen: list[int] = []

    def answer_after_a_count(prompt: str) -> str:
        # The model runs in another thread; a read from a third one must not wait
        # for learn() to finish (it would if learn held the lock over the call).
        worker = threading.Thread(target=lambda: seen.append(mem.count(user_id=USER)))
        worker.daemon = True
        worker.start()
        worker.join(timeout=20)
        return success_reply()

    script.push(answer_after_a_count)
    mem.learn(CLEAN_OK, user_id=USER)
    assert seen == [0]
    assert mem.count(user_id=USER) == 3


def test_reply_models_accept_harmless_slips_and_reject_empty_lessons() -> None:
    reply = SuccessReply.model_validate(
        {"when_to_use": "x", "steps": "1. find <arg1>\n2) take <arg1>\n", "extra": 1}
    )
    assert reply.steps == ["find <arg1>", "take <arg1>"]
    assert reply.insights == [] and reply.concepts == []
    with pytest.raises(ValidationError):
        SuccessReply.model_validate({"when_to_use": "x", "steps": []})
    with pytest.raises(ValidationError):
        FailureReply.model_validate({"failures": []})


def test_drafts_from_a_reply_of_the_wrong_outcome_are_refused() -> None:
    reply = FailureReply.model_validate(json.loads(failure_reply()))
    with pytest.raises(InvalidInput):
        drafts_from_reply(CLEAN_OK, reply)


def test_the_distiller_on_its_own_with_a_shared_caller() -> None:
    script = new_script(success_reply())
    distiller = LLMDistiller(llm=ScriptedChatModel(script), max_retries=0)
    result = distiller.distill(CLEAN_OK.model_dump())
    assert result.by == "llm" and result.usage == spent(calls=1)
    assert [d.kind for d in result.drafts] == ["procedure", "concept", "concept"]
    again = LLMDistiller(llm=distiller.caller).distill(CLEAN_OK)  # queue empty: garbage
    assert again.by == "offline" and again.usage == spent(calls=1, fallbacks=1)
    assert distiller.caller.usage == spent(calls=2)


def test_replies_in_other_terms_than_the_key_fall_back_to_the_rules() -> None:
    household = SuccessReply.model_validate(json.loads(success_reply(steps=["take <object>"])))
    with pytest.raises(InvalidInput, match="placeholders"):
        drafts_from_reply(CLEAN_OK, household)
    literal = SuccessReply.model_validate(
        json.loads(success_reply(when_to_use="put a clean lettuce somewhere"))
    )
    with pytest.raises(InvalidInput, match="lettuce"):
        drafts_from_reply(CLEAN_OK, literal)
    distiller = LLMDistiller(
        llm=ScriptedChatModel(new_script(success_reply(steps=["take <receptacle>"]))), max_retries=0
    )
    result = distiller.distill(CLEAN_OK)
    assert result.by == "offline" and result.drafts == distill_trajectory(CLEAN_OK)


def test_prompts_name_no_domain() -> None:
    for word in ("object", "receptacle", "fridge", "microwave", "heat", "sinkbasin", "cabinet"):
        assert word not in SUCCESS_SYSTEM.lower() and word not in FAILURE_SYSTEM.lower()


def test_concept_names_are_normalised() -> None:
    assert concept_name("  Find   <Object>. ") == "find <object>"
    assert concept_name("...") == ""


@pytest.mark.parametrize(
    "module", ["memory.procedures.llm_distill", "memory.procedures.llm_prompts"]
)
def test_modules_export_what_they_declare(module: str) -> None:
    loaded = importlib.import_module(module)
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name}"
