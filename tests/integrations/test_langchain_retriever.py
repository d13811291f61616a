"""LangChain ZettelmemRetriever: the standard suite, metadata, scope, options, async."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from integration_data import ALICE_NOTES, BOB_NOTES
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda
from langchain_tests.integration_tests import RetrieversIntegrationTests

from integrations.langchain import ZettelmemRetriever
from memory import AgenticMemory, SearchResult
from memory.embed import HashingEmbedder


class TestZettelmemRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own conformance tests, on an in-memory store seeded with notes."""

    suite_memory: AgenticMemory

    @pytest.fixture(autouse=True, scope="class")
    def _suite_memory(self, request: pytest.FixtureRequest) -> Iterator[None]:
        memory = AgenticMemory(embedder=HashingEmbedder())
        memory.add_many([{"content": c, "user_id": "alice"} for c in ALICE_NOTES])
        request.cls.suite_memory = memory
        yield
        memory.close()

    @property
    def retriever_constructor(self) -> type[ZettelmemRetriever]:
        return ZettelmemRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"memory": self.suite_memory, "user_id": "alice", "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "What is Alice allergic to?"


def test_documents_carry_the_note_and_its_metadata(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(memory=seeded, user_id="alice", k=3)
    docs = retriever.invoke("peanuts allergy epipen")
    assert docs[0].page_content == ALICE_NOTES[0]
    meta = docs[0].metadata
    note = seeded.get(meta["id"])
    assert docs[0].id == note.id
    assert meta["n"] == 0  # the caller's metadata
    assert meta["kind"] == "episodic"
    assert meta["keywords"] == note.keywords and meta["keywords"]
    assert meta["tags"] == note.tags
    assert meta["context"] == note.context
    assert set(meta["links"]) == set(note.links)
    assert datetime.fromisoformat(meta["timestamp"]) == note.timestamp
    assert meta["user_id"] == "alice"
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True) or any(
        d.metadata["found_by"] == "link" for d in docs
    )


def test_scope_isolation(seeded: AgenticMemory) -> None:
    bob = ZettelmemRetriever(memory=seeded, user_id="bob", k=10)
    alice = ZettelmemRetriever(memory=seeded, user_id="alice", k=10)
    for query in [*ALICE_NOTES, "allergic", "favourite dish"]:
        assert {d.page_content for d in bob.invoke(query)} <= set(BOB_NOTES)
    for query in [*BOB_NOTES, "allergic", "favourite dish"]:
        assert {d.page_content for d in alice.invoke(query)} <= set(ALICE_NOTES)


def test_per_call_options_and_unknown_options(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(memory=seeded, user_id="alice", k=5)
    assert len(retriever.invoke("Alice", k=2)) == 2
    only = retriever.invoke("Alice", filters={"n": 3})
    assert [d.page_content for d in only] == [ALICE_NOTES[3]]
    assert retriever.invoke("Alice", kinds=["procedure"]) == []
    with pytest.raises(TypeError, match="top_k"):
        retriever.invoke("Alice", top_k=2)


def test_filters_and_kinds_in_the_constructor(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(
        memory=seeded, user_id="alice", filters={"n": {"$gte": 4}}, kinds=["episodic"]
    )
    assert {d.page_content for d in retriever.invoke("Alice")} == set(ALICE_NOTES[4:])


def test_blank_query_returns_nothing(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(memory=seeded, user_id="alice")
    assert retriever.invoke("   ") == []
    assert asyncio.run(retriever.ainvoke("")) == []


async def test_ainvoke_matches_invoke(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(memory=seeded, user_id="alice", k=3)
    sync = retriever.invoke("marathon training")
    docs = await retriever.ainvoke("marathon training")
    assert [d.id for d in docs] == [d.id for d in sync]
    assert docs[0].page_content == ALICE_NOTES[3]


async def test_ainvoke_without_native_twin_runs_off_the_event_loop(
    embedder: HashingEmbedder,
) -> None:
    class SyncOnly(AgenticMemory):
        asearch = None  # type: ignore[assignment]  # a memory without async twins

    loop_thread = threading.get_ident()
    seen: list[int] = []
    with SyncOnly(embedder=embedder) as memory:
        memory.add_many([{"content": c, "user_id": "alice"} for c in ALICE_NOTES])
        original = memory.search

        def spy(*args: Any, **kwargs: Any) -> list[SearchResult]:
            seen.append(threading.get_ident())
            return original(*args, **kwargs)

        memory.search = spy  # type: ignore[method-assign]
        retriever = ZettelmemRetriever(memory=memory, user_id="alice", k=1)
        results = await asyncio.gather(*(retriever.ainvoke(q) for q in ALICE_NOTES))
    assert [r[0].page_content for r in results] == ALICE_NOTES
    assert len(seen) == len(ALICE_NOTES) and loop_thread not in seen


async def test_ainvoke_uses_the_native_asearch(embedder: HashingEmbedder) -> None:
    calls: list[dict[str, Any]] = []

    class NativeAsync(AgenticMemory):
        async def asearch(self, query: str, k: int = 5, **kwargs: Any) -> list[SearchResult]:
            calls.append({"query": query, "k": k, **kwargs})
            return self.search(query, k, **kwargs)

    with NativeAsync(embedder=embedder) as memory:
        memory.add("Carol collects vinyl records.", user_id="carol")
        retriever = ZettelmemRetriever(memory=memory, user_id="carol", k=2)
        docs = await retriever.ainvoke("records")
    assert [d.page_content for d in docs] == ["Carol collects vinyl records."]
    assert calls[0]["user_id"] == "carol" and calls[0]["k"] == 2


def test_works_inside_a_chain(seeded: AgenticMemory) -> None:
    retriever = ZettelmemRetriever(memory=seeded, user_id="alice", k=2)

    def join(docs: list[Document]) -> str:
        return "\n".join(d.page_content for d in docs)

    chain = retriever | RunnableLambda(join)
    assert ALICE_NOTES[1] in chain.invoke("Rex the beagle")
    batched = retriever.batch(["beagle Rex", "tennis sister"])
    assert all(isinstance(d, Document) for docs in batched for d in docs)
    assert batched[1][0].page_content == ALICE_NOTES[5]
