"""LLM plumbing shared by the note mind and the distiller.

    StructuredCaller      "ask for this pydantic object": retries, timeouts, usage
    CallPolicy            timeout / retries / concurrency of one client (hosted or in-process)
    ModelGate             a client's slots: no call starts while an abandoned one still runs
    ChatBackend           the small chat protocol both frameworks are adapted to
     ├── LangChainBackend
     └── LlamaIndexBackend
    as_chat_backend()     wrap a user's model
    MalformedReply        an unusable reply (an ``LLMError``)

Modules: ``caller`` (retries, timeouts, usage), ``gate`` (call policy, per-client
slots), ``adapters`` (frameworks), ``parsing``
(text -> JSON -> pydantic), ``tokens`` (token counts). What to *ask* lives with the
asker: ``memory.mind.llm`` (notes) and ``memory.procedures.llm_distill`` (trajectories).
Neither LangChain nor LlamaIndex is imported until a model of theirs is used.
"""

from memory.llm.adapters import (
    ChatBackend,
    ChatReply,
    ChatTurn,
    LangChainBackend,
    LlamaIndexBackend,
    as_chat_backend,
)
from memory.llm.caller import StructuredCaller
from memory.llm.gate import CallPolicy, ModelGate
from memory.llm.parsing import MalformedReply

__all__ = [
    "CallPolicy",
    "ChatBackend",
    "ChatReply",
    "ChatTurn",
    "LangChainBackend",
    "LlamaIndexBackend",
    "MalformedReply",
    "ModelGate",
    "StructuredCaller",
    "as_chat_backend",
]
