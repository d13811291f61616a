"""The LLM mind: any LangChain chat model or LlamaIndex LLM builds, links and evolves notes.

    LLMMind               the Mind: one structured call per note, heuristic fallback
    FaithfulnessCheck     keywords / tags / context must be about the new note

Modules: ``mind`` (LLMMind), ``faithful`` (field checks), ``prompts`` (every
prompt), ``schema`` (reply models).
The plumbing (StructuredCaller, ChatBackend and its adapters, MalformedReply) lives in
``memory.llm``, shared with the distiller; it is re-exported here for older imports.
Names resolve lazily because ``memory.llm.caller`` itself uses this package's prompt
helpers: an eager import here would make the two packages import each other.
Neither LangChain nor LlamaIndex is imported until a model of theirs is used.

Example:
    ```python
    from memory.mind.heuristic import HeuristicMind
    from memory.mind.llm import LLMMind

    mind = LLMMind(llm=chat_model, fallback=HeuristicMind())
    decision = mind.decide(draft, candidates)
    ```
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memory.llm import (
        ChatBackend,
        ChatReply,
        ChatTurn,
        LangChainBackend,
        LlamaIndexBackend,
        MalformedReply,
        StructuredCaller,
        as_chat_backend,
    )
    from memory.llm.gate import CallPolicy, ModelGate
    from memory.mind.llm.faithful import FaithfulnessCheck
    from memory.mind.llm.mind import LLMMind

__all__ = [
    "CallPolicy",
    "ChatBackend",
    "ChatReply",
    "ChatTurn",
    "FaithfulnessCheck",
    "LLMMind",
    "LangChainBackend",
    "LlamaIndexBackend",
    "MalformedReply",
    "ModelGate",
    "StructuredCaller",
    "as_chat_backend",
]

_HOMES = {name: "memory.llm" for name in __all__}
_HOMES.update(
    LLMMind="memory.mind.llm.mind",
    FaithfulnessCheck="memory.mind.llm.faithful",
    CallPolicy="memory.llm.gate",
    ModelGate="memory.llm.gate",
)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
