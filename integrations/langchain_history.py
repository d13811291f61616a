"""The LangChain chat message history of :mod:`integrations.langchain`.

BaseChatMessageHistory (langchain_core)
└── ZettelmemChatMessageHistory   a window of recent messages; the conversation as notes
coherent_tool_calls(messages)     no half tool exchanges in what goes to a model
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import deque
from collections.abc import Collection, Sequence
from typing import Any

from integrations.optional import missing_framework

try:
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.messages import (
        AIMessage,
        BaseMessage,
        ChatMessage,
        HumanMessage,
        SystemMessage,
        ToolMessage,
        message_to_dict,
        messages_from_dict,
    )
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework("integrations.langchain", "langchain-core", exc) from exc

from integrations.aio import call_async
from integrations.chat_notes import ROLE_KEY, SESSION_KEY, TURN_KEY, chat_item, split_chat_content
from memory.facade import AgenticMemory
from memory.model import Note, Scope

__all__ = ["ZettelmemChatMessageHistory", "coherent_tool_calls"]

logger = logging.getLogger(__name__)

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}
_MESSAGE_KEY = "message"


def _message_role(message: BaseMessage) -> str:
    if isinstance(message, ChatMessage):
        return message.role
    return _ROLES.get(message.type, message.type)


def coherent_tool_calls(messages: Sequence[BaseMessage]) -> list[BaseMessage]:
    """``messages`` with no half of a tool exchange: what chat model APIs accept.

    A window (or a reload) can cut an AI message's tool calls from their results:
    results without their call are dropped, and calls without all their results
    are removed from the AI message (which is dropped if nothing else is left).
    """
    answered = {m.tool_call_id for m in messages if isinstance(m, ToolMessage)}
    kept: list[BaseMessage] = []
    called: set[str] = set()
    for message in messages:
        if isinstance(message, ToolMessage):
            if message.tool_call_id in called:
                kept.append(message)
        elif isinstance(message, AIMessage) and message.tool_calls:
            ids = {call.get("id") for call in message.tool_calls}
            if ids <= answered:
                called |= {i for i in ids if i is not None}
                kept.append(message)
            elif message.text.strip():
                kept.append(AIMessage(content=message.content, id=message.id))
        else:
            kept.append(message)
    return kept


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
    """A chat history that remembers the conversation: recent messages in a window, as notes.

    ``messages`` is the last ``window`` messages (what goes back into the prompt).
    Every added message with text whose role is in ``remember_roles`` is also
    written to the memory as a note ``"role: text"`` with metadata ``role``,
    ``session``, ``time`` and ``turn``, in scope ``run_id=session_id`` (plus
    ``user_id`` / ``agent_id``), so what falls out of the window is still found by
    ``memory.search`` or a :class:`ZettelmemRetriever` with ``user_id`` set.

    By default only what the user and the assistant say is written: tool results
    (often memories the agent just searched, which would come back as duplicates)
    and system prompts stay in the window only, as do AI messages that only call
    tools. ``remember_roles=None`` writes every message with text.

    The full message is kept in the note's metadata, so a new history for the same
    session reloads the written messages exactly. ``messages`` never returns half of
    a tool exchange (see :func:`coherent_tool_calls`), so the window can be sent to
    any chat model API as is.

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
            session's message notes (other notes of the session stay).
        remember_roles: the roles whose messages become notes ("user",
            "assistant", "system", "tool", or a ``ChatMessage`` role); ``None``: all.

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
        remember_roles: Collection[str] | None = ("user", "assistant"),
    ) -> None:
        if window is not None and window < 1:
            raise ValueError("window must be at least 1 (or None for no limit)")
        self.memory = memory
        self.session_id = session_id
        self.scope = Scope(user_id=user_id, agent_id=agent_id, run_id=session_id)
        self.window = window
        self.clear_memory = clear_memory
        self.remember_roles = frozenset(remember_roles) if remember_roles is not None else None
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
        """The most recent ``window`` messages, oldest first, tool exchanges kept whole."""
        with self._lock:
            return coherent_tool_calls(list(self._recent))

    async def aget_messages(self) -> list[BaseMessage]:
        """Async :attr:`messages` (no I/O: the window is in memory)."""
        return self.messages

    def _items(self, messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
        items = []
        with self._lock:
            for message in messages:
                # Every message takes a turn, written or not: turns are positions.
                extra: dict[str, Any] = {TURN_KEY: self._next_turn}
                self._next_turn += 1
                role = _message_role(message)
                if self.remember_roles is not None and role not in self.remember_roles:
                    continue
                serialised = _json_or_none(message_to_dict(message))
                if serialised is not None:
                    extra[_MESSAGE_KEY] = serialised
                item = chat_item(
                    role,
                    message.text,
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
