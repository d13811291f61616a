"""ZettelmemMemoryBlock inside llama_index.core.memory.Memory: flush, recall, truncation, scope."""

from __future__ import annotations

from integration_data import ALICE_NOTES, BOB_NOTES, requires_procedural
from llama_index.core.llms import ChatMessage
from llama_index.core.memory import Memory
from llama_index.core.utils import get_tokenizer

from integrations.llamaindex import ZettelmemMemoryBlock
from integrations.rendering import parse_sections, render_sections
from memory import AgenticMemory, Step, Trajectory

CHAT = [
    ("user", "My sister Jane lives in Porto and teaches chemistry."),
    ("assistant", "Porto is lovely. Does Jane enjoy teaching?"),
    ("user", "She does. I am planning to visit her in June by train."),
    ("assistant", "A train trip in June sounds great."),
    ("user", "I also need to renew my passport before that trip."),
    ("assistant", "Renew it early; offices get busy in spring."),
]


def chat_memory(block: ZettelmemMemoryBlock, *, token_limit: int, session: str = "s1") -> Memory:
    return Memory.from_defaults(
        session_id=session, token_limit=token_limit, token_flush_size=20, memory_blocks=[block]
    )


def entries(text: str) -> list[str]:
    return [entry for _, section in parse_sections(text) for entry in section]


async def test_flushed_messages_become_notes(mem: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=mem, user_id="alice")
    memory = chat_memory(block, token_limit=60)
    for role, text in CHAT:
        await memory.aput(ChatMessage(role=role, content=text))
    notes = mem.notes(user_id="alice")
    assert notes, "nothing was flushed to the block"
    active = [m.content for m in await memory.aget_all(status=None)]
    assert len(active) == len(CHAT)
    for note in notes:
        role, _, text = note.content.partition(": ")
        assert (role, text) in CHAT
        assert note.metadata["role"] == role and note.metadata["session"] == "s1"
        assert note.metadata["time"] and note.run_id is None
    short_term = [m.content for m in await memory.aget()]
    assert short_term[-1] == CHAT[-1][1]


async def test_memory_get_renders_the_relevant_notes(mem: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=mem, user_id="alice", top_k=2)
    memory = chat_memory(block, token_limit=60)
    for role, text in CHAT:
        await memory.aput(ChatMessage(role=role, content=text))
    messages = await memory.aget(input="Where does my sister Jane live?")
    assert messages[0].role.value == "system"
    system = messages[0].content or ""
    assert "Relevant memories" in system
    assert "user: My sister Jane lives in Porto and teaches chemistry." in system


async def test_truncation_drops_the_lowest_ranked_notes(seeded: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=seeded, user_id="alice", top_k=6)
    question = ChatMessage(role="user", content="Alice allergic peanuts epipen?")
    full = await block.aget([question])
    assert len(entries(full)) == 6
    tokens = len(get_tokenizer()(full))
    memory = chat_memory(block, token_limit=tokens // 2 + 20)
    await memory.aput(question)
    system = (await memory.aget())[0].content or ""
    kept = [e for e in entries(full) if e in system]
    assert 0 < len(kept) < 6
    assert kept == entries(full)[: len(kept)]  # the best ones survive
    assert ALICE_NOTES[0] in system


async def test_atruncate_drops_memories_before_procedures(mem: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=mem)
    memories = ["- one alpha", "- two beta\n  continued line", "- three gamma"]
    procedures = ["- p1 do this", "- p2 do that"]

    def text(m: int, p: int) -> str | None:
        sections = [("Memories:", memories[:m]), ("Procedures:", procedures[:p])]
        rendered = render_sections(sections)
        return rendered or None

    full = text(3, 2)
    assert full is not None
    states = [text(3, 2), text(2, 2), text(1, 2), text(0, 2), text(0, 1), None]
    count = get_tokenizer()
    reached = []
    for wanted in range(1, len(count(full)) + 2):
        result = await block.atruncate(full, wanted)
        assert result in states
        reached.append(states.index(result))
        if result is not None:
            assert len(count(full)) - len(count(result)) >= wanted
    assert reached == sorted(reached)
    assert set(reached) == set(range(1, len(states)))
    assert await block.atruncate("", 5) is None


async def test_users_never_see_each_other(seeded: AgenticMemory) -> None:
    bob = ZettelmemMemoryBlock(memory=seeded, user_id="bob", top_k=10)
    for text in [*ALICE_NOTES, "allergic", "favourite dish"]:
        rendered = await bob.aget([ChatMessage(role="user", content=text)])
        assert all(any(b in e for b in BOB_NOTES) for e in entries(rendered))
    alice_memory = chat_memory(ZettelmemMemoryBlock(memory=seeded, user_id="alice"), token_limit=60)
    for role, text in CHAT:
        await alice_memory.aput(ChatMessage(role=role, content=text))
    rendered = await bob.aget([ChatMessage(role="user", content="sister Jane Porto passport")])
    assert "Jane" not in rendered


async def test_session_scoped_notes_stay_in_their_session(mem: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=mem, user_id="alice", session_scoped=True)
    memory = chat_memory(block, token_limit=60, session="trip")
    for role, text in CHAT:
        await memory.aput(ChatMessage(role=role, content=text))
    assert {n.run_id for n in mem.notes(user_id="alice")} == {"trip"}
    question = [ChatMessage(role="user", content="sister Jane Porto")]
    assert "Jane" in await block.aget(question, session_id="trip")
    assert await block.aget(question, session_id="another") == ""


async def test_reading_does_not_change_the_block(seeded: AgenticMemory) -> None:
    block = ZettelmemMemoryBlock(memory=seeded, user_id="alice")
    before = block.model_dump()
    await block.aget([ChatMessage(role="user", content="beagle")], session_id="s9")
    assert block.model_dump() == before
    assert await block.aget([]) == ""
    assert await block.aget([ChatMessage(role="system", content="You are helpful")]) == ""


@requires_procedural
async def test_include_procedures(mem: AgenticMemory) -> None:
    steps = [
        ("go to countertop 1", "On the countertop 1, you see a mug 1."),
        ("take mug 1 from countertop 1", "You pick up the mug 1."),
        ("go to coffeemachine 1", "On the coffeemachine 1, you see nothing."),
        ("put mug 1 in/on coffeemachine 1", "You put the mug 1 in/on the coffeemachine 1."),
    ]
    trajectory = Trajectory(
        task="put a mug in coffeemachine.",
        steps=[Step(action=a, observation=o) for a, o in steps],
        success=True,
    )
    mem.learn(trajectory, user_id="alice")
    block = ZettelmemMemoryBlock(memory=mem, user_id="alice", include_procedures=True)
    task = "Your task is to: put a cup in coffeemachine."
    rendered = await block.aget([ChatMessage(role="user", content=task)])
    assert "Procedures that worked for similar tasks:" in rendered
