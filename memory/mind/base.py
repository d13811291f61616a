"""The mind protocol: what turns raw input into note structure.

    Mind (protocol)
     ├── HeuristicMind   offline, deterministic (memory.mind.heuristic)
     └── LLMMind         any LangChain chat model or LlamaIndex LLM (memory.mind.llm)

A mind sees a draft of the new note and the candidate neighbours the retriever
found in the same scope, and returns a ``MindDecision``: the new note's keywords,
tags and context, which candidates to link, and what to change in each neighbour.
It never writes anything; ``memory.mind.apply`` validates the decision against
the real candidates and turns it into notes and history events.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from memory.model import Note, NoteKind, Scope

__all__ = [
    "Candidate",
    "LinkChoice",
    "Mind",
    "MindDecision",
    "NeighbourChange",
    "NoteDraft",
    "QueryRewriter",
    "StructuredMind",
    "Supersession",
    "SupersessionRule",
    "Usage",
    "UsageMeter",
    "query_rewriter",
    "structured_caller",
    "supersession_rule",
]


class NoteDraft(BaseModel):
    """What the mind knows of a note before it is built (``vector`` is its embedding)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    content: str
    vector: Any = Field(default=None, exclude=True, repr=False)
    kind: NoteKind = "episodic"
    timestamp: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    scope: Scope | None = Field(
        default=None, description="The note's scope (per-scope tag vocabularies and speakers)."
    )


class Candidate(BaseModel):
    """A possible neighbour: an existing note (same scope) and its cosine similarity."""

    note: Note
    similarity: float


class LinkChoice(BaseModel):
    """Link the new note to ``target_id`` with ``strength`` in (0, 1]."""

    target_id: str
    strength: float = Field(gt=0.0, le=1.0)
    reason: str = ""


class NeighbourChange(BaseModel):
    """Evolution of one neighbour: tags/keywords to add, optionally a new context."""

    target_id: str
    add_tags: list[str] = Field(default_factory=list)
    add_keywords: list[str] = Field(default_factory=list)
    context: str | None = None
    reason: str = ""


class Supersession(BaseModel):
    """The new note updates ``target_id`` (an older note of the same scope), because ``reason``."""

    target_id: str
    reason: str = ""


class Usage(BaseModel):
    """LLM cost of one operation (all zero for the heuristic mind).

    ``<field>_accepted`` / ``<field>_replaced`` count, for the new note's keywords, tags
    and context, the model's answers that were kept and those that failed the
    faithfulness checks (or were empty) and were replaced by the offline mind's.
    ``supersedes_accepted`` / ``supersedes_replaced`` count the model's proposals that a
    new note updates a shown candidate: kept, or dropped as invalid (the offline rule
    then decides).
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    fallbacks: int = 0
    keywords_accepted: int = 0
    keywords_replaced: int = 0
    tags_accepted: int = 0
    tags_replaced: int = 0
    context_accepted: int = 0
    context_replaced: int = 0
    supersedes_accepted: int = 0
    supersedes_replaced: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            **{name: getattr(self, name) + getattr(other, name) for name in type(self).model_fields}
        )

    def as_event_usage(self) -> dict[str, int]:
        """The non-zero counters, for a history event."""
        return {key: value for key, value in self.model_dump().items() if value}


class UsageMeter:
    """The running LLM cost of one memory, added to from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = Usage()

    def add(self, usage: Usage) -> None:
        """Count ``usage`` in."""
        with self._lock:
            self.total = self.total + usage


class MindDecision(BaseModel):
    """Everything a mind decides about one new note."""

    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    context: str = ""
    links: list[LinkChoice] = Field(default_factory=list)
    changes: list[NeighbourChange] = Field(default_factory=list)
    supersedes: list[Supersession] = Field(default_factory=list)
    actor: str = "heuristic"
    usage: Usage = Field(default_factory=Usage)


@runtime_checkable
class Mind(Protocol):
    """Builds notes, decides links and evolves neighbours."""

    name: str

    def decide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        """Decide the structure of ``draft`` given its candidate neighbours."""
        ...

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        """Async twin of ``decide``."""
        ...


@runtime_checkable
class QueryRewriter(Protocol):
    """Optional capability of a mind: rewrite a search query before it is embedded."""

    def rewrite_query(self, query: str) -> str:
        """A better query for the same need (the original on failure)."""
        ...

    async def arewrite_query(self, query: str) -> str:
        """Async twin of ``rewrite_query``."""
        ...


@runtime_checkable
class SupersessionRule(Protocol):
    """Optional capability of a mind: its rule for which older notes a new one updates.

    An LLM mind asks its fallback for it when the model proposes no valid supersession.
    """

    def supersessions(
        self, draft: NoteDraft, keywords: list[str], candidates: list[Candidate]
    ) -> list[Supersession]:
        """The candidates ``draft`` (described by ``keywords``) supersedes, with reasons."""
        ...


@runtime_checkable
class StructuredMind(Protocol):
    """Optional capability of a mind: its model's structured caller, to share.

    The distiller reuses it so that its retries, timeout and structured-output mode
    are the ones the memory's model already uses.
    """

    caller: Any  # a memory.llm.StructuredCaller (not imported: this layer knows no LLM)


def query_rewriter(mind: Mind) -> QueryRewriter | None:
    """The mind as a :class:`QueryRewriter`, or ``None`` when it cannot rewrite."""
    return mind if isinstance(mind, QueryRewriter) else None


def supersession_rule(mind: Mind) -> SupersessionRule | None:
    """The mind as a :class:`SupersessionRule`, or ``None`` when it has no such rule."""
    return mind if isinstance(mind, SupersessionRule) else None


def structured_caller(mind: Mind) -> Any | None:
    """The mind's structured caller (:class:`StructuredMind`), or ``None``."""
    return mind.caller if isinstance(mind, StructuredMind) else None
