"""Zettelmem for LangChain: a retriever, a chat message history and agent tools.

    BaseRetriever (langchain_core)
    └── ZettelmemRetriever            notes as ``Document``s, scoped, sync + async
    BaseChatMessageHistory (langchain_core)
    └── ZettelmemChatMessageHistory   a window of recent messages; every message a note
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

import asyncio
import json
import logging
import threading
from collections import deque
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
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.documents import Document
    from langchain_core.messages import (
        AIMessage,
        BaseMessage,
        ChatMessage,
        HumanMessage,
        SystemMessage,
        message_to_dict,
        messages_from_dict,
    )
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.tools import StructuredTool, ToolException
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework("integrations.langchain", "langchain-core", exc) from exc

from integrations.aio import call_async
from integrations.chat_notes import ROLE_KEY, SESSION_KEY, TURN_KEY, chat_item, split_chat_content
from integrations.documents import result_metadata
from integrations.toolset import (
    TOOL_DESCRIPTIONS,
    RecallProceduresArgs,
    RecordTrajectoryArgs,
    SaveMemoryArgs,
    ScopedMemoryTools,
    SearchMemoryArgs,
)
from memory.facade import AgenticMemory
from memory.model import Note, Scope, SearchResult

__all__ = ["ZettelmemChatMessageHistory", "ZettelmemRetriever", "memory_tools", "to_document"]

logger = logging.getLogger(__name__)

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_CALL_OPTIONS = frozenset({"k", "kinds", "filters"})
_MESSAGE_KEY = "message"


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
        default=True, description="Also return notes linked to the strongest hits."
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


# ---- chat message history ----------------------------------------------------------------


def _message_text(message: BaseMessage) -> str:
    text = message.text
    calls = getattr(message, "tool_calls", None) or []
    rendered = [f"[calls {c['name']}({json.dumps(c.get('args', {}))})]" for c in calls]
    return " ".join(part for part in [text, *rendered] if part)


def _message_role(message: BaseMessage) -> str:
    if isinstance(message, ChatMessage):
        return message.role
    return _ROLES.get(message.type, message.type)


def _json_or_none(value: dict[str, Any]) -> dict[str, Any] | None:
    try:
        encoded = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return None
    return value if json.loads(encoded) == value else None


def _message_of(note: Note) -> BaseMessage:
    stored = note.metadata.get(_MESSAGE_KEY)
    if isinstance(stored, dict):
        try:
            return messages_from_dict([stored])[0]
        except (KeyError, TypeError, ValueError):
            logger.warning("note %s holds an unreadable message; rebuilt from its text", note.id)
    role, text = split_chat_content(note.content, note.metadata.get(ROLE_KEY))
    if role == "user":
        return HumanMessage(content=text)
    if role == "assistant":
        return AIMessage(content=text)
    if role == "system":
        return SystemMessage(content=text)
    return ChatMessage(role=role or "unknown", content=text)


class ZettelmemChatMessageHistory(BaseChatMessageHistory):
    """A chat history that remembers everything: recent messages in a window, all as notes.

    ``messages`` is the last ``window`` messages (what goes back into the prompt);
    every added message is also written to the memory as a note ``"role: text"``
    with metadata ``role``, ``session``, ``time`` and ``turn`` in scope
    ``run_id=session_id`` (plus ``user_id`` / ``agent_id``), so what falls out of
    the window is still found by ``memory.search`` or a :class:`ZettelmemRetriever`
    with ``user_id`` set. Messages without text (e.g. empty AI messages) are kept
    in the window only. The full message is kept in the note's metadata, so a new
    history for the same session reloads it exactly (tool calls included).

    Note:
        LangChain 1.x marks ``BaseChatMessageHistory`` and ``RunnableWithMessageHistory``
        as deprecated in favour of LangGraph persistence; for LangGraph agents use
        :class:`integrations.langgraph_store.ZettelmemStore` as the long-term store.

    Args:
        memory: the ``AgenticMemory`` to write to.
        session_id: the conversation (becomes the notes' ``run_id``).
        user_id: the user the conversation belongs to (recommended: it lets the
            user's other sessions find these messages).
        agent_id: the agent the conversation belongs to.
        window: how many recent messages ``messages`` returns (``None``: all of
            this object's lifetime plus what was reloaded).
        load: reload the session's last ``window`` messages from the memory.
        clear_memory: what :meth:`clear` does: ``False`` (default) empties the
            window only and the notes stay remembered; ``True`` also deletes the
            session's message notes.

    Example:
        >>> history = ZettelmemChatMessageHistory(mem, "session-1", user_id="alice")
        >>> chain = RunnableWithMessageHistory(
        ...     runnable, lambda sid: ZettelmemChatMessageHistory(mem, sid, user_id="alice"))
    """

    def __init__(
        self,
        memory: AgenticMemory,
        session_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        window: int | None = 20,
        load: bool = True,
        clear_memory: bool = False,
    ) -> None:
        if window is not None and window < 1:
            raise ValueError("window must be at least 1 (or None for no limit)")
        self.memory = memory
        self.session_id = session_id
        self.scope = Scope(user_id=user_id, agent_id=agent_id, run_id=session_id)
        self.window = window
        self.clear_memory = clear_memory
        self._lock = threading.Lock()
        self._recent: deque[BaseMessage] = deque(maxlen=window)
        self._next_turn = 0
        if load:
            self._reload()

    def _session_notes(self) -> list[Note]:
        notes = self.memory.notes(
            user_id=self.scope.user_id,
            agent_id=self.scope.agent_id,
            run_id=self.session_id,
            filters={SESSION_KEY: self.session_id},
        )
        return [n for n in notes if ROLE_KEY in n.metadata]

    def _reload(self) -> None:
        notes = sorted(
            self._session_notes(),
            key=lambda n: (n.metadata.get(TURN_KEY, -1), n.created_at),
        )
        self._recent.extend(_message_of(note) for note in notes)
        turns = [n.metadata[TURN_KEY] for n in notes if isinstance(n.metadata.get(TURN_KEY), int)]
        self._next_turn = max(turns, default=-1) + 1

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The most recent ``window`` messages, oldest first."""
        with self._lock:
            return list(self._recent)

    async def aget_messages(self) -> list[BaseMessage]:
        """Async :attr:`messages` (no I/O: the window is in memory)."""
        return self.messages

    def _items(self, messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
        items = []
        with self._lock:
            for message in messages:
                extra: dict[str, Any] = {TURN_KEY: self._next_turn}
                self._next_turn += 1
                serialised = _json_or_none(message_to_dict(message))
                if serialised is not None:
                    extra[_MESSAGE_KEY] = serialised
                item = chat_item(
                    _message_role(message),
                    _message_text(message),
                    scope=self.scope,
                    session=self.session_id,
                    extra=extra,
                )
                if item is not None:
                    items.append(item)
        return items

    def _remember(self, messages: Sequence[BaseMessage]) -> None:
        with self._lock:
            self._recent.extend(messages)

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Write the messages as notes (one batch), then add them to the window.

        Raises:
            InvalidInput: a message the memory cannot store (nothing is written).
        """
        items = self._items(messages)
        if items:
            self.memory.add_many(items)
        self._remember(messages)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Async :meth:`add_messages` (the write runs off the event loop)."""
        items = self._items(messages)
        if items:
            await call_async(self.memory, "add_many", items)
        self._remember(messages)

    def clear(self) -> None:
        """Empty the window; with ``clear_memory=True`` also delete the session's message notes."""
        with self._lock:
            self._recent.clear()
        if not self.clear_memory:
            return
        for note in self._session_notes():
            self.memory.delete(
                note.id,
                user_id=self.scope.user_id,
                agent_id=self.scope.agent_id,
                run_id=self.session_id,
                reason=f"chat history of session {self.session_id} cleared",
            )
        with self._lock:
            self._next_turn = 0

    async def aclear(self) -> None:
        """Async :meth:`clear`."""
        await asyncio.to_thread(self.clear)


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
    specs = [
        ("save_memory", SaveMemoryArgs, bound.save_memory, bound.asave_memory),
        ("search_memory", SearchMemoryArgs, bound.search_memory, bound.asearch_memory),
        (
            "record_trajectory",
            RecordTrajectoryArgs,
            bound.record_trajectory,
            bound.arecord_trajectory,
        ),
        (
            "recall_procedures",
            RecallProceduresArgs,
            bound.recall_procedures,
            bound.arecall_procedures,
        ),
    ]
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
