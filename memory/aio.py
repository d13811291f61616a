"""Async twins of the facade's methods (``aadd``, ``asearch``, ...).

Store and embedding work runs in a worker thread (``asyncio.to_thread``), the way
LangChain's async defaults do; LLM decisions are truly async (``adecide``), with
at most ``max_concurrency`` requests in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from memory.mind.base import MindDecision
from memory.model import Event, Note, SearchResult, Trajectory
from memory.retrieve.indexed import index_text
from memory.validate import NoteInput

if TYPE_CHECKING:
    from memory.facade import AgenticMemory

__all__ = ["AsyncMethods"]


class AsyncMethods:
    """``a*`` twins of :class:`~memory.facade.AgenticMemory`'s public methods."""

    async def aadd(
        self: AgenticMemory,
        content: str,
        *,
        timestamp: Any = None,
        metadata: dict[str, Any] | None = None,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kind: str = "episodic",
    ) -> Note:
        """Async :meth:`~memory.facade.AgenticMemory.add`."""
        item = self._validated_input(
            content,
            timestamp=timestamp,
            metadata=metadata,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kind=kind,
        )
        return (await self._aingest([item]))[0]

    async def aadd_many(
        self: AgenticMemory,
        items: Iterable[str | dict[str, Any]],
        *,
        batch_size: int | None = None,
    ) -> list[Note]:
        """Async :meth:`~memory.facade.AgenticMemory.add_many` (concurrent LLM requests)."""
        inputs, size = self._validated_items(items, batch_size, "aadd_many")
        notes: list[Note] = []
        for start in range(0, len(inputs), size):
            notes.extend(await self._aingest(inputs[start : start + size]))
        return notes

    async def _aingest(self: AgenticMemory, items: list[NoteInput]) -> list[Note]:
        if self.mind is self._heuristic:
            return await asyncio.to_thread(self._ingest, items)
        notes = [self._new_note(item) for item in items]
        vectors = await asyncio.to_thread(self._embed, [index_text(n) for n in notes])
        jobs = await asyncio.to_thread(self._decision_jobs, items, notes, vectors)
        limit = asyncio.Semaphore(self.max_concurrency)

        async def decide(job: tuple[Any, Any]) -> MindDecision:
            async with limit:
                return await self.mind.adecide(*job)

        decisions = await asyncio.gather(*(decide(job) for job in jobs))
        decided = [
            (decision, [c.note.id for c in shown])
            for decision, (_, shown) in zip(decisions, jobs, strict=True)
        ]
        return await asyncio.to_thread(
            self._ingest, items, prepared=notes, decided=decided, vectors=vectors
        )

    async def asearch(
        self: AgenticMemory, query: str, k: int = 5, **kwargs: Any
    ) -> list[SearchResult]:
        """Async :meth:`~memory.facade.AgenticMemory.search` (LLM query rewriting awaited)."""
        rewrite = kwargs.pop("rewrite", None)
        wanted = self.rewrite_queries if rewrite is None else rewrite
        if wanted and hasattr(self.mind, "arewrite_query") and isinstance(query, str):
            if query.strip():
                query = await self.mind.arewrite_query(query)
        return await asyncio.to_thread(self.search, query, k, rewrite=False, **kwargs)

    async def aget(self: AgenticMemory, note_id: str, **scope: Any) -> Note:
        """Async :meth:`~memory.facade.AgenticMemory.get`."""
        return await asyncio.to_thread(self.get, note_id, **scope)

    async def aupdate(self: AgenticMemory, note_id: str, **changes: Any) -> Note:
        """Async :meth:`~memory.facade.AgenticMemory.update`."""
        return await asyncio.to_thread(self.update, note_id, **changes)

    async def adelete(self: AgenticMemory, note_id: str, **scope: Any) -> Note:
        """Async :meth:`~memory.facade.AgenticMemory.delete`."""
        return await asyncio.to_thread(self.delete, note_id, **scope)

    async def ahistory(self: AgenticMemory, note_id: str, **scope: Any) -> list[Event]:
        """Async :meth:`~memory.facade.AgenticMemory.history`."""
        return await asyncio.to_thread(self.history, note_id, **scope)

    async def alearn(
        self: AgenticMemory, trajectory: Trajectory | dict[str, Any], **scope: Any
    ) -> list[Note]:
        """Async :meth:`~memory.facade.AgenticMemory.learn`."""
        return await asyncio.to_thread(self.learn, trajectory, **scope)

    async def arecall(
        self: AgenticMemory, task: str, k: int = 3, **kwargs: Any
    ) -> list[SearchResult]:
        """Async :meth:`~memory.facade.AgenticMemory.recall`."""
        return await asyncio.to_thread(self.recall, task, k, **kwargs)

    async def afeedback(
        self: AgenticMemory, note_ids: Sequence[str], success: bool, **scope: Any
    ) -> list[Note]:
        """Async :meth:`~memory.facade.AgenticMemory.feedback`."""
        return await asyncio.to_thread(self.feedback, note_ids, success, **scope)
