"""``IngestPipeline``: validated items in, linked notes written, one batch per store write.

embed      new notes and their vectors (``add_many`` embeds the next window
           in a worker thread while this one is built)
decide     a slow mind (an LLM) decides outside the lock, ``max_concurrency``
           requests at a time, from a snapshot of the store
build      under the lock: candidates (store + earlier notes of the batch),
           the Folgezettel link, the mind's decision applied by id
write      one store write for the new notes and every neighbour they change;
           the lexical index and the scopes' tails follow
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from memory.embed import Embedder
from memory.ingest.candidates import (
    EarlierInBatch,
    PendingNote,
    merge_candidates,
    store_candidates,
)
from memory.ingest.sequence import SequencePolicy, sequence_link
from memory.ingest.tails import Tail, Tails
from memory.mind.apply import apply_decision
from memory.mind.base import Candidate, Mind, MindDecision, NoteDraft, UsageMeter
from memory.mind.heuristic import HeuristicMind, NoteDescription
from memory.mind.linking import related_thread_links
from memory.model import Note, Scope, utc_now
from memory.retrieve.indexed import embedded_text
from memory.retrieve.lexical import LexicalIndex
from memory.store.base import NoteStore
from memory.store.history import History
from memory.validate import NoteInput

__all__ = ["IngestPipeline", "IngestSettings", "draft_of"]

Decided = list[tuple[MindDecision, list[str]]]


def _advance(progress: Any, done: int) -> None:
    """Move a tqdm bar on; the final step is left to ``close()`` to draw, so the
    100 % line is printed once (an ``update`` to 100 % then ``close`` drew it twice)."""
    if progress.n + done < progress.total:
        progress.update(done)
    else:
        progress.n = progress.total


@dataclass
class IngestSettings:
    """How many candidates a note is shown, its thread link, and LLM concurrency
    (defaults: ``AgenticMemory``'s constructor)."""

    link_candidates: int
    max_concurrency: int
    sequence: SequencePolicy


def draft_of(note: Note, vector: np.ndarray) -> NoteDraft:
    """What a mind is told about a new note."""
    return NoteDraft(
        content=note.content,
        kind=note.kind,
        timestamp=note.timestamp,
        metadata=note.metadata,
        vector=vector,
        scope=note.scope,
    )


def new_note(item: NoteInput) -> Note:
    """A fresh note for a validated item (structure comes later)."""
    now = utc_now()
    return Note(
        content=item.content,
        kind=item.kind,  # type: ignore[arg-type]
        timestamp=item.timestamp,
        metadata=item.metadata,
        user_id=item.scope.user_id,
        agent_id=item.scope.agent_id,
        run_id=item.scope.run_id,
        created_at=now,
        updated_at=now,
    )


class IngestPipeline:
    """Builds, links and writes new notes.

    Args:
        store: the note store.
        index: the lexical index kept in step.
        embedder: texts -> vectors.
        heuristic: the offline mind (describes and decides when no LLM does).
        mind: the mind that decides (the heuristic one, or an LLM mind).
        tails: the scopes' latest episodic notes.
        settings: candidates, sequence links, concurrency.
        lock: the memory's lock (held while a batch is built and written).
        check_open: raises when the memory is closed.
        meter: where the mind's LLM cost is counted.
    """

    def __init__(
        self,
        *,
        store: NoteStore,
        index: LexicalIndex,
        embedder: Embedder,
        heuristic: HeuristicMind,
        mind: Mind,
        tails: Tails,
        settings: IngestSettings,
        lock: threading.RLock,
        check_open: Callable[[], None],
        meter: UsageMeter,
    ) -> None:
        self._store = store
        self._index = index
        self.embedder = embedder
        self.heuristic = heuristic
        self.mind = mind
        self._tails = tails
        self.settings = settings
        self._lock = lock
        self._check_open = check_open
        self._meter = meter

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``."""
        return self.embedder.embed(list(texts))

    def prepare(
        self, window: list[NoteInput]
    ) -> tuple[list[Note], np.ndarray, dict[str, NoteDescription]]:
        """New notes for a window of items, their vectors and (heuristic mind) descriptions.

        Thread-safe: ``add_many`` runs it for the next window in a worker thread.
        """
        created = [new_note(item) for item in window]
        vectors = self.embed([embedded_text(note) for note in created])
        descriptions: dict[str, NoteDescription] = {}
        if self.mind is self.heuristic:
            for note, vector in zip(created, vectors, strict=True):
                descriptions[note.id] = self.heuristic.describe(draft_of(note, vector))
        return created, vectors, descriptions

    def ingest_many(
        self, inputs: list[NoteInput], *, batch_size: int, window: int, show_progress: bool
    ) -> list[Note]:
        """:meth:`ingest` in batches of ``batch_size``, embedding ``window`` items ahead.

        Pipelined: the next window is embedded in a worker thread (torch releases the
        GIL) while this one is built, linked and written, one batch per store write.
        """
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(inputs), desc="zettelmem add_many", unit="note")
        step = max(batch_size, window)
        windows = [inputs[start : start + step] for start in range(0, len(inputs), step)]
        notes: list[Note] = []
        with ThreadPoolExecutor(max_workers=1) as embedding:
            try:
                ahead = embedding.submit(self.prepare, windows[0]) if windows else None
                for number, items in enumerate(windows):
                    assert ahead is not None
                    created, vectors, descriptions = ahead.result()
                    if number + 1 < len(windows):
                        ahead = embedding.submit(self.prepare, windows[number + 1])
                    for start in range(0, len(items), batch_size):
                        end = start + batch_size
                        notes.extend(
                            self.ingest(
                                items[start:end],
                                created=created[start:end],
                                vectors=vectors[start:end],
                                described=descriptions,
                            )
                        )
                        if progress is not None:
                            _advance(progress, len(items[start:end]))
            finally:
                if progress is not None:
                    progress.close()
        return notes

    # Building and writing one batch is one critical section with one store write; split
    # up, the lock would have to be taken and the pending map handed around per step.
    def ingest(
        self,
        items: list[NoteInput],
        *,
        prepared: list[Note] | None = None,
        decided: Decided | None = None,
        vectors: np.ndarray | None = None,
        created: list[Note] | None = None,
        described: dict[str, NoteDescription] | None = None,
    ) -> list[Note]:
        """Build, link and write one batch atomically (one store write).

        ``prepared`` notes (distilled procedures with when_to_use, sources, ...)
        keep their own keywords, tags and context. ``decided`` holds decisions
        a slow mind (an LLM) made beforehand, outside the lock, with the ids of
        the candidates it was shown; ``prepared`` then holds those notes' ids.
        ``created`` and ``vectors`` are new notes and their vectors made ahead.
        """
        # Long on purpose: the part under the lock is one critical section (read
        # candidates, decide, apply, write, re-index); split into helpers, each would
        # need the same half-built batch state passed around and the lock's extent
        # would no longer be visible in one place.
        self._check_open()
        if not items:
            return []
        notes = prepared or created or [new_note(item) for item in items]
        if vectors is None:
            vectors = self.embed([embedded_text(note) for note in notes])
        if decided is None and prepared is None and self.mind is not self.heuristic:
            decided = self.decide_outside_lock(items, notes, vectors)
            keep_fields = False
        else:
            keep_fields = prepared is not None and decided is None
        n = self.settings.link_candidates
        with self._lock:
            self._check_open()
            stored = store_candidates(self._store, [i.scope for i in items], vectors, n)
            pending: dict[str, PendingNote] = {}
            batch = EarlierInBatch(vectors)
            tails = self._tails.snapshot()
            for index, item in enumerate(items):
                note, vector = notes[index], vectors[index]
                candidates = merge_candidates(
                    stored[index], batch.nearest(vector, item.scope, n), pending, n
                )
                sequence = sequence_link(
                    self._store, self.settings.sequence, note, vector, tails, candidates, pending
                )
                if sequence:
                    note.follows = next(iter(sequence))
                if decided is not None:
                    decision, shown = decided[index]
                    self._add_shown_candidates(candidates, shown, item.scope, pending)
                else:
                    decision = self.heuristic.decide(
                        draft_of(note, vector),
                        [Candidate(note=c.note, similarity=s) for s, c in candidates],
                        (described or {}).get(note.id),
                    )
                if keep_fields:
                    # Distilled notes bring their own keywords / tags / context; the
                    # mind only contributes links.
                    decision = decision.model_copy(
                        update={
                            "keywords": note.keywords or decision.keywords,
                            "tags": note.tags or decision.tags,
                            "context": note.context or decision.context,
                            "changes": [],
                        }
                    )
                self._meter.add(decision.usage)
                neighbours = {c.note.id: c for _, c in candidates}
                applied = apply_decision(
                    note,
                    decision,
                    {nid: c.note for nid, c in neighbours.items()},
                    extra_links=related_thread_links(sequence, decision),
                )
                new = PendingNote(applied.note, vector, History.of(applied.events[note.id]))
                pending[note.id] = new
                batch.add(index, new)
                for nid, changed in applied.neighbours.items():
                    base = neighbours[nid]
                    pending[nid] = PendingNote(
                        changed,
                        base.vector if base.previous is None else None,
                        base.history.plus(*applied.events.get(nid, [])),
                        base.previous,
                    )
                if note.kind == "episodic":
                    tails[note.scope] = Tail(note.id, note.timestamp, vector, embedded_text(note))
            self._store.write(
                [(p.note, p.vector, p.history) for p in pending.values()],
                previous={nid: p.previous for nid, p in pending.items() if p.previous},
            )
            self._tails.replace(tails)
            # Evolved neighbours (``previous`` set) are re-indexed when what the
            # lexical index holds of them (e.g. their context line) changed.
            text_of = self._index.text_of
            self._index.upsert_notes(
                p.note
                for p in pending.values()
                if p.previous is None or text_of(p.note) != text_of(p.previous)
            )
            return [pending[note.id].note for note in notes]

    def _add_shown_candidates(
        self,
        candidates: list[tuple[float, PendingNote]],
        shown: list[str],
        scope: Scope,
        pending: dict[str, PendingNote],
    ) -> None:
        """Make the notes a mind was shown (outside the lock) linkable again.

        Only notes that still exist in exactly the same scope come back, so a
        decision can never reach a note deleted meanwhile or of another scope.
        """
        present = {c.note.id for _, c in candidates}
        missing = [nid for nid in shown if nid not in present]
        from_store = [nid for nid in missing if nid not in pending]
        fetched = self._store.fetch(from_store, scope, with_history=True, exact_scope=True)
        for nid in missing:
            if nid in pending and pending[nid].note.scope == scope:
                candidates.append((0.0, pending[nid]))
            elif nid in fetched:
                hit = fetched[nid]
                candidates.append((0.0, PendingNote(hit.note, None, hit.log, hit.note)))

    def decision_jobs(
        self, items: list[NoteInput], notes: list[Note], vectors: np.ndarray
    ) -> list[tuple[NoteDraft, list[Candidate]]]:
        """Draft and candidates for each item, from a snapshot of the store.

        Earlier notes of the same batch are candidates too, as bare content (their
        own decisions are being made concurrently).
        """
        n = self.settings.link_candidates
        with self._lock:
            stored = store_candidates(self._store, [i.scope for i in items], vectors, n)
        provisional = EarlierInBatch(vectors)
        by_id: dict[str, PendingNote] = {}
        tails = self._tails.snapshot()
        jobs = []
        for index, item in enumerate(items):
            note, vector = notes[index], vectors[index]
            candidates = merge_candidates(
                stored[index], provisional.nearest(vector, item.scope, n), {}, n
            )
            with self._lock:
                sequence_link(
                    self._store, self.settings.sequence, note, vector, tails, candidates, by_id
                )
            by_id[note.id] = PendingNote(note, vector, History())
            provisional.add(index, by_id[note.id])
            if note.kind == "episodic":
                tails[note.scope] = Tail(note.id, note.timestamp)
            shown = [Candidate(note=c.note, similarity=s) for s, c in candidates]
            jobs.append((draft_of(note, vector), shown))
        return jobs

    def decide_outside_lock(
        self, items: list[NoteInput], notes: list[Note], vectors: np.ndarray
    ) -> Decided:
        """Let a slow mind decide, ``max_concurrency`` requests at a time, unlocked."""
        jobs = self.decision_jobs(items, notes, vectors)
        if len(jobs) == 1 or self.settings.max_concurrency == 1:
            decisions = [self.mind.decide(draft, shown) for draft, shown in jobs]
        else:
            with ThreadPoolExecutor(max_workers=self.settings.max_concurrency) as pool:
                decisions = list(pool.map(lambda job: self.mind.decide(*job), jobs))
        return [
            (decision, [c.note.id for c in shown])
            for decision, (_, shown) in zip(decisions, jobs, strict=True)
        ]

    async def aingest(self, items: list[NoteInput]) -> list[Note]:
        """Async :meth:`ingest`: store and embedding work in a worker thread, the mind's
        decisions awaited, at most ``max_concurrency`` requests in flight."""
        if self.mind is self.heuristic:
            return await asyncio.to_thread(self.ingest, items)
        notes = [new_note(item) for item in items]
        vectors = await asyncio.to_thread(self.embed, [embedded_text(n) for n in notes])
        jobs = await asyncio.to_thread(self.decision_jobs, items, notes, vectors)
        limit = asyncio.Semaphore(self.settings.max_concurrency)

        async def decide(job: tuple[Any, Any]) -> MindDecision:
            async with limit:
                return await self.mind.adecide(*job)

        decisions = await asyncio.gather(*(decide(job) for job in jobs))
        decided = [
            (decision, [c.note.id for c in shown])
            for decision, (_, shown) in zip(decisions, jobs, strict=True)
        ]
        return await asyncio.to_thread(
            self.ingest, items, prepared=notes, decided=decided, vectors=vectors
        )
