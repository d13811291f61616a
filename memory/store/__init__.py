"""Persistence: notes, vectors, links and history (Chroma), one process per path."""

from memory.store.chroma import ChromaNoteStore, StoredNote
from memory.store.history import History
from memory.store.lock import PathLock

__all__ = ["ChromaNoteStore", "History", "PathLock", "StoredNote"]
