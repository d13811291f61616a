"""A real local model through llama.cpp: LangChain's ``ChatLlamaCpp``, LlamaIndex's ``LlamaCPP``.

Optional and slow (a call takes minutes on a small CPU). Skipped unless
``ZETTELMEM_TEST_GGUF=/path/model.gguf`` names a GGUF file and ``llama_cpp``
(llama-cpp-python) is importable -- ``$ZETTELMEM_LLAMA_CPP_DIR`` is put first on
``sys.path`` for a ``llama_cpp`` unpacked outside the environment; each framework's
wrapper (langchain-community, llama-index-llms-llama-cpp) is needed for its case only.
None of them is a Zettelmem dependency.

What is checked is the plumbing with a real model, not the model's judgement: notes are
stored whoever decided them, the in-process model gets the in-process call policy, and
a timeout shorter than a generation -- which used to start a second generation inside
the same ``llama_cpp.Llama`` and kill the process with a segmentation fault -- leaves
the process alive, every note stored, and the model used once at a time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.llm.gate import CallPolicy
from memory.mind.llm.faithful import FIELDS

GGUF = os.environ.get("ZETTELMEM_TEST_GGUF", "")
if os.environ.get("ZETTELMEM_LLAMA_CPP_DIR"):
    sys.path.insert(0, os.environ["ZETTELMEM_LLAMA_CPP_DIR"])

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not GGUF, reason="set ZETTELMEM_TEST_GGUF=/path/model.gguf"),
]
if GGUF:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not importable")

USER = "real-model"
TURNS = [
    "Caroline: I went to a LGBTQ support group yesterday and it was so powerful.",
    "Melanie: I signed up for a pottery class, my first bowl comes out of the kiln Friday!",
]
MAX_TOKENS = 256


def _chatml(messages: Any) -> str:
    parts = [f"<|im_start|>{m.role.value}\n{m.content}<|im_end|>" for m in messages]
    return "\n".join(parts) + "\n<|im_start|>assistant\n"


def _model(framework: str) -> Any:
    if framework == "langchain":
        community = pytest.importorskip("langchain_community.chat_models")
        return community.ChatLlamaCpp(
            model_path=GGUF,
            n_ctx=2048,
            max_tokens=MAX_TOKENS,
            temperature=0.0,
            seed=0,
            verbose=False,
        )
    wrapper = pytest.importorskip("llama_index.llms.llama_cpp")
    return wrapper.LlamaCPP(
        model_path=GGUF,
        temperature=0.0,
        max_new_tokens=MAX_TOKENS,
        context_window=2048,
        model_kwargs={"seed": 0},
        generate_kwargs={"stop": ["<|im_end|>"]},
        messages_to_prompt=_chatml,
        verbose=False,
    )


@pytest.fixture(scope="module", params=["langchain", "llamaindex"])
def local_model(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The GGUF behind one framework's llama.cpp wrapper, loaded once per framework."""
    if not Path(GGUF).is_file():
        pytest.fail(f"ZETTELMEM_TEST_GGUF={GGUF} is not a file")
    yield _model(request.param)


def _create(mem: AgenticMemory, note_id: str) -> Any:
    [event] = [e for e in mem.history(note_id, user_id=USER) if e.action == "create"]
    return event


def test_notes_are_built_through_the_real_model(local_model: Any) -> None:
    with AgenticMemory(llm=local_model, embedder=HashingEmbedder()) as mem:
        policy = mem.mind.caller.policy  # type: ignore[attr-defined]
        assert policy == CallPolicy(timeout=None, max_retries=1, concurrency=1)
        notes = [mem.add(turn, user_id=USER) for turn in TURNS]

        assert mem.count(user_id=USER) == 2
        decided = 0
        for note, turn in zip(notes, TURNS, strict=True):
            stored = mem.get(note.id, user_id=USER)
            assert stored.content == turn
            assert stored.keywords and stored.tags and stored.context
            event = _create(mem, note.id)
            assert event.actor in {"llm", "heuristic-fallback"}
            assert event.usage.get("calls", 0) >= 1
            decided += event.actor == "llm"
        usage = mem.usage
        assert usage.calls >= 2 and usage.prompt_tokens > 0
        for name in FIELDS:  # every note the model decided was judged field by field
            judged = getattr(usage, f"{name}_accepted") + getattr(usage, f"{name}_replaced")
            assert judged == decided
        assert mem.mind.caller.gate.peak == 1  # type: ignore[attr-defined]


def test_a_timeout_shorter_than_a_generation_never_crashes_the_model(local_model: Any) -> None:
    with AgenticMemory(
        llm=local_model, embedder=HashingEmbedder(), llm_timeout=1.0, llm_retries=2
    ) as mem:
        gate = mem.mind.caller.gate  # type: ignore[attr-defined]
        first = mem.add(TURNS[0], user_id=USER)  # times out; the generation goes on
        second = mem.add(TURNS[1], user_id=USER)  # the model is busy: nothing is sent

        assert mem.count(user_id=USER) == 2
        spent = _create(mem, first.id).usage
        assert spent["fallbacks"] == 1 and spent["calls"] >= 1  # no retry after the timeout
        assert _create(mem, second.id).usage == {"fallbacks": 1}
        assert mem.get(second.id, user_id=USER).keywords
        # the abandoned generation ends on its own; only then may the model be freed
        assert gate.wait_idle(timeout=1800)
        assert gate.peak == 1
