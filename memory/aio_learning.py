"""Async twins of the procedural methods (``alearn``, ``arecall``, ...).

Split from :mod:`memory.aio` (which combines them with the notes twins into
``AsyncApi``); the same rules apply: the sync work runs in a worker thread and a
twin's docstring carries the sync method's Args, Returns and Raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from memory.model import Note, SearchResult, Trajectory
from memory.procedural import LEARNED_KINDS
from memory.procedural_api import ProceduralApi
from memory.procedures import Hints
from memory.twins import twin_of
from memory.utility_ledger import Removal

__all__ = ["AsyncProceduralApi"]


class AsyncProceduralApi(ProceduralApi):
    """The procedural API with its async twins."""

    @twin_of(ProceduralApi.learn)
    async def alearn(
        self,
        trajectory: Trajectory | dict[str, Any],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        hints: Hints | None = None,
    ) -> list[Note]:
        """Async :meth:`learn`."""
        return await asyncio.to_thread(
            self.learn, trajectory, user_id=user_id, agent_id=agent_id, run_id=run_id, hints=hints
        )

    @twin_of(ProceduralApi.recall)
    async def arecall(
        self,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] = LEARNED_KINDS,
        hints: Hints | None = None,
    ) -> list[SearchResult]:
        """Async :meth:`recall`."""
        return await asyncio.to_thread(
            self.recall,
            task,
            k,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kinds=kinds,
            hints=hints,
        )

    @twin_of(ProceduralApi.recall_text)
    async def arecall_text(
        self,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        max_chars: int = 1_500,
    ) -> str:
        """Async :meth:`recall_text`."""
        return await asyncio.to_thread(
            self.recall_text,
            task,
            k,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            max_chars=max_chars,
        )

    @twin_of(ProceduralApi.feedback)
    async def afeedback(
        self,
        note_ids: Sequence[str],
        success: bool,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Note]:
        """Async :meth:`feedback`."""
        return await asyncio.to_thread(
            self.feedback, note_ids, success, user_id=user_id, agent_id=agent_id, run_id=run_id
        )

    @twin_of(ProceduralApi.prune)
    async def aprune(
        self,
        *,
        min_uses: int | None = None,
        min_ratio: float | None = None,
        merge_duplicates: bool = True,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Removal]:
        """Async :meth:`prune`."""
        return await asyncio.to_thread(
            self.prune,
            min_uses=min_uses,
            min_ratio=min_ratio,
            merge_duplicates=merge_duplicates,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
        )
