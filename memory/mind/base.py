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
    "Supersession",
    "Usage",
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
    """LLM cost of one operation (all zero for the heuristic mind)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    fallbacks: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            retries=self.retries + other.retries,
            fallbacks=self.fallbacks + other.fallbacks,
        )

    def as_event_usage(self) -> dict[str, int]:
        """The non-zero counters, for a history event."""
        return {key: value for key, value in self.model_dump().items() if value}


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
