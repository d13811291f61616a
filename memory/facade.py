"""``AgenticMemory``: the one object users hold.

It builds the components below, each given its dependencies explicitly (none
reaches back into the facade), and holds the lock that makes every operation
atomic to other threads. Its public methods validate the caller's input and
delegate: the notes API in :mod:`memory.notes_api` (reads, adds) and
:mod:`memory.changes_api` (update, delete), learn / recall / feedback / prune in
:mod:`memory.procedural_api`, the async twins in :mod:`memory.aio`.

    NoteStore          persistence (:mod:`memory.store`; Chroma by default)
    IngestPipeline     new notes: embed, candidates, mind, links, one write (:mod:`memory.ingest`)
    HybridSearch       every ranking decision (:mod:`memory.retrieve.search`)
    NoteReader         scoped reads (:mod:`memory.reading`)
    NoteWriter         every change to a stored note, with history (:mod:`memory.writer`)
    ProceduralMemory   learn / recall (:mod:`memory.procedural`)
    UtilityLedger      feedback / prune (:mod:`memory.utility_ledger`)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from memory.aio import AsyncApi
from memory.embed import Embedder, resolve_embedder
from memory.errors import InvalidInput
from memory.ingest.pipeline import IngestPipeline, IngestSettings
from memory.ingest.sequence import SequencePolicy
from memory.ingest.tails import Tails
from memory.mind.base import Mind, UsageMeter
from memory.mind.heuristic import HeuristicMind
from memory.mind.tagging import Tagger, Taxonomy
from memory.procedural import ProceduralMemory
from memory.procedures import NO_HINTS, Hints
from memory.query_cache import DEFAULT_QUERY_CACHE_SIZE, QueryVectors
from memory.reading import NoteReader
from memory.repair import repair_store
from memory.retrieve.search import HybridSearch, SearchSettings
from memory.store import NoteStore, open_chroma_store
from memory.store.feed import lexical_index_for
from memory.tag_maintenance import TagMaintenance
from memory.utility_ledger import PruneSettings, UtilityLedger
from memory.writer import NoteWriter

__all__ = ["AgenticMemory"]


class _Setting:
    """An attribute of the facade that reads and writes a component's setting."""

    def __init__(self, *path: str) -> None:
        self._path = path

    def _owner(self, obj: Any) -> Any:
        for name in self._path[:-1]:
            obj = getattr(obj, name)
        return obj

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else getattr(self._owner(obj), self._path[-1])

    def __set__(self, obj: Any, value: Any) -> None:
        setattr(self._owner(obj), self._path[-1], value)


class AgenticMemory(AsyncApi):
    """Agentic memory: Zettelkasten notes that link and evolve, with hybrid recall.

    Args:
        path: folder of a persistent store; ``None`` keeps everything in memory.
        llm: a LangChain chat model or LlamaIndex LLM; when given, notes are built,
            linked and evolved by it (falling back to the heuristic mind on failure).
        embedder: ``None`` (the bundled all-MiniLM-L6-v2 on ONNX Runtime, loaded at
            the first embedding, so opening a store or reading notes loads no model),
            a sentence-transformers name or model, an :class:`~memory.embed.Embedder`,
            or a LangChain / LlamaIndex embedding.
        client: any ``chromadb`` client (e.g. ``chromadb.HttpClient``); overrides ``path``.
        store: any :class:`~memory.store.NoteStore`, e.g. ``InMemoryNoteStore()`` for
            fast tests; overrides ``path`` and ``client``.
        mind: a custom :class:`~memory.mind.base.Mind` (overrides ``llm``).
        llm_timeout: seconds to wait for one model call (queueing for the model
            included), ``None`` for no limit, or ``"auto"``: none for a model that runs
            in this process (llama.cpp, GPT4All, ...: its call cannot be stopped), 60 s
            otherwise. A timed-out note is built by the heuristic mind, never lost.
        llm_retries: retries after an unusable reply, an error or a timeout; ``None``:
            1 for an in-process model, 2 otherwise.
        llm_concurrency: model calls that may be under way at once on the ``llm``
            object, timed-out calls that still run included (no retry or next request
            starts on a full client); ``None``: 1 for an in-process model, 4 otherwise.
        collection_prefix: Chroma collection prefix, to keep several memories apart
            on one client.
        link_candidates: how many nearest notes the mind considers for linking.
        link_threshold: heuristic link score threshold (similarity + keyword overlap).
        sequence_links: link each note to the previous one of its scope
            (Folgezettel) when they are at most ``sequence_gap`` apart.
        sequence_gap: longest time between two notes of a scope that still makes
            the later one follow the earlier.
        sequence_strength: strength of that thread link.
        max_concurrency: concurrent LLM requests in ``add_many``.
        batch_size: notes ``add_many`` builds and writes per store write. Chroma
            writes 256 records at about 0.65x the per-record cost of 64 (measured
            here), and more notes per write means fewer calls.
        max_content_chars: longest accepted content.
        rewrite_queries: let an LLM mind rewrite search queries (default off).
        speaker_boost: extra weight (x(1 + boost)) for notes said by a person the
            query names. Off by default: on all five LoCoMo conversations 0.5 was
            neutral (R@5 -0.003, R@10 +0.001; benchmarks/README.md).
        rrf_k: the reciprocal-rank-fusion constant (small: trust each list's top).
        thread_weights: shares of relevance a note takes from the note it follows
            and from the note that follows it.
        time_questions: a question asking for a time ("when ...?", "what year
            ...?", "how long ...?") also ranks, as a third fused list, the
            candidates whose own text says when ("yesterday", "in May 2023"). On
            LoCoMo it raised temporal R@10 from 0.784 to 0.861 and R@10 overall from
            0.717 to 0.734 (benchmarks/README.md).
        episodes: also fuse the candidates ranked by their thread's relevance (the
            notes joined by ``follows``: their summed scores over the square root
            of the thread's length), so the stretch of conversation a question is
            about rises. On LoCoMo R@10 0.735 -> 0.755, chosen by every
            leave-one-conversation-out rotation (benchmarks/README.md).
        link_expansion_weight: share of a hit's score its linked notes receive.
        read_cache_size: notes kept decoded in memory for fast reads (on a shared
            client, kept current from the change feed within 0.2 s; 0: none).
        query_cache_size: query embeddings kept, so that ``search`` and ``recall``
            of the same text encode it once (``0``: no cache; never used for notes).
        prune_min_uses: ``prune()`` judges a note after this many feedback reports.
        prune_min_ratio: ``prune()`` removes judged notes below this success ratio.
        auto_prune_every: run ``prune()`` after every N ``feedback()`` calls.
        procedure_hints: optional domain vocabulary for procedural memory
            (:class:`~memory.procedures.Hints`: argument words, skill words,
            synonyms); without it everything is learned from the scope's own
            trajectories, and leaving it out costs nothing.
        index_fields: note structure the lexical index holds besides the content
            (any of "context", "keywords", "tags"). The context line (speaker, date,
            resolved "yesterday", theme) is on by default: on all five LoCoMo
            conversations it raised R@10 by 0.03; keywords and tags did not help
            (benchmarks/README.md).
        taxonomy: tags you choose (names, ``(name, description)`` pairs or a dict),
            assigned zero-shot by the offline mind instead of its open per-scope
            vocabulary; empty or duplicate names raise ``InvalidInput``.

    Example:
        >>> mem = AgenticMemory()
        >>> note = mem.add("Melanie: I signed up for a pottery class!", user_id="u1")
        >>> mem.search("What hobby did Melanie take up?", user_id="u1")[0].note.id == note.id
        True
    """

    mind = _Setting("_ingest", "mind")
    link_candidates = _Setting("_ingest", "settings", "link_candidates")
    max_concurrency = _Setting("_ingest", "settings", "max_concurrency")
    sequence_links = _Setting("_ingest", "settings", "sequence", "enabled")
    sequence_gap = _Setting("_ingest", "settings", "sequence", "gap")
    sequence_strength = _Setting("_ingest", "settings", "sequence", "strength")
    rrf_k = _Setting("_search", "settings", "rrf_k")
    thread_weights = _Setting("_search", "settings", "thread_weights")
    link_expansion_weight = _Setting("_search", "settings", "link_expansion_weight")
    speaker_boost = _Setting("_search", "settings", "speaker_boost")
    time_questions = _Setting("_search", "settings", "time_questions")
    episodes = _Setting("_search", "settings", "episodes")
    prune_min_uses = _Setting("_utility", "settings", "min_uses")
    prune_min_ratio = _Setting("_utility", "settings", "min_ratio")
    auto_prune_every = _Setting("_utility", "settings", "auto_prune_every")
    procedure_hints = _Setting("_procedural", "hints")
    usage = _Setting("_meter", "total")
    """The running LLM cost of this memory (notes, query rewrites, distillation)."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        llm: Any = None,
        embedder: Any = None,
        client: Any = None,
        store: NoteStore | None = None,
        mind: Mind | None = None,
        llm_timeout: float | None | str = "auto",
        llm_retries: int | None = None,
        llm_concurrency: int | None = None,
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
        time_questions: bool = True,
        episodes: bool = True,
        link_expansion_weight: float = 0.5,
        read_cache_size: int = 20_000,
        query_cache_size: int = DEFAULT_QUERY_CACHE_SIZE,
        prune_min_uses: int = 5,
        prune_min_ratio: float = 0.5,
        auto_prune_every: int | None = None,
        procedure_hints: Hints | None = None,
        index_fields: Sequence[str] = ("context",),
        taxonomy: Taxonomy | Iterable[str | tuple[str, str]] | dict[str, str] | None = None,
    ) -> None:
        # Long on purpose: this is the one place where the components are wired
        # together, and reading the wiring top to bottom is the point of it.
        self._lock = threading.RLock()
        self._closed = False
        self.embedder: Embedder = resolve_embedder(embedder)
        if taxonomy is not None and not isinstance(taxonomy, Taxonomy):
            taxonomy = Taxonomy(taxonomy)
        heuristic = HeuristicMind(self.embedder, link_threshold=link_threshold, taxonomy=taxonomy)
        if mind is None and llm is not None:
            from memory.mind.llm import LLMMind

            mind = LLMMind(
                llm=llm,
                fallback=heuristic,
                embedder=self.embedder,
                timeout=llm_timeout,
                max_retries=llm_retries,
                concurrency=llm_concurrency,
            )
        self.batch_size = max(1, batch_size)
        self.max_content_chars = max_content_chars
        self.rewrite_queries = rewrite_queries
        self._meter = UsageMeter()
        self._queries = QueryVectors(query_cache_size)
        if store is None:
            store = open_chroma_store(
                path,
                client=client,
                collection_prefix=collection_prefix,
                read_cache_size=read_cache_size,
                holder=self,
            )
        self._store: NoteStore = store
        self._client = getattr(self._store, "client", None)
        index, tails = lexical_index_for(self._store, fields=index_fields), Tails()
        self._tags = TagMaintenance(
            store=self._store, index=index, tagger=heuristic.tagger, lock=self._lock
        )
        for custom in (mind, getattr(mind, "fallback", None)):
            if isinstance(getattr(custom, "tagger", None), Tagger):  # a HeuristicMind you built
                self._tags.attach(custom.tagger)  # type: ignore[union-attr]
        self._ingest = IngestPipeline(
            store=self._store,
            index=index,
            embedder=self.embedder,
            heuristic=heuristic,
            mind=mind or heuristic,
            tails=tails,
            settings=IngestSettings(
                link_candidates=link_candidates,
                max_concurrency=max(1, max_concurrency),
                sequence=SequencePolicy(
                    enabled=sequence_links, gap=sequence_gap, strength=sequence_strength
                ),
            ),
            lock=self._lock,
            check_open=self._check_open,
            meter=self._meter,
        )
        self._search = HybridSearch(
            self._store,
            index,
            SearchSettings(
                rrf_k=rrf_k,
                thread_weights=thread_weights,
                link_expansion_weight=link_expansion_weight,
                speaker_boost=speaker_boost,
                time_questions=time_questions,
                episodes=episodes,
            ),
        )
        self._reader = NoteReader(self._store)
        self._writer = NoteWriter(self._store, index, self._ingest.embed, tails)
        self._procedural = ProceduralMemory(
            reader=self._reader,
            writer=self._writer,
            ingest=self._ingest,
            search=self._search,
            lock=self._lock,
            check_open=self._check_open,
            meter=self._meter,
            llm=llm,
            mind=self.mind,
            hints=procedure_hints or NO_HINTS,
        )
        self._utility = UtilityLedger(
            store=self._store,
            reader=self._reader,
            writer=self._writer,
            procedural=self._procedural,
            settings=PruneSettings(
                min_uses=prune_min_uses,
                min_ratio=prune_min_ratio,
                auto_prune_every=auto_prune_every,
            ),
            lock=self._lock,
            check_open=self._check_open,
        )
        self._repair = lambda: repair_store(self._store, self._writer, index, tails)
        self.repair()

    # ---- life cycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Release the path (and drop the collections of an in-memory instance).

        Idempotent. Until it runs, a second ``AgenticMemory`` on the same path in
        this process is refused (:class:`~memory.errors.StoreLocked` names this
        instance); ``with AgenticMemory(path) as mem:`` closes it at the block's end.
        """
        with self._lock:
            if not self._closed:
                self._closed = True
                self._store.close()

    def __enter__(self) -> AgenticMemory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def repair(self) -> dict[str, int]:
        """Finish what a crash interrupted and rebuild the in-memory indexes.

        Completes half-done deletions, drops links to missing notes, restores the
        missing side of one-sided links, makes a note current again when the note
        that superseded it is gone (``supersessions_cleared``), and reloads the
        lexical index. Runs on open; safe to call any time.

        Returns:
            Counts of what was repaired.
        """
        with self._lock:
            return self._repair()

    def restore(self, records: Iterable[Any]) -> list[str]:
        """Write notes exactly as exported: same ids, links, history and utility.

        The inverse of :func:`memory.snapshot.export_snapshot` (``zettelmem export``
        / ``import --notes``). Notes are embedded again with this memory's embedder.
        Ids already stored are skipped, so an interrupted restore can be re-run.
        The repair pass then runs, dropping links to notes present in neither the
        records nor the store.

        Args:
            records: :class:`~memory.snapshot.NoteSnapshot` objects or their dicts.

        Returns:
            The ids written (not those skipped).

        Raises:
            InvalidInput: a record is malformed (nothing written).
        """
        from memory.snapshot import NoteSnapshot, write_snapshot

        try:
            parsed = [NoteSnapshot.model_validate(record) for record in records]
        except ValueError as exc:
            raise InvalidInput(f"not a note snapshot record: {exc}") from exc
        with self._lock:
            self._check_open()
            written = write_snapshot(self._store, parsed, self._ingest.embed)
            self._repair()
            return written
