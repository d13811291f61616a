"""The notes half of :class:`~memory.facade.AgenticMemory`'s public API.

``NotesApi`` validates the caller's input, takes the memory's lock and hands the
work to the components it declares (and the facade builds): the ingest pipeline,
hybrid search and the reader. Changes to stored notes (update, delete) are in
:mod:`memory.changes_api`. It touches nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from memory.errors import StoreError
from memory.ingest.pipeline import IngestPipeline
from memory.mind.base import UsageMeter, query_rewriter
from memory.model import Event, Note, SearchResult
from memory.query_cache import QueryVectors
from memory.reading import NoteReader
from memory.retrieve.search import HybridSearch
from memory.validate import (
    items_input,
    note_input,
    validate_batch_size,
    validate_content,
    validate_k,
    validate_scope,
)
from memory.writer import NoteWriter

__all__ = ["NotesApi"]

EMBED_WINDOW = 512
"""Texts ``add_many`` hands the embedder at once. sentence-transformers sorts one
call's texts by length before batching, so a wide window pads short texts to
long ones far less than a 64-text call would (measured here on LoCoMo
turns: 64-text calls encode at about half the rate of 512-text calls)."""


class NotesApi:
    """add, add_many, search, get, neighbors, history, count, notes (changes: ChangesApi)."""

    _lock: threading.RLock
    _closed: bool
    _ingest: IngestPipeline
    _search: HybridSearch
    _reader: NoteReader
    _writer: NoteWriter
    _meter: UsageMeter
    _queries: QueryVectors
    batch_size: int
    max_content_chars: int
    rewrite_queries: bool

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("this AgenticMemory is closed")

    @contextmanager
    def _open(self) -> Iterator[None]:
        """Hold the lock of an open memory."""
        with self._lock:
            self._check_open()
            yield

    # ---- adding ----------------------------------------------------------------------------

    def add(
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
        """Store one experience as a note, linked to related notes of its scope.

        Args:
            content: the text to remember.
            timestamp: when it happened (datetime, POSIX time or date string);
                default now.
            metadata: your dict, returned verbatim on every read.
            user_id: scope: the user it belongs to.
            agent_id: scope: the agent it belongs to.
            run_id: scope: the run / session it belongs to.
            kind: "episodic" (default), "concept" or "procedure".

        Returns:
            The stored note with keywords, tags, context and links filled in.

        Raises:
            InvalidInput: bad content, metadata, scope or timestamp (nothing stored).
            StoreError: the store failed (nothing stored).
        """
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
        return self._ingest.ingest([item])[0]

    def add_many(
        self,
        items: Iterable[str | dict[str, Any]],
        *,
        batch_size: int | None = None,
        show_progress: bool = False,
    ) -> list[Note]:
        """Add many notes, embedding and writing in batches.

        Equivalent to calling :meth:`add` for each item in order, but much faster.
        Every item is validated before anything is written.

        Args:
            items: strings, or dicts with :meth:`add`'s keyword names plus ``content``.
            batch_size: notes per store write (default: the memory's, 256).
            show_progress: show a tqdm progress bar.

        Returns:
            The stored notes, in input order.

        Raises:
            InvalidInput: any item is invalid, or ``batch_size`` is not a positive
                int (nothing stored).
        """
        inputs = items_input(items, max_chars=self.max_content_chars, method="add_many")
        size = validate_batch_size(batch_size, self.batch_size)
        return self._ingest.ingest_many(
            inputs, batch_size=size, window=EMBED_WINDOW, show_progress=show_progress
        )

    # ---- reading ---------------------------------------------------------------------------

    def search(
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
        """Hybrid search: dense + BM25 fused by reciprocal rank, then link expansion.

        Args:
            query: what to look for.
            k: how many results.
            user_id: scope: only notes of this user.
            agent_id: scope: only notes of this agent.
            run_id: scope: only notes of this run.
            kinds: only these kinds ("episodic", "concept", "procedure").
            filters: conditions on your metadata, e.g. ``{"dia_id": "D5:4"}`` or
                ``{"turn": {"$gte": 3}}``.
            expand_links: add notes linked to the top hits (never displacing the
                first k/2 direct hits). Off by default: on LoCoMo it cost recall
                (benchmarks/README.md).
            rewrite: let the LLM rewrite the query first (default: the memory's
                ``rewrite_queries`` setting; no effect without an LLM).
            include_superseded: keep notes a newer note updated (ranked right
                below their current version, which is pulled up beside them);
                ``False`` drops them.

        Returns:
            Up to ``k`` results, best first.
        """
        query = validate_content(query, max_chars=self.max_content_chars, what="query")
        k = validate_k(k)
        scope = validate_scope(user_id, agent_id, run_id)
        rewriter = query_rewriter(self._ingest.mind)
        if (self.rewrite_queries if rewrite is None else rewrite) and rewriter is not None:
            query = rewriter.rewrite_query(query)
        vector = self._queries.embed(self._ingest.embedder, [query])
        with self._open():
            return self._search.rank(
                query,
                vector,
                k,
                scope,
                kinds=kinds,
                filters=filters,
                expand_links=expand_links,
                include_superseded=include_superseded,
            )

    def get(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Note:
        """The note with this id, if it is visible in the given scope.

        Args:
            note_id: the note's id.
            user_id: scope: the user the note must belong to.
            agent_id: scope: the agent the note must belong to.
            run_id: scope: the run the note must belong to.

        Raises:
            NotFound: no such note in this scope.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._reader.fetch_one(note_id, scope).note

    def neighbors(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        include_thread: bool = False,
    ) -> list[Note]:
        """The notes linked to ``note_id`` (related notes), strongest link first.

        Args:
            note_id: the note whose neighbours to return.
            user_id: scope: the user the note must belong to.
            agent_id: scope: the agent the note must belong to.
            run_id: scope: the run the note must belong to.
            include_thread: also the previous and next turn of its conversation
                thread (``follows``), after the links, when they are not linked
                anyway: the thread is order, not relatedness.

        Raises:
            NotFound: no such note in this scope.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._reader.neighbors(note_id, scope, include_thread=include_thread)

    def history(
        self,
        note_id: str,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Event]:
        """Every change of the note, oldest first (also after it was deleted).

        Args:
            note_id: the note's id.
            user_id: scope: the user the note must belong to.
            agent_id: scope: the agent the note must belong to.
            run_id: scope: the run the note must belong to.

        Raises:
            NotFound: no such note (nor deleted note) in this scope.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._reader.history(note_id, scope)

    def count(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> int:
        """How many notes are visible in the scope.

        Args:
            user_id: scope: only notes of this user.
            agent_id: scope: only notes of this agent.
            run_id: scope: only notes of this run.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._reader.count(scope)

    def notes(
        self,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[Note]:
        """Every note visible in the scope (optionally of ``kinds`` / matching ``filters``).

        Args:
            user_id: scope: only notes of this user.
            agent_id: scope: only notes of this agent.
            run_id: scope: only notes of this run.
            kinds: only these kinds ("episodic", "concept", "procedure").
            filters: conditions on your metadata, as in :meth:`search`.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        with self._open():
            return self._reader.notes(scope, kinds=kinds, filters=filters)
