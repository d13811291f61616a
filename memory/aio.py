"""Async twins of the public methods (``aadd``, ``asearch``, ...).

Every public method has an ``a``-prefixed twin with the same parameters, except
those in :data:`SYNC_ONLY` (each with its reason). Store and embedding work runs
in a worker thread (``asyncio.to_thread``), the way LangChain's async defaults
do; LLM decisions and query rewrites are truly async (``adecide``,
``arewrite_query``), with at most ``max_concurrency`` requests in flight. A
twin's docstring is its own summary plus the sync method's Args, Returns and
Raises, so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from memory.aio_learning import AsyncProceduralApi
from memory.changes_api import ChangesApi
from memory.mind.base import query_rewriter
from memory.mind.vocabulary import TagRevision
from memory.model import Event, Note, SearchResult
from memory.notes_api import NotesApi
from memory.twins import SYNC_ONLY, twin_of
from memory.validate import items_input, note_input, validate_batch_size

__all__ = ["SYNC_ONLY", "AsyncApi"]


class AsyncApi(ChangesApi, AsyncProceduralApi):
    """The whole public API, sync and async."""

    @twin_of(NotesApi.add)
    async def aadd(
        self,
        content: str,
        *,
        timestamp: Any = None,
        metadata: dict[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kind: str = "episodic",
    ) -> Note:
        """Async :meth:`add` (an LLM mind's decision awaited)."""
        item = note_input(
            content,
            timestamp=timestamp,
            metadata=metadata,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kind=kind,
            max_chars=self.max_content_chars,
        )
        return (await self._ingest.aingest([item]))[0]

    @twin_of(NotesApi.add_many)
    async def aadd_many(
        self,
        items: Iterable[str | dict[str, Any]],
        *,
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> list[Note]:
        """Async :meth:`add_many` (concurrent LLM requests)."""
        inputs = items_input(items, max_chars=self.max_content_chars, method="aadd_many")
        size = validate_batch_size(batch_size, self.batch_size)
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(inputs), desc="zettelmem aadd_many", unit="note")
        notes: list[Note] = []
        try:
            for start in range(0, len(inputs), size):
                batch = await self._ingest.aingest(inputs[start : start + size])
                notes.extend(batch)
                if progress is not None:
                    progress.update(len(batch))
        finally:
            if progress is not None:
                progress.close()
        return notes

    @twin_of(NotesApi.search)
    async def asearch(
        self,
        query: str,
        k: int = 5,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
        expand_links: bool = False,
        rewrite: bool | None = None,
        include_superseded: bool = True,
    ) -> list[SearchResult]:
        """Async :meth:`search` (LLM query rewriting awaited)."""
        wanted = self.rewrite_queries if rewrite is None else rewrite
        rewriter = query_rewriter(self._ingest.mind)
        if wanted and rewriter is not None and isinstance(query, str) and query.strip():
            query = await rewriter.arewrite_query(query)
        return await asyncio.to_thread(
            self.search,
            query,
            k,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kinds=kinds,
            filters=filters,
            expand_links=expand_links,
            rewrite=False,
            include_superseded=include_superseded,
        )

    @twin_of(NotesApi.get)
    async def aget(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Note:
        """Async :meth:`get`."""
        return await asyncio.to_thread(
            self.get, note_id, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    @twin_of(NotesApi.neighbors)
    async def aneighbors(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        include_thread: bool = False,
    ) -> list[Note]:
        """Async :meth:`neighbors`."""
        return await asyncio.to_thread(
            self.neighbors,
            note_id,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            include_thread=include_thread,
        )

    @twin_of(NotesApi.history)
    async def ahistory(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Event]:
        """Async :meth:`history`."""
        return await asyncio.to_thread(
            self.history, note_id, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    @twin_of(NotesApi.count)
    async def acount(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """Async :meth:`count`."""
        return await asyncio.to_thread(
            self.count, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    @twin_of(NotesApi.notes)
    async def anotes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[Note]:
        """Async :meth:`notes`."""
        return await asyncio.to_thread(
            self.notes,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kinds=kinds,
            filters=filters,
        )

    @twin_of(ChangesApi.update)
    async def aupdate(
        self,
        note_id: str,
        *,
        content: str | None = None,
        metadata: dict[str, Any] | None = None,
        keywords: list[str] | None = None,
        tags: list[str] | None = None,
        context: str | None = None,
        timestamp: Any = None,
        pinned: bool | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Note:
        """Async :meth:`update`."""
        return await asyncio.to_thread(
            self.update,
            note_id,
            content=content,
            metadata=metadata,
            keywords=keywords,
            tags=tags,
            context=context,
            timestamp=timestamp,
            pinned=pinned,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
        )

    @twin_of(ChangesApi.delete)
    async def adelete(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        reason: str = "deleted by the caller",
        action: str = "delete",
    ) -> Note:
        """Async :meth:`delete`."""
        return await asyncio.to_thread(
            self.delete,
            note_id,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            reason=reason,
            action=action,
        )

    @twin_of(ChangesApi.delete_all)
    async def adelete_all(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """Async :meth:`delete_all`."""
        return await asyncio.to_thread(
            self.delete_all, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    # repair / restore live on the facade (they need its store and wiring); their
    # twins call them by name.
    async def arepair(self) -> dict[str, int]:
        """Async :meth:`repair`.

        Returns:
            Counts of what was repaired.
        """
        return await asyncio.to_thread(self.repair)  # type: ignore[attr-defined,no-any-return]

    async def arestore(self, records: Iterable[Any]) -> list[str]:
        """Async :meth:`restore`.

        Args:
            records: :class:`~memory.snapshot.NoteSnapshot` objects or their dicts.

        Returns:
            The ids written (not those skipped).

        Raises:
            InvalidInput: a record is malformed (nothing written).
        """
        return await asyncio.to_thread(self.restore, records)  # type: ignore[attr-defined,no-any-return]

    @twin_of(ChangesApi.revise_tags)
    async def arevise_tags(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[TagRevision]:
        """Async :meth:`revise_tags`."""
        return await asyncio.to_thread(
            self.revise_tags, user_id=user_id, agent_id=agent_id, run_id=run_id
        )
