"""The package's exceptions, one hierarchy.

    ZettelmemError
     ├── InvalidInput          bad arguments; nothing was stored
     │    └── InvalidTrajectory
     ├── NotFound              an id that does not exist in the caller's scope
     ├── StoreError            the backing store failed (third-party errors wrapped)
     │    ├── StoreLocked      another process holds the persistent path
     │    └── StoreUnavailable the store (e.g. a Chroma server) cannot be reached
     ├── EmbeddingError        the embedder failed or returned the wrong shape
     └── LLMError              the LLM failed after every retry (never raised by add:
                               the heuristic mind takes over and the note is stored)

Third-party errors are translated at the boundary: ``raise StoreError(...) from exc``.
"""

from __future__ import annotations

__all__ = [
    "EmbeddingError",
    "InvalidInput",
    "InvalidTrajectory",
    "LLMError",
    "NotFound",
    "StoreError",
    "StoreLocked",
    "StoreUnavailable",
    "ZettelmemError",
]


class ZettelmemError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInput(ZettelmemError, ValueError):
    """An argument was rejected before anything was written.

    Also a ``ValueError`` so generic callers that catch that keep working.
    """


class InvalidTrajectory(InvalidInput):
    """A trajectory (or one of its steps) is malformed."""


class NotFound(ZettelmemError, KeyError):
    """No note with this id exists in the caller's scope."""

    def __init__(self, note_id: str, message: str | None = None) -> None:
        self.note_id = note_id
        super().__init__(message or f"no note with id {note_id!r} in this scope")

    def __str__(self) -> str:  # KeyError would print the repr of the args
        return str(self.args[0])


class StoreError(ZettelmemError):
    """The backing store failed; the operation did not complete."""


class StoreLocked(StoreError):
    """Another process holds this persistent path (one writer process per path)."""


class StoreUnavailable(StoreError):
    """The store cannot be reached (e.g. the Chroma server is down); retry later."""


class EmbeddingError(ZettelmemError):
    """The embedder failed or returned vectors of the wrong shape."""


class LLMError(ZettelmemError):
    """The language model failed after every retry."""
