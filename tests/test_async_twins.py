"""Every public sync method has an async twin, or a documented reason not to (issue 17)."""

from __future__ import annotations

import asyncio
import inspect
import threading

import pytest

from memory import AgenticMemory
from memory.aio import SYNC_ONLY
from memory.errors import InvalidInput, NotFound


def public_sync_methods() -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(AgenticMemory)
        if not name.startswith("_")
        and inspect.isfunction(value)
        and not inspect.iscoroutinefunction(value)
    )


def test_every_public_sync_method_has_a_twin_or_a_documented_reason() -> None:
    names = public_sync_methods()
    assert {"add", "notes", "count", "recall_text", "prune", "delete_all"} <= set(names)
    missing = [
        name
        for name in names
        if not inspect.iscoroutinefunction(getattr(AgenticMemory, f"a{name}", None))
        and name not in SYNC_ONLY
    ]
    assert not missing, f"no async twin and no documented exemption: {missing}"
    assert all(reason.strip() for reason in SYNC_ONLY.values())
    assert not [name for name in SYNC_ONLY if hasattr(AgenticMemory, f"a{name}")]


@pytest.mark.parametrize("name", [n for n in public_sync_methods() if n not in SYNC_ONLY], ids=str)
def test_a_twin_takes_exactly_the_sync_parameters(name: str) -> None:
    sync = inspect.signature(getattr(AgenticMemory, name)).parameters
    twin = inspect.signature(getattr(AgenticMemory, f"a{name}")).parameters
    assert [(p.name, p.kind, p.default) for p in twin.values()] == [
        (p.name, p.kind, p.default) for p in sync.values()
    ]


async def test_twins_do_the_sync_work_off_the_event_loop(mem: AgenticMemory) -> None:
    loop_thread = threading.get_ident()
    seen: list[int] = []
    original = mem._reader.count

    def count(scope):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return original(scope)

    mem._reader.count = count  # type: ignore[method-assign]
    await mem.acount(user_id="u1")
    assert seen and seen[0] != loop_thread


async def test_the_new_twins_answer_like_the_sync_methods(mem: AgenticMemory) -> None:
    first = await mem.aadd("Melanie: I painted a sunrise over the lake", user_id="u1")
    second = await mem.aadd("Melanie: I painted the lake again at sunset", user_id="u1")
    await mem.aadd("Bob: my car broke down", user_id="u2")

    assert await mem.acount(user_id="u1") == mem.count(user_id="u1") == 2
    assert [n.id for n in await mem.anotes(user_id="u1")] == [n.id for n in mem.notes(user_id="u1")]
    assert [n.id for n in await mem.aneighbors(second.id, user_id="u1")] == [
        n.id for n in mem.neighbors(second.id, user_id="u1")
    ]
    assert first.id in [n.id for n in await mem.aneighbors(second.id, user_id="u1")]
    assert await mem.arepair() == mem.repair()
    assert await mem.arecall_text("paint the lake", user_id="u1") == mem.recall_text(
        "paint the lake", user_id="u1"
    )
    assert await mem.aprune(user_id="u1") == []
    assert await mem.adelete_all(user_id="u1") == 2
    assert await mem.acount(user_id="u1") == 0 and await mem.acount(user_id="u2") == 1
    with pytest.raises(NotFound):
        await mem.aget(first.id)


async def test_twins_raise_what_the_sync_methods_raise(mem: AgenticMemory) -> None:
    with pytest.raises(InvalidInput):
        await mem.adelete_all()
    with pytest.raises(InvalidInput):
        await mem.arestore([{"not": "a snapshot"}])
    with pytest.raises(NotFound):
        await mem.aneighbors("missing")


async def test_arestore_round_trips_an_export(mem: AgenticMemory) -> None:
    from memory.snapshot import export_snapshot

    note = mem.add("Caroline: I adopted a cat", user_id="u1")
    records = list(export_snapshot(mem))
    other = AgenticMemory(embedder=mem.embedder)
    try:
        assert await other.arestore(records) == [note.id]
        assert (await other.aget(note.id)).content == note.content
    finally:
        other.close()


def test_twins_run_concurrently_on_one_loop(mem: AgenticMemory) -> None:
    async def main() -> list[int]:
        return await asyncio.gather(*(mem.acount(user_id=f"u{i}") for i in range(8)))

    assert asyncio.run(main()) == [0] * 8
