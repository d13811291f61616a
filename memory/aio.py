"""Async twins of the public methods (``aadd``, ``asearch``, ...).

Store and embedding work runs in a worker thread (``asyncio.to_thread``), the way
LangChain's async defaults do; LLM decisions and query rewrites are truly async
(``adecide``, ``arewrite_query``), with at most ``max_concurrency`` requests in
flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from memory.mind.base import query_rewriter
from memory.model import Event, Note, SearchResult, Trajectory
from memory.notes_api import NotesApi
from memory.procedural_api import ProceduralApi
from memory.validate import items_input, note_input, validate_batch_size

__all__ = ["AsyncApi"]


class AsyncApi(NotesApi, ProceduralApi):
    """The whole public API, sync and async."""

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
        """Async :meth:`add`."""
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

    async def aadd_many(
        self, items: Iterable[str | dict[str, Any]], *, batch_size: int | None = None
    ) -> list[Note]:
        """Async :meth:`add_many` (concurrent LLM requests)."""
        inputs = items_input(items, max_chars=self.max_content_chars, method="aadd_many")
        size = validate_batch_size(batch_size, self.batch_size)
        notes: list[Note] = []
        for start in range(0, len(inputs), size):
            notes.extend(await self._ingest.aingest(inputs[start : start + size]))
        return notes

    async def asearch(self, query: str, k: int = 5, **kwargs: Any) -> list[SearchResult]:
        """Async :meth:`search` (LLM query rewriting awaited)."""
        rewrite = kwargs.pop("rewrite", None)
        wanted = self.rewrite_queries if rewrite is None else rewrite
        rewriter = query_rewriter(self._ingest.mind)
        if wanted and rewriter is not None and isinstance(query, str) and query.strip():
            query = await rewriter.arewrite_query(query)
        return await asyncio.to_thread(self.search, query, k, rewrite=False, **kwargs)

    async def aget(self, note_id: str, **scope: Any) -> Note:
        """Async :meth:`get`."""
        return await asyncio.to_thread(self.get, note_id, **scope)

    async def aupdate(self, note_id: str, **changes: Any) -> Note:
        """Async :meth:`update`."""
        return await asyncio.to_thread(self.update, note_id, **changes)

    async def adelete(self, note_id: str, **scope: Any) -> Note:
        """Async :meth:`delete`."""
        return await asyncio.to_thread(self.delete, note_id, **scope)

    async def ahistory(self, note_id: str, **scope: Any) -> list[Event]:
        """Async :meth:`history`."""
        return await asyncio.to_thread(self.history, note_id, **scope)

    async def alearn(self, trajectory: Trajectory | dict[str, Any], **scope: Any) -> list[Note]:
        """Async :meth:`learn`."""
        return await asyncio.to_thread(self.learn, trajectory, **scope)

    async def arecall(self, task: str, k: int = 3, **kwargs: Any) -> list[SearchResult]:
        """Async :meth:`recall`."""
        return await asyncio.to_thread(self.recall, task, k, **kwargs)

    async def afeedback(self, note_ids: Sequence[str], success: bool, **scope: Any) -> list[Note]:
        """Async :meth:`feedback`."""
        return await asyncio.to_thread(self.feedback, note_ids, success, **scope)
