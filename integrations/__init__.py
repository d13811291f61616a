"""Drop-in Zettelmem memory for agent frameworks.

Importing this package imports no framework; each adapter module imports its
framework when it is itself imported, and says what to ``pip install`` if the
framework is missing.

    integrations.langchain        ZettelmemRetriever, ZettelmemChatMessageHistory,
                                  memory_tools (LangChain ``StructuredTool``s); the
                                  history lives in integrations.langchain_history
    integrations.langgraph_store  ZettelmemStore (a LangGraph ``BaseStore``)
    integrations.langchain_middleware  ZettelmemMiddleware (LangChain agent middleware:
                                  recall before the model, learning after the run)
    integrations.llamaindex       ZettelmemMemoryBlock, ZettelmemRetriever,
                                  memory_tools (LlamaIndex ``FunctionTool``s)
    integrations.llamaindex_agent ZettelmemAgentHooks (agent runs that recall, remember
                                  and learn from their tool calls)

Framework-free building blocks shared by the adapters:

    integrations.toolset          ScopedMemoryTools and the tools' argument schemas
    integrations.chat_notes       chat messages <-> notes ("role: text" + role/session/time)
    integrations.documents        a note's metadata as the adapters expose it
    integrations.aio              async calls that fall back to a worker thread
    integrations.agent_learning   AgentLearning: a run's recall, notes, trajectory, feedback
    integrations.agent_runs       an agent run as data (AgentRun, ToolCall) -> Trajectory
    integrations.agent_recall     the recalled section, within a token budget
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["langchain", "langgraph_store", "llamaindex"]


def __getattr__(name: str) -> ModuleType:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
