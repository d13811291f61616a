"""The LLM mind: any LangChain chat model or LlamaIndex LLM builds, links and evolves notes.

    LLMMind               the Mind: one structured call per note, heuristic fallback
    StructuredCaller      reusable "ask for this pydantic object" with retries and usage
    CallPolicy            timeout / retries / concurrency of one client (hosted or in-process)
    ModelGate             a client's slots: no call starts while an abandoned one still runs
    FaithfulnessCheck     keywords / tags / context must be about the new note
    ChatBackend           the small chat protocol both frameworks are adapted to
     ├── LangChainBackend
     └── LlamaIndexBackend
    as_chat_backend()     wrap a user's model
    MalformedReply        an unusable reply (an ``LLMError``; handled inside, never raised
                          out of ``LLMMind``)

Modules: ``mind`` (LLMMind), ``caller`` (retries, timeouts, usage), ``gate`` (call
policy, per-client slots), ``faithful`` (field checks), ``adapters`` (frameworks),
``prompts`` (every prompt), ``schema`` (reply models), ``parsing`` (text -> JSON ->
pydantic), ``tokens`` (token counts). Neither LangChain nor
LlamaIndex is imported until a model of theirs is used.

Example:
    ```python
    from memory.mind.heuristic import HeuristicMind
    from memory.mind.llm import LLMMind

    mind = LLMMind(llm=chat_model, fallback=HeuristicMind())
    decision = mind.decide(draft, candidates)
    ```
"""

from memory.mind.llm.adapters import (
    ChatBackend,
    ChatReply,
    ChatTurn,
    LangChainBackend,
    LlamaIndexBackend,
    as_chat_backend,
)
from memory.mind.llm.caller import StructuredCaller
from memory.mind.llm.faithful import FaithfulnessCheck
from memory.mind.llm.gate import CallPolicy, ModelGate
from memory.mind.llm.mind import LLMMind
from memory.mind.llm.parsing import MalformedReply

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
