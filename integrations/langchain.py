"""Zettelmem for LangChain: a retriever, a chat message history and agent tools.

    BaseRetriever (langchain_core)
    └── ZettelmemRetriever            notes as ``Document``s, scoped, sync + async
    BaseChatMessageHistory (langchain_core)
    └── ZettelmemChatMessageHistory   a window of recent messages; the conversation as notes
                                      (defined in :mod:`integrations.langchain_history`)
    memory_tools(memory, user_id=...)  save_memory, search_memory, record_trajectory,
                                       recall_procedures as ``StructuredTool``s

For LangGraph's long-term store see :mod:`integrations.langgraph_store`.

Example:
    >>> from memory import AgenticMemory
    >>> from integrations.langchain import ZettelmemRetriever, memory_tools
    >>> mem = AgenticMemory()
    >>> retriever = ZettelmemRetriever(memory=mem, k=4, user_id="alice")
    >>> docs = retriever.invoke("What is Alice allergic to?")
    >>> tools = memory_tools(mem, user_id="alice")   # bind them to your chat model
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, TypeVar

from pydantic import ConfigDict, Field

from integrations.optional import missing_framework

try:
    from langchain_core.callbacks import (
        AsyncCallbackManagerForRetrieverRun,
        CallbackManagerForRetrieverRun,
    )
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import StructuredTool, ToolException
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework("integrations.langchain", "langchain-core", exc) from exc

from integrations.aio import call_async
from integrations.documents import result_metadata
from integrations.langchain_history import ZettelmemChatMessageHistory, coherent_tool_calls
from integrations.toolset import (
    TOOL_DESCRIPTIONS,
    ScopedMemoryTools,
)
from memory.facade import AgenticMemory
from memory.model import SearchResult

__all__ = [
    "ZettelmemChatMessageHistory",
    "ZettelmemRetriever",
    "coherent_tool_calls",
    "memory_tools",
    "to_document",
]

_CALL_OPTIONS = frozenset({"k", "kinds", "filters"})


# ---- retriever ---------------------------------------------------------------------------


def to_document(result: SearchResult) -> Document:
    """A search hit as a ``Document``: the note's content and :func:`result_metadata`."""
    return Document(
        page_content=result.note.content, metadata=result_metadata(result), id=result.note.id
    )


class ZettelmemRetriever(BaseRetriever):
    """Retrieves the notes of one scope as ``Document``s, best first.

    ``page_content`` is the note's content; ``metadata`` is the caller's metadata
    with the note's ``id``, ``kind``, ``keywords``, ``tags``, ``context``, ``links``
    (ids, strongest first), ``timestamp`` (ISO 8601), scope ids, ``score`` and
    ``found_by`` on top (see :func:`integrations.documents.note_metadata`).

    The scope is fixed per retriever (build one per user; it is cheap). ``k``,
    ``kinds`` and ``filters`` can also be given per call:
    ``retriever.invoke(query, k=2)``. A blank query returns no documents.

    Example:
        >>> retriever = ZettelmemRetriever(memory=mem, k=3, user_id="alice")
        >>> chain = retriever | format_docs | prompt | model
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: AgenticMemory = Field(description="The memory to search.")
    k: int = Field(default=4, ge=1, description="How many documents to return.")
    user_id: str | None = Field(default=None, description="Only notes of this user.")
    agent_id: str | None = Field(default=None, description="Only notes of this agent.")
    run_id: str | None = Field(default=None, description="Only notes of this run / session.")
    kinds: list[str] | None = Field(
        default=None, description='Only these kinds ("episodic", "concept", "procedure").'
    )
    filters: dict[str, Any] | None = Field(
        default=None, description='Conditions on the notes\' metadata, e.g. {"topic": "food"}.'
    )
    expand_links: bool = Field(
        default=False, description="Also return notes linked to the strongest hits."
    )

    def _search_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options.pop("verbose", None)  # LangChain passes its own flag through
        unknown = set(options) - _CALL_OPTIONS
        if unknown:
            raise TypeError(
                f"unexpected retriever option(s) {sorted(unknown)}; "
                f"per call you can set {sorted(_CALL_OPTIONS)}"
            )
        return {
            "k": options.get("k", self.k),
            "kinds": options.get("kinds", self.kinds),
            "filters": options.get("filters", self.filters),
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "expand_links": self.expand_links,
        }

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        search = self._search_options(options)
        if not query.strip():
            return []
        return [to_document(hit) for hit in self.memory.search(query, **search)]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **options: Any
    ) -> list[Document]:
        search = self._search_options(options)
        if not query.strip():
            return []
        hits = await call_async(self.memory, "search", query, **search)
        return [to_document(hit) for hit in hits]


# ---- tools -------------------------------------------------------------------------------

_T = TypeVar("_T")


def _as_tool_errors(method: Callable[..., _T]) -> Callable[..., _T]:
    """Bad arguments become ``ToolException``s, which the tool returns to the model."""

    @wraps(method)
    def call(*args: Any, **kwargs: Any) -> _T:
        try:
            return method(*args, **kwargs)
        except (ValueError, NotImplementedError) as exc:
            raise ToolException(str(exc)) from exc

    return call


def _as_async_tool_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(method)
    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await method(*args, **kwargs)
        except (ValueError, NotImplementedError) as exc:
            raise ToolException(str(exc)) from exc

    return call


def _validation_message(error: Exception) -> str:
    return f"Invalid tool arguments: {error}"


def memory_tools(
    memory: AgenticMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    kinds: Sequence[str] | None = None,
) -> list[StructuredTool]:
    """The memory tools of one scope, for an agent's model to call.

    ``save_memory(content)``, ``search_memory(query, k)``,
    ``record_trajectory(task, steps=[{thought?, action, observation}], success)`` and
    ``recall_procedures(task, k)``. Each returns text for the model and, as the
    ``ToolMessage.artifact``, the notes / hits behind it. The scope is fixed here:
    the model cannot reach another user's memories. Invalid arguments come back to
    the model as an error message instead of raising.

    Args:
        memory: the ``AgenticMemory``.
        user_id: the scope of every call (likewise ``agent_id`` and ``run_id``).
        kinds: the note kinds ``search_memory`` returns (default all).

    Returns:
        Four ``StructuredTool``s, sync and async.

    Example:
        >>> tools = memory_tools(mem, user_id="alice")
        >>> model = ChatOpenAI(model="gpt-4o-mini").bind_tools(tools)
        >>> tools[1].invoke({"query": "allergies", "k": 3})
    """
    bound = ScopedMemoryTools(
        memory, user_id=user_id, agent_id=agent_id, run_id=run_id, kinds=kinds
    )
    specs = bound.specs()
    return [
        StructuredTool.from_function(
            func=_as_tool_errors(func),
            coroutine=_as_async_tool_errors(coroutine),
            name=name,
            description=TOOL_DESCRIPTIONS[name],
            args_schema=schema,
            response_format="content_and_artifact",
            handle_tool_error=True,
            handle_validation_error=_validation_message,
        )
        for name, schema, func, coroutine in specs
    ]
