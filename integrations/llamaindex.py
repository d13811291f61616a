"""Zettelmem for LlamaIndex: a memory block, a retriever and agent tools.

    BaseMemoryBlock[str] (llama_index.core.memory)
    └── ZettelmemMemoryBlock   flushed messages become notes; the latest messages
                               recall the top notes (and procedures) as text
    BaseRetriever (llama_index.core)
    └── ZettelmemRetriever     notes as ``NodeWithScore(TextNode)``, sync + async
    memory_tools(memory, user_id=...)  the LangChain tools' twins as ``FunctionTool``s

Example:
    >>> from llama_index.core.memory import Memory
    >>> block = ZettelmemMemoryBlock(memory=mem, user_id="alice")
    >>> chat_memory = Memory.from_defaults(
    ...     session_id="s1", token_limit=4000, memory_blocks=[block])
    >>> agent = FunctionAgent(llm=llm, tools=memory_tools(mem, user_id="alice"))
    >>> await agent.run("What am I allergic to?", memory=chat_memory)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from integrations.optional import missing_framework

try:
    from llama_index.core.base.base_retriever import BaseRetriever
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.callbacks import CallbackManager
    from llama_index.core.memory import BaseMemoryBlock
    from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
    from llama_index.core.tools import FunctionTool
    from llama_index.core.utils import get_tokenizer
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework("integrations.llamaindex", "llama-index-core", exc) from exc

from integrations.aio import call_async
from integrations.chat_notes import chat_item
from integrations.documents import result_metadata
from integrations.rendering import Section, note_entry, parse_sections, render_sections
from integrations.toolset import (
    TOOL_DESCRIPTIONS,
    ScopedMemoryTools,
)
from memory.facade import AgenticMemory
from memory.model import Scope, SearchResult

__all__ = ["ZettelmemMemoryBlock", "ZettelmemRetriever", "memory_tools", "to_node"]

logger = logging.getLogger(__name__)

# What the model reads of a node's metadata; ids, links and scores are for programs.
_HIDDEN_FROM_LLM = ["id", "links", "score", "found_by", "user_id", "agent_id", "run_id"]


def to_node(result: SearchResult) -> NodeWithScore:
    """A search hit as a ``NodeWithScore``: a ``TextNode`` with :func:`result_metadata`."""
    metadata = result_metadata(result)
    node = TextNode(
        id_=result.note.id,
        text=result.note.content,
        metadata=metadata,
        excluded_llm_metadata_keys=[key for key in metadata if key in _HIDDEN_FROM_LLM],
        excluded_embed_metadata_keys=list(metadata),
    )
    return NodeWithScore(node=node, score=float(result.score))


def _message_text(message: ChatMessage) -> str:
    return (message.content or "").strip()


# ---- memory block ------------------------------------------------------------------------


class ZettelmemMemoryBlock(BaseMemoryBlock[str]):
    """Long-term memory for ``llama_index.core.memory.Memory``, backed by Zettelmem.

    When ``Memory`` flushes messages out of its short-term queue, each user and
    assistant message becomes a note ``"role: text"`` (metadata ``role``,
    ``session``, ``time``; see ``remember_roles``). When the
    memory is read, the latest ``query_messages`` user messages are the query and the
    ``top_k`` best notes are rendered as text (with ``include_procedures=True``,
    also the procedures recalled for them). Over the token limit, ``Memory`` calls
    :meth:`atruncate`, which drops the lowest-ranked notes first (memories before
    procedures). The default ``priority`` is 1, so the block can be truncated;
    priority 0 would make ``Memory`` never truncate it.

    Notes are written to and read from the ``user_id`` / ``agent_id`` scope, so a
    user's sessions share one long-term memory; ``session_scoped=True`` also sets
    ``run_id`` to the ``Memory``'s session id, keeping each session apart.

    Example:
        >>> block = ZettelmemMemoryBlock(memory=mem, user_id="alice", top_k=5)
        >>> chat_memory = Memory.from_defaults(
        ...     session_id="s1", token_limit=2000, memory_blocks=[block])
    """

    name: str = Field(default="zettelmem", description="The name of the memory block.")
    priority: int = Field(
        default=1, description="Truncation priority (0 = never truncate, 1 = highest)."
    )
    memory: AgenticMemory = Field(exclude=True, description="The memory notes are kept in.")
    user_id: str | None = Field(default=None, description="Scope: the user.")
    agent_id: str | None = Field(default=None, description="Scope: the agent.")
    session_scoped: bool = Field(
        default=False, description="Also scope notes by the Memory's session id (run_id)."
    )
    top_k: int = Field(default=5, ge=1, description="How many notes to render.")
    query_messages: int = Field(
        default=2, ge=1, description="How many of the latest messages form the search query."
    )
    query_roles: list[str] = Field(
        default_factory=lambda: ["user"],
        description="The roles whose messages form the query (tool results and replies "
        "restate more than they ask).",
    )
    remember_roles: list[str] | None = Field(
        default_factory=lambda: ["user", "assistant"],
        description="The roles whose flushed messages become notes (None: every role; "
        "tool results and system prompts are left out by default).",
    )
    kinds: list[str] | None = Field(
        default=None, description="Only notes of these kinds in the memories section."
    )
    include_procedures: bool = Field(
        default=False, description="Also render procedures recalled for the latest messages."
    )
    procedure_k: int = Field(default=2, ge=1, description="How many procedures to render.")
    memories_title: str = Field(
        default="Relevant memories (most relevant first):",
        description="The title line of the memories section.",
    )
    procedures_title: str = Field(
        default="Procedures that worked for similar tasks:",
        description="The title line of the procedures section.",
    )
    tokenizer_fn: Callable[[str], list] = Field(
        default_factory=get_tokenizer,
        exclude=True,
        description="Counts tokens for atruncate (LlamaIndex's default tokenizer).",
    )

    def _scope(self, session_id: str | None) -> Scope:
        run_id = session_id if self.session_scoped else None
        return Scope(user_id=self.user_id, agent_id=self.agent_id, run_id=run_id)

    async def _aget(
        self,
        messages: list[ChatMessage] | None = None,
        session_id: str | None = None,
        **block_kwargs: Any,
    ) -> str:
        """The notes (and procedures) relevant to the latest messages, as text ("" if none)."""
        texts = [_message_text(m) for m in messages or [] if m.role.value in self.query_roles]
        query = "\n".join([t for t in texts if t][-self.query_messages :])
        if not query:
            return ""
        scope = self._scope(session_id).model_dump()
        hits = await call_async(
            self.memory, "search", query, k=self.top_k, kinds=self.kinds, **scope
        )
        sections: list[Section] = []
        procedures: list[SearchResult] = []
        if self.include_procedures:
            procedures = await call_async(self.memory, "recall", query, k=self.procedure_k, **scope)
        recalled = {hit.note.id for hit in procedures}
        sections.append(
            (self.memories_title, [note_entry(h.note) for h in hits if h.note.id not in recalled])
        )
        sections.append((self.procedures_title, [note_entry(h.note) for h in procedures]))
        return render_sections(sections)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        """Write each message with text of a ``remember_roles`` role as a note (one batch)."""
        items = []
        for message in messages:
            if self.remember_roles is not None and message.role.value not in self.remember_roles:
                continue
            session = message.additional_kwargs.get("session_id")
            item = chat_item(
                message.role.value,
                _message_text(message),
                scope=self._scope(session),
                session=session,
                extra={"source": "llamaindex"},
            )
            if item is not None:
                items.append(item)
        if items:
            await call_async(self.memory, "add_many", items)

    async def atruncate(self, content: str, tokens_to_truncate: int) -> str | None:
        """Drop whole notes, lowest-ranked first, until ``tokens_to_truncate`` are saved.

        Memories go before procedures. Returns ``None`` when nothing is left.
        """
        if not isinstance(content, str) or not content.strip():
            return None
        sections = parse_sections(content)
        original = len(self.tokenizer_fn(content))
        for index in range(len(sections)):
            entries = sections[index][1]
            while entries:
                entries.pop()
                text = render_sections(sections)
                if not text or original - len(self.tokenizer_fn(text)) >= tokens_to_truncate:
                    return text or None
        return None


# ---- retriever ---------------------------------------------------------------------------


class ZettelmemRetriever(BaseRetriever):
    """Retrieves the notes of one scope as ``NodeWithScore(TextNode)``, best first.

    Node ids are note ids; node metadata is
    :func:`integrations.documents.result_metadata` (ids, links and scores hidden
    from the LLM's view of the node). A blank query returns no nodes.

    Args:
        memory: the ``AgenticMemory`` to search.
        k: how many nodes to return.
        user_id: only notes of this user (likewise ``agent_id``, ``run_id``).
        kinds: only these kinds ("episodic", "concept", "procedure").
        filters: conditions on the notes' metadata, e.g. ``{"topic": "food"}``.
        expand_links: also return notes linked to the strongest hits.
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> retriever = ZettelmemRetriever(mem, k=3, user_id="alice")
        >>> engine = RetrieverQueryEngine.from_args(retriever, llm=llm)
    """

    def __init__(
        self,
        memory: AgenticMemory,
        *,
        k: int = 4,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        expand_links: bool = False,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        super().__init__(callback_manager=callback_manager)
        self.memory = memory
        self.k = k
        self.user_id = user_id
        self.agent_id = agent_id
        self.run_id = run_id
        self.kinds = list(kinds) if kinds is not None else None
        self.filters = filters
        self.expand_links = expand_links

    def _options(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "user_id": self.user_id,
            "agent_id": self.agent_id,
            "run_id": self.run_id,
            "kinds": self.kinds,
            "filters": self.filters,
            "expand_links": self.expand_links,
        }

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if not query_bundle.query_str.strip():
            return []
        hits = self.memory.search(query_bundle.query_str, **self._options())
        return [to_node(hit) for hit in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        if not query_bundle.query_str.strip():
            return []
        hits = await call_async(self.memory, "search", query_bundle.query_str, **self._options())
        return [to_node(hit) for hit in hits]


# ---- tools -------------------------------------------------------------------------------


def _validated(schema: type[BaseModel], method: Callable[..., Any]) -> Callable[..., Any]:
    """Check the model's arguments against ``schema`` (FunctionTool does not) first."""

    def call(**kwargs: Any) -> Any:
        return method(**dict(schema.model_validate(kwargs)))

    return call


def _avalidated(schema: type[BaseModel], method: Callable[..., Any]) -> Callable[..., Any]:
    async def call(**kwargs: Any) -> Any:
        return await method(**dict(schema.model_validate(kwargs)))

    return call


def _text_of(output: tuple[str, Any]) -> str:
    return output[0]


async def _atext_of(output: tuple[str, Any]) -> str:
    return output[0]


def memory_tools(
    memory: AgenticMemory,
    *,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
    kinds: Sequence[str] | None = None,
) -> list[FunctionTool]:
    """The memory tools of one scope as LlamaIndex ``FunctionTool``s.

    The same four tools as :func:`integrations.langchain.memory_tools`:
    ``save_memory``, ``search_memory``, ``record_trajectory``, ``recall_procedures``.
    ``ToolOutput.content`` is the text for the model; ``ToolOutput.raw_output`` is
    ``(text, notes or hits)``. Arguments are validated against the schemas; a
    ``pydantic.ValidationError`` (a ``ValueError``) is raised for bad ones, which
    LlamaIndex agents hand back to the model as the tool's error.

    Args:
        memory: the ``AgenticMemory``.
        user_id: the scope of every call (likewise ``agent_id`` and ``run_id``).
        kinds: the note kinds ``search_memory`` returns (default all).

    Returns:
        Four ``FunctionTool``s with sync and async functions.

    Example:
        >>> tools = memory_tools(mem, user_id="alice")
        >>> agent = FunctionAgent(llm=OpenAI(model="gpt-4o-mini"), tools=tools)
    """
    bound = ScopedMemoryTools(
        memory, user_id=user_id, agent_id=agent_id, run_id=run_id, kinds=kinds
    )
    specs = bound.specs()
    return [
        FunctionTool.from_defaults(
            fn=_validated(schema, func),
            async_fn=_avalidated(schema, coroutine),
            name=name,
            description=TOOL_DESCRIPTIONS[name],
            fn_schema=schema,
            callback=_text_of,
            async_callback=_atext_of,
        )
        for name, schema, func, coroutine in specs
    ]
