"""Drop-in Zettelmem memory for agent frameworks.

Importing this package imports no framework; each adapter module imports its
framework when it is itself imported, and says what to ``pip install`` if the
framework is missing.

    integrations.langchain        ZettelmemRetriever, ZettelmemChatMessageHistory,
                                  memory_tools (LangChain ``StructuredTool``s); the
                                  history lives in integrations.langchain_history
    integrations.langgraph_store  ZettelmemStore (a LangGraph ``BaseStore``)
    integrations.llamaindex       ZettelmemMemoryBlock, ZettelmemRetriever,
                                  memory_tools (LlamaIndex ``FunctionTool``s)

Framework-free building blocks shared by the adapters:

    integrations.toolset          ScopedMemoryTools and the tools' argument schemas
    integrations.chat_notes       chat messages <-> notes ("role: text" + role/session/time)
    integrations.documents        a note's metadata as the adapters expose it
    integrations.aio              async calls that fall back to a worker thread
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["langchain", "langgraph_store", "llamaindex"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
