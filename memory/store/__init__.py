"""Persistence: notes, vectors, links and history behind one protocol.

NoteStore            the protocol every other layer types against (``base``)
ChromaNoteStore      Chroma, embedded or server (``chroma``); ``open_chroma_store``
InMemoryNoteStore    plain dicts, for fast tests (``memory_store``)
"""

from memory.store.base import NoteStore, StoredNote
from memory.store.chroma import ChromaNoteStore
from memory.store.connect import open_chroma_store
from memory.store.history import History
from memory.store.lock import PathLock
from memory.store.memory_store import InMemoryNoteStore

__all__ = [
    "ChromaNoteStore",
    "History",
    "InMemoryNoteStore",
    "NoteStore",
    "PathLock",
    "StoredNote",
    "open_chroma_store",
]
