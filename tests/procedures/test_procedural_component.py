"""ProceduralMemory and UtilityLedger built by hand (in-memory store), without the facade."""

from __future__ import annotations

import threading
from datetime import timedelta

from memory.embed import HashingEmbedder
from memory.ingest.pipeline import IngestPipeline, IngestSettings
from memory.ingest.sequence import SequencePolicy
from memory.ingest.tails import Tails
from memory.mind.base import UsageMeter
from memory.mind.heuristic import HeuristicMind
from memory.model import Scope, Step, Trajectory
from memory.procedural import ProceduralMemory
from memory.reading import NoteReader
from memory.retrieve.lexical import LexicalIndex
from memory.retrieve.search import HybridSearch, SearchSettings
from memory.store import InMemoryNoteStore
from memory.utility_ledger import PruneSettings, UtilityLedger
from memory.writer import NoteWriter


def components() -> tuple[ProceduralMemory, UtilityLedger, IngestPipeline, InMemoryNoteStore]:
    store, index, embedder = InMemoryNoteStore(), LexicalIndex(), HashingEmbedder()
    lock, tails, meter = threading.RLock(), Tails(), UsageMeter()
    heuristic = HeuristicMind(embedder)
    ingest = IngestPipeline(
        store=store,
        index=index,
        embedder=embedder,
        heuristic=heuristic,
        mind=heuristic,
        tails=tails,
        settings=IngestSettings(
            link_candidates=8,
            max_concurrency=1,
            sequence=SequencePolicy(enabled=True, gap=timedelta(hours=6), strength=0.5),
        ),
        lock=lock,
        check_open=lambda: None,
        meter=meter,
    )
    search = HybridSearch(
        store,
        index,
        SearchSettings(
            rrf_k=5, thread_weights=(0.4, 0.3), link_expansion_weight=0.5, speaker_boost=0.0
        ),
    )
    reader, writer = NoteReader(store), NoteWriter(store, index, ingest.embed, tails)
    procedural = ProceduralMemory(
        reader=reader,
        writer=writer,
        ingest=ingest,
        search=search,
        lock=lock,
        check_open=lambda: None,
        meter=meter,
    )
    ledger = UtilityLedger(
        store=store,
        reader=reader,
        writer=writer,
        procedural=procedural,
        settings=PruneSettings(min_uses=2, min_ratio=0.5, auto_prune_every=None),
        lock=lock,
        check_open=lambda: None,
    )
    return procedural, ledger, ingest, store


def trajectory(tid: str, task: str, success: bool = True) -> Trajectory:
    return Trajectory(
        id=tid,
        task=task,
        success=success,
        steps=[
            Step(action="open the drawer", observation="The drawer is open."),
            Step(action="take the key from the drawer", observation="You pick up the key."),
            Step(action="put the key in the box", observation="You put the key in the box."),
        ],
    )


def test_learn_then_recall_without_a_facade() -> None:
    procedural, _, ingest, store = components()
    scope = Scope(user_id="u")
    learned = procedural.learn(trajectory("t1", "put a key in the box"), scope)
    assert learned and all("t1" in n.sources for n in learned)
    assert procedural.learn(trajectory("t1", "put a key in the box"), scope) == learned
    task = "put a key in the box"
    hits = procedural.recall(task, 3, scope, ("procedure", "concept"), ingest.embed)
    assert hits and hits[0].note.id in {n.id for n in learned}
    assert store.count() == len(store.matching_ids(scope))


def test_feedback_and_prune_through_the_ledger() -> None:
    procedural, ledger, _, store = components()
    scope = Scope(user_id="u")
    learned = procedural.learn(trajectory("t1", "put a key in the box"), scope)
    target = learned[0].id
    ledger.feedback([target], False, scope)
    ledger.feedback([target], False, scope)
    removals = ledger.prune(scope, merge_duplicates=False)
    assert [r.note_id for r in removals] == [target]
    assert store.tombstone(target) is not None
