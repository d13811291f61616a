"""Opening the default store: which Chroma client, which collections, what it may cache."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from memory.errors import StoreError
from memory.store.chroma import ChromaNoteStore
from memory.store.lock import PathLock

__all__ = ["open_chroma_store"]


def open_chroma_store(
    path: str | Path | None,
    *,
    client: Any = None,
    collection_prefix: str | None = None,
    read_cache_size: int = 20_000,
    holder: object | None = None,
) -> ChromaNoteStore:
    """A Chroma note store on ``client``, a folder (``path``, locked) or in memory.

    Args:
        path: folder of a persistent store; ``None`` keeps everything in memory.
        client: any ``chromadb`` client (e.g. ``chromadb.HttpClient``); overrides ``path``.
        collection_prefix: Chroma collection prefix (default ``"zettelmem"``; an
            in-memory store gets collections of its own).
        read_cache_size: notes kept decoded (on a shared client, kept current from
            the change feed, see :mod:`memory.store.follow`).
        holder: the object that holds the folder open, named when a second opener in
            this process is refused.

    Raises:
        StoreLocked: another process has the folder open.
        StoreError: Chroma could not open it.
    """
    lock: PathLock | None = None
    if client is None:
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ImportError('Zettelmem needs "chromadb" (pip install chromadb)') from exc
        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if path is None:
            opened = chromadb.EphemeralClient(settings=settings)
        else:
            folder = Path(path)
            lock = PathLock(folder, holder=holder)
            try:
                opened = chromadb.PersistentClient(path=str(folder), settings=settings)
            except Exception as exc:
                lock.release()
                raise StoreError(f"could not open the Chroma store at {folder}: {exc}") from exc
    else:
        opened = client
    prefix, owns = collection_prefix, False
    if prefix is None:
        # The embedded ephemeral client is shared by the whole process: give each
        # in-memory store its own collections so they never mix.
        owns = path is None and client is None
        prefix = f"zettelmem-{uuid.uuid4().hex[:12]}" if owns else "zettelmem"
    try:
        return ChromaNoteStore(
            client=opened,
            prefix=prefix,
            # A shared client (server) may have other writers: its cache follows
            # their changes from the change feed (memory.store.follow).
            cache_size=read_cache_size,
            owns_collections=owns,
            path_lock=lock,
            shared=client is not None,
        )
    except Exception:
        if lock is not None:
            lock.release()
        raise
