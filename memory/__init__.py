"""Zettelmem: agentic memory for LLM agents.

Every experience becomes a Zettelkasten note (content, keywords, tags, context,
links) that keeps evolving; agent trajectories are distilled into procedures and
concepts recalled for new tasks. Start with :class:`AgenticMemory`.
"""

from memory.errors import (
    EmbeddingError,
    InvalidInput,
    InvalidTrajectory,
    LLMError,
    NotFound,
    StoreError,
    StoreLocked,
    StoreUnavailable,
    ZettelmemError,
)
from memory.facade import AgenticMemory
from memory.model import Event, Note, Scope, SearchResult, Step, Trajectory

__all__ = [
    "AgenticMemory",
    "EmbeddingError",
    "Event",
    "InvalidInput",
    "InvalidTrajectory",
    "LLMError",
    "Note",
    "NotFound",
    "Scope",
    "SearchResult",
    "Step",
    "StoreError",
    "StoreLocked",
    "StoreUnavailable",
    "Trajectory",
    "ZettelmemError",
]

__version__ = "0.1.0"
