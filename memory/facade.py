"""``AgenticMemory``: the one object users hold.

It orchestrates the layers -- validate, embed, find candidates, let the mind
decide, apply by id, write in one batch, keep the lexical index in step -- and
holds the in-process lock that makes every operation atomic to other threads.
Procedural memory (learn / recall / feedback / prune) lives in
:mod:`memory.procedural_api` and is mixed in.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from memory.aio import AsyncMethods
from memory.candidates import EarlierInBatch, PendingNote, merge_candidates, store_candidates
from memory.editing import EditingMethods
from memory.embed import Embedder, resolve_embedder
from memory.errors import InvalidInput, StoreError
from memory.mind.apply import apply_decision
from memory.mind.base import Candidate, Mind, MindDecision, NoteDraft, Usage
from memory.mind.heuristic import HeuristicMind, NoteDescription
from memory.mind.linking import related_thread_links
from memory.mind.tagging import Taxonomy
from memory.model import Event, Note, Scope, utc_now
from memory.procedural import ProceduralMemory
from memory.reading import ReadingMethods
from memory.retrieve.indexed import index_text, lexical_text, validate_index_fields
from memory.retrieve.lexical import LexicalIndex
from memory.store import ChromaNoteStore, History, PathLock
from memory.tag_maintenance import TagMaintenanceMethods
from memory.validate import (
    NoteInput,
    item_input,
    note_input,
    validate_batch_size,
)

__all__ = ["AgenticMemory"]

logger = logging.getLogger(__name__)

EMBED_WINDOW = 512
"""Texts ``add_many`` hands the embedder at once. sentence-transformers sorts one
call's texts by length before batching, so a wide window pads short texts to
long ones far less than a 64-text call would (measured here on LoCoMo
turns: 64-text calls encode at about half the rate of 512-text calls)."""


def _draft(note: Note, vector: np.ndarray) -> NoteDraft:
    """What a mind is told about a new note."""
    return NoteDraft(
        content=note.content,
        kind=note.kind,
        timestamp=note.timestamp,
        metadata=note.metadata,
        vector=vector,
        scope=note.scope,
    )


class AgenticMemory(
    ReadingMethods, EditingMethods, ProceduralMemory, AsyncMethods, TagMaintenanceMethods
):
    """Agentic memory: Zettelkasten notes that link and evolve, with hybrid recall.

    Args:
        path: folder of a persistent store; ``None`` keeps everything in memory.
        llm: a LangChain chat model or LlamaIndex LLM; when given, notes are built,
            linked and evolved by it (falling back to the heuristic mind on failure).
        embedder: ``None`` (offline all-MiniLM-L6-v2), a sentence-transformers name
            or model, an :class:`~memory.embed.Embedder`, or a LangChain / LlamaIndex
            embedding.
        client: any ``chromadb`` client (e.g. ``chromadb.HttpClient``); overrides ``path``.
        mind: a custom :class:`~memory.mind.base.Mind` (overrides ``llm``).
        collection_prefix: Chroma collection prefix, to keep several memories apart
            on one client.
        link_candidates: how many nearest notes the mind considers for linking.
        link_threshold: heuristic link score threshold (similarity + keyword overlap).
        sequence_links: link each note to the previous one of its scope
            (Folgezettel) when they are at most ``sequence_gap`` apart.
        max_concurrency: concurrent LLM requests in ``add_many``.
        batch_size: notes ``add_many`` builds and writes per store call. Chroma
            writes 256 records at about 0.65x the per-record cost of 64 (measured
            here), and more notes per write means fewer calls.
        max_content_chars: longest accepted content.
        prune_min_uses: ``prune()`` judges a note after this many feedback reports.
        prune_min_ratio: ``prune()`` removes judged notes below this success ratio.
        auto_prune_every: run ``prune()`` after every N ``feedback()`` calls.
        index_fields: note structure the lexical index holds besides the content
            (any of "context", "keywords", "tags"; memory.retrieve.indexed). The
            context line (speaker, date, resolved "yesterday", theme) is on by
            default: on LoCoMo conversation 26 it raised R@10 from 0.708 to 0.744
            and temporal R@10 from 0.892 to 0.946; keywords and tags did not help
            further (``benchmarks/locomo_retrieval.py --ablations``).
        taxonomy: tags you choose (names, ``(name, description)`` pairs or a
            dict), assigned zero-shot by the offline mind instead of its open
            per-scope vocabulary; empty or duplicate names raise InvalidInput.
        speaker_boost: extra weight (x(1 + boost)) for notes said by a person the
            query names. Off by default: on all five LoCoMo conversations 0.5 was
            neutral (R@5 -0.003, R@10 +0.001; README, "What the benchmark kept").
        rrf_k: the reciprocal-rank-fusion constant (small: trust each list's top).
        thread_weights: shares of relevance a note takes from the note it follows
            and from the note that follows it.
        link_expansion_weight: share of a hit's score its linked notes receive.
        read_cache_size: notes kept decoded in memory for fast reads (only when this
            instance owns its store: a path or in-memory, never a shared client).

    Example:
        >>> mem = AgenticMemory()
        >>> note = mem.add("Melanie: I signed up for a pottery class!", user_id="u1")
        >>> mem.search("What hobby did Melanie take up?", user_id="u1")[0].note.id == note.id
        True
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        llm: Any = None,
        embedder: Any = None,
        client: Any = None,
        mind: Mind | None = None,
        collection_prefix: str | None = None,
        link_candidates: int = 8,
        link_threshold: float = 0.5,
        sequence_links: bool = True,
        sequence_gap: timedelta = timedelta(hours=6),
        sequence_strength: float = 0.5,
        max_concurrency: int = 4,
        batch_size: int = 256,
        max_content_chars: int = 200_000,
        rewrite_queries: bool = False,
        speaker_boost: float = 0.0,
        rrf_k: int = 5,
        thread_weights: tuple[float, float] = (0.4, 0.3),
        link_expansion_weight: float = 0.5,
        read_cache_size: int = 20_000,
        prune_min_uses: int = 5,
        prune_min_ratio: float = 0.5,
        auto_prune_every: int | None = None,
        index_fields: Sequence[str] = ("context",),
        taxonomy: Taxonomy | Iterable[str | tuple[str, str]] | dict[str, str] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._path_lock: PathLock | None = None
        self._owns_collections = False
        self.embedder: Embedder = resolve_embedder(embedder)
        self._heuristic = HeuristicMind(
            self.embedder,
            link_threshold=link_threshold,
            taxonomy=taxonomy
            if taxonomy is None or isinstance(taxonomy, Taxonomy)
            else Taxonomy(taxonomy),
        )
        self.mind: Mind = mind or self._mind_for(llm)
        self._llm = llm
        self.link_candidates = link_candidates
        self.sequence_links = sequence_links
        self.sequence_gap = sequence_gap
        self.sequence_strength = sequence_strength
        self.max_concurrency = max(1, max_concurrency)
        self.batch_size = max(1, batch_size)
        self.max_content_chars = max_content_chars
        self.rewrite_queries = rewrite_queries
        self.speaker_boost = speaker_boost
        self.rrf_k = rrf_k
        self.thread_weights = thread_weights
        self.link_expansion_weight = link_expansion_weight
        self.usage = Usage()
        self.prune_min_uses = prune_min_uses
        self.prune_min_ratio = prune_min_ratio
        self.auto_prune_every = auto_prune_every
        self._feedback_calls = 0
        self.index_fields = validate_index_fields(index_fields)
        self._client = self._open_client(path, client)
        prefix = collection_prefix
        if prefix is None:
            if path is None and client is None:
                # The embedded ephemeral client is shared by the whole process: give
                # each in-memory instance its own collections so they never mix.
                prefix = f"zettelmem-{uuid.uuid4().hex[:12]}"
                self._owns_collections = True
            else:
                prefix = "zettelmem"
        self._prefix = prefix
        # This process is the only writer of a locked path or of its own in-memory
        # collections, so reads can be cached; a shared client (server) is never cached.
        exclusive = client is None
        self._store = ChromaNoteStore(
            client=self._client, prefix=prefix, cache_size=read_cache_size if exclusive else 0
        )
        self._index = LexicalIndex()
        self._tails: dict[Scope, tuple[str, Any]] = {}
        self._closed = False
        self.repair()

    # ---- set-up --------------------------------------------------------------------------

    def _mind_for(self, llm: Any) -> Mind:
        if llm is None:
            return self._heuristic
        from memory.mind.llm import LLMMind

        return LLMMind(llm=llm, fallback=self._heuristic)

    def _open_client(self, path: str | Path | None, client: Any) -> Any:
        if client is not None:
            return client
        try:
            import chromadb
            from chromadb.config import Settings
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ImportError('Zettelmem needs "chromadb" (pip install chromadb)') from exc
        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        if path is None:
            return chromadb.EphemeralClient(settings=settings)
        folder = Path(path)
        self._path_lock = PathLock(folder)
        try:
            return chromadb.PersistentClient(path=str(folder), settings=settings)
        except Exception as exc:
            self._path_lock.release()
            raise StoreError(f"could not open the Chroma store at {folder}: {exc}") from exc

    def close(self) -> None:
        """Release the path (and drop the collections of an in-memory instance)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._owns_collections:
                for suffix in ("notes", "tombstones"):
                    try:
                        self._client.delete_collection(f"{self._prefix}_{suffix}")
                    except Exception:  # already gone: nothing to free
                        logger.debug("collection %s_%s already gone", self._prefix, suffix)
            if self._path_lock is not None:
                # Chroma caches one System per path for the whole process; stop ours,
                # or a later reopen here would read stale state that another process
                # has since changed (e.g. "hnsw segment reader: Nothing found on disk").
                close_client = getattr(self._client, "close", None)
                if close_client is not None:
                    try:
                        close_client()
                    except Exception:  # closing is best effort; the path is released anyway
                        logger.warning("could not close the Chroma client", exc_info=True)
                self._path_lock.release()

    def __enter__(self) -> AgenticMemory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("this AgenticMemory is closed")

    # ---- open-time repair ----------------------------------------------------------------

    def repair(self) -> dict[str, int]:
        """Finish what a crash interrupted and rebuild the in-memory indexes.

        Completes half-done deletions, drops links to missing notes, restores the
        missing side of one-sided links, and reloads the lexical index. Runs on
        open; safe to call any time.

        Returns:
            Counts of what was repaired.
        """
        with self._lock:
            report = {
                "deletions_completed": 0,
                "links_dropped": 0,
                "links_restored": 0,
                "records_upgraded": 0,
            }
            legacy: list[str] = []
            notes: dict[str, Note] = {}
            for stored in self._store.scan():
                notes[stored.note.id] = stored.note
                if stored.legacy:
                    legacy.append(stored.note.id)
            if legacy:
                report["records_upgraded"] = self._store.upgrade_layout(legacy)
            unfinished = set(self._store.tombstone_ids()) & set(notes)
            for note_id in unfinished:
                self._unlink_and_remove(notes[note_id])
                del notes[note_id]
                report["deletions_completed"] += 1
            fixes: dict[str, dict[str, float | None]] = {}
            for note in notes.values():
                if note.follows is not None and note.follows not in notes:
                    fixes.setdefault(note.id, {})[note.follows] = None  # a cut thread
                for target, strength in note.links.items():
                    other = notes.get(target)
                    if other is None or other.scope != note.scope:
                        fixes.setdefault(note.id, {})[target] = None
                        report["links_dropped"] += 1
                    elif note.id not in other.links:
                        fixes.setdefault(target, {})[note.id] = strength
                        report["links_restored"] += 1
            if fixes:
                self._write_link_fixes(fixes)
                notes.update(self._store_notes(list(fixes)))
            self._index.clear()
            self._index.upsert(
                (n.id, lexical_text(n, self.index_fields), n.scope, n.kind) for n in notes.values()
            )
            self._tails = {}
            for note in sorted(notes.values(), key=lambda n: n.created_at):
                if note.kind == "episodic":
                    self._tails[note.scope] = (note.id, note.timestamp)
            if any(report.values()):
                logger.warning("repaired the store on open: %s", report)
            return report

    def _store_notes(self, ids: list[str]) -> dict[str, Note]:
        return {k: v.note for k, v in self._store.fetch(ids, Scope()).items()}

    def _write_link_fixes(self, fixes: dict[str, dict[str, float | None]]) -> None:
        stored = self._store.fetch(list(fixes), Scope(), with_history=True)
        records = []
        for note_id, changes in fixes.items():
            current = stored.get(note_id)
            if current is None:
                continue
            links = dict(current.note.links)
            for target, strength in changes.items():
                if strength is None:
                    links.pop(target, None)
                else:
                    links[target] = strength
            follows = current.note.follows
            if follows is not None and follows in changes and changes[follows] is None:
                follows = None
            note = current.note.model_copy(update={"links": links, "follows": follows})
            event = Event(
                note_id=note_id,
                action="repair",
                before={"links": current.note.links},
                after={"links": links},
                reason="link repair on open after an interrupted operation",
                actor="repair",
            )
            records.append((note, None, current.log.plus(event)))
        self._store.write(records, previous={r[0].id: stored[r[0].id].note for r in records})

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
        item = self._validated_input(
            content,
            timestamp=timestamp,
            metadata=metadata,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            kind=kind,
        )
        return self._ingest([item])[0]

    def _validated_input(self, content: Any, **fields: Any) -> NoteInput:
        """``add``'s arguments checked (shared with ``aadd``)."""
        return note_input(content, max_chars=self.max_content_chars, **fields)

    def _validated_items(
        self, items: Iterable[str | dict[str, Any]], batch_size: int | None, method: str
    ) -> tuple[list[NoteInput], int]:
        """``add_many``'s items and batch size checked (shared with ``aadd_many``)."""
        if isinstance(items, str | bytes | dict):
            raise InvalidInput(f"{method} takes a list of items, not a single item")
        inputs = [
            item_input(item, index, max_chars=self.max_content_chars)
            for index, item in enumerate(items)
        ]
        return inputs, validate_batch_size(batch_size, self.batch_size)

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
        inputs, size = self._validated_items(items, batch_size, "add_many")
        progress = None
        if show_progress:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(inputs), desc="zettelmem add_many", unit="note")
        step = max(size, EMBED_WINDOW)
        windows = [inputs[start : start + step] for start in range(0, len(inputs), step)]
        notes: list[Note] = []
        # Pipeline: the next window is embedded in a worker thread (torch releases the
        # GIL) while this one is built, linked and written, one batch per store write.
        with ThreadPoolExecutor(max_workers=1) as embedding:
            try:
                ahead = embedding.submit(self._embed_window, windows[0]) if windows else None
                for number, window in enumerate(windows):
                    assert ahead is not None
                    created, vectors, descriptions = ahead.result()
                    if number + 1 < len(windows):
                        ahead = embedding.submit(self._embed_window, windows[number + 1])
                    for start in range(0, len(window), size):
                        end = start + size
                        notes.extend(
                            self._ingest(
                                window[start:end],
                                created=created[start:end],
                                vectors=vectors[start:end],
                                described=descriptions,
                            )
                        )
                        if progress is not None:
                            progress.update(len(window[start:end]))
            finally:
                if progress is not None:
                    progress.close()
        return notes

    def _embed_window(
        self, window: list[NoteInput]
    ) -> tuple[list[Note], np.ndarray, dict[str, NoteDescription]]:
        """New notes for a window of items, their vectors and (heuristic mind) descriptions.

        Runs ahead of the window's ingest, in a worker thread.
        """
        created = [self._new_note(item) for item in window]
        vectors = self._embed([index_text(note) for note in created])
        descriptions: dict[str, NoteDescription] = {}
        if self.mind is self._heuristic:
            for note, vector in zip(created, vectors, strict=True):
                descriptions[note.id] = self._heuristic.describe(_draft(note, vector))
        return created, vectors, descriptions

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed(list(texts))

    def _new_note(self, item: NoteInput) -> Note:
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

    def _ingest(
        self,
        items: list[NoteInput],
        *,
        prepared: list[Note] | None = None,
        decided: list[tuple[MindDecision, list[str]]] | None = None,
        vectors: np.ndarray | None = None,
        created: list[Note] | None = None,
        described: dict[str, NoteDescription] | None = None,
    ) -> list[Note]:
        """Build, link and write one batch atomically (one store write).

        ``prepared`` notes (distilled procedures with when_to_use, sources, ...)
        keep their own keywords, tags and context. ``decided`` holds decisions
        a slow mind (an LLM) made beforehand, outside the lock, with the ids of
        the candidates it was shown; ``prepared`` then holds those notes' ids.
        ``created`` and ``vectors`` are new notes and their vectors made ahead
        (``add_many`` embeds the next batch while this one is ingested).
        """
        self._check_open()
        if not items:
            return []
        notes = prepared or created or [self._new_note(item) for item in items]
        if vectors is None:
            vectors = self._embed([index_text(note) for note in notes])
        if decided is None and prepared is None and self.mind is not self._heuristic:
            decided = self._decide_outside_lock(items, notes, vectors)
            keep_fields = False
        else:
            keep_fields = prepared is not None and decided is None
        with self._lock:
            self._check_open()
            stored = store_candidates(
                self._store, [i.scope for i in items], vectors, self.link_candidates
            )
            pending: dict[str, PendingNote] = {}
            batch = EarlierInBatch(vectors)
            tails = dict(self._tails)
            for index, item in enumerate(items):
                note, vector = notes[index], vectors[index]
                candidates = merge_candidates(
                    stored[index],
                    batch.nearest(vector, item.scope, self.link_candidates),
                    pending,
                    self.link_candidates,
                )
                sequence = self._sequence_link(note, vector, tails, candidates, pending)
                if sequence:
                    note.follows = next(iter(sequence))
                if decided is not None:
                    decision, shown = decided[index]
                    self._add_shown_candidates(candidates, shown, item.scope, pending)
                else:
                    decision = self._heuristic.decide(
                        _draft(note, vector),
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
                self.usage = self.usage + decision.usage
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
                    tails[note.scope] = (note.id, note.timestamp)
            self._store.write(
                [(p.note, p.vector, p.history) for p in pending.values()],
                previous={nid: p.previous for nid, p in pending.items() if p.previous},
            )
            self._tails = tails
            # Evolved neighbours (``previous`` set) are re-indexed when what the
            # lexical index holds of them changed.
            self._index.upsert(
                (p.note.id, text, p.note.scope, p.note.kind)
                for p in pending.values()
                if (text := lexical_text(p.note, self.index_fields))
                and (p.previous is None or text != lexical_text(p.previous, self.index_fields))
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

    def _decision_jobs(
        self, items: list[NoteInput], notes: list[Note], vectors: np.ndarray
    ) -> list[tuple[NoteDraft, list[Candidate]]]:
        """Draft and candidates for each item, from a snapshot of the store.

        Earlier notes of the same batch are candidates too, as bare content (their
        own decisions are being made concurrently).
        """
        with self._lock:
            stored = store_candidates(
                self._store, [i.scope for i in items], vectors, self.link_candidates
            )
        provisional = EarlierInBatch(vectors)
        by_id: dict[str, PendingNote] = {}
        tails = dict(self._tails)
        jobs = []
        for index, item in enumerate(items):
            note, vector = notes[index], vectors[index]
            candidates = merge_candidates(
                stored[index],
                provisional.nearest(vector, item.scope, self.link_candidates),
                {},
                self.link_candidates,
            )
            with self._lock:
                self._sequence_link(note, vector, tails, candidates, by_id)
            by_id[note.id] = PendingNote(note, vector, History())
            provisional.add(index, by_id[note.id])
            if note.kind == "episodic":
                tails[note.scope] = (note.id, note.timestamp)
            jobs.append(
                (
                    _draft(note, vector),
                    [Candidate(note=c.note, similarity=s) for s, c in candidates],
                )
            )
        return jobs

    def _decide_outside_lock(
        self, items: list[NoteInput], notes: list[Note], vectors: np.ndarray
    ) -> list[tuple[MindDecision, list[str]]]:
        """Let a slow mind decide, ``max_concurrency`` requests at a time, unlocked."""
        jobs = self._decision_jobs(items, notes, vectors)
        if len(jobs) == 1 or self.max_concurrency == 1:
            decisions = [self.mind.decide(draft, shown) for draft, shown in jobs]
        else:
            with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
                decisions = list(pool.map(lambda job: self.mind.decide(*job), jobs))
        return [
            (decision, [c.note.id for c in shown])
            for decision, (_, shown) in zip(decisions, jobs, strict=True)
        ]

    def _sequence_link(
        self,
        note: Note,
        vector: np.ndarray,
        tails: dict[Scope, tuple[str, Any]],
        candidates: list[tuple[float, PendingNote]],
        pending: dict[str, PendingNote],
    ) -> dict[str, tuple[float, str]]:
        """The Folgezettel link to the previous note of the scope, if close in time."""
        if not self.sequence_links or note.kind != "episodic":
            return {}
        tail = tails.get(note.scope)
        if tail is None:
            return {}
        previous_id, previous_time = tail
        if abs(note.timestamp - previous_time) > self.sequence_gap:
            return {}
        # The previous turn goes first: a mind that shows only its first few
        # candidates (the LLM prompt) must still see the thread it continues.
        for position, (_, candidate) in enumerate(candidates):
            if candidate.note.id == previous_id:
                candidates.insert(0, candidates.pop(position))
                break
        else:
            previous = pending.get(previous_id)
            similarity = 0.0
            if previous is None:
                fetched = self._store.fetch(
                    [previous_id],
                    note.scope,
                    with_vectors=True,
                    with_history=True,
                    exact_scope=True,
                )
                if previous_id not in fetched:
                    return {}
                hit = fetched[previous_id]
                if hit.vector is not None:
                    similarity = float(np.dot(hit.vector, vector))
                previous = PendingNote(hit.note, None, hit.log, hit.note)
            elif previous.vector is not None:
                similarity = float(np.dot(previous.vector, vector))
            candidates.insert(0, (similarity, previous))
        return {previous_id: (self.sequence_strength, "follows the previous turn")}
