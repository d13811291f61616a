"""Pydantic models of what the language model replies (not the public decision types).

    NoteReply            one structured answer about a new note (and the aliases of
     │                   candidates whose fact it updates: ``supersedes``)
     ├── LinkReply       link the new note to a candidate alias
     └── UpdateReply     evolve one candidate (by alias)
    RewrittenQuery       a search query rewritten for retrieval

These models are the contract with the model: their JSON schema is generated into
the prompt (or handed to the framework's native structured output), so field
descriptions are short and written for the model. Candidates appear under aliases
(``n1``, ``n2``, ...); ``memory.mind.llm.mind`` maps them back to note ids.

Parsing is lenient where a model's slip is harmless (a comma-separated string where a
list is expected, extra keys, ``null`` for an empty list) and strict where guessing
would be wrong (a strength that is not a number is a validation error, so the caller
retries with the message).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["LinkReply", "NoteReply", "RewrittenQuery", "UpdateReply"]


def _as_str_list(value: Any) -> Any:
    """Accept ``None`` and ``"a, b"`` for a list of strings; leave the rest to pydantic."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class LinkReply(_Reply):
    """A candidate the new note should link to."""

    to: str = Field(description="alias, e.g. n2")
    strength: float = Field(description="0-1, how closely related")
    reason: str = Field(default="", description="a few words")


class UpdateReply(_Reply):
    """How one candidate should evolve now that the new note exists."""

    note: str = Field(description="alias, e.g. n1")
    add_tags: list[str] = Field(default_factory=list)
    add_keywords: list[str] = Field(default_factory=list)
    context: str | None = Field(default=None, description="new one-line context, or null")
    reason: str = Field(default="", description="a few words")

    @field_validator("add_tags", "add_keywords", mode="before")
    @classmethod
    def _str_lists(cls, value: Any) -> Any:
        return _as_str_list(value)


class NoteReply(_Reply):
    """Structure for a new memory note, its links and the neighbours to update."""

    keywords: list[str] = Field(
        default_factory=list, description="3-6 terms from the new note's own text"
    )
    tags: list[str] = Field(default_factory=list, description="1-3 broad lowercase labels")
    context: str = Field(default="", description="one line on the new note: who, what")
    links: list[LinkReply] = Field(default_factory=list, description="related notes only")
    updates: list[UpdateReply] = Field(default_factory=list, description="existing notes to update")
    supersedes: list[str] = Field(
        default_factory=list, description="aliases whose fact it changes or contradicts"
    )

    @field_validator("keywords", "tags", "supersedes", mode="before")
    @classmethod
    def _str_lists(cls, value: Any) -> Any:
        return _as_str_list(value)

    @field_validator("links", "updates", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value

    @field_validator("context", mode="before")
    @classmethod
    def _null_context(cls, value: Any) -> Any:
        return "" if value is None else value


class RewrittenQuery(_Reply):
    """A search query rewritten for memory retrieval."""

    query: str = Field(description="the rewritten query")
