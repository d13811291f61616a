"""A LlamaIndex chat loop whose ``Memory`` has Zettelmem as its long-term block.

``llama_index.core.memory.Memory`` keeps the recent messages (up to its token
limit); what it flushes out goes to :class:`ZettelmemMemoryBlock`, which writes
each message as a note. Before every reply the block searches those notes with
the latest user message and puts the best ones into the system prompt, so
facts from an earlier session come back in a new one.

Run it offline (``MockLLM`` stands in for the model)::

    python examples/llamaindex_chat.py

With a real model, change ``make_llm``; nothing else changes::

    from llama_index.llms.openai import OpenAI        # pip install llama-index-llms-openai
    return OpenAI(model="gpt-4o-mini")
    # or: from llama_index.llms.ollama import Ollama  # pip install llama-index-llms-ollama
    #     return Ollama(model="llama3.1", request_timeout=120)

For an agent, pass the same ``Memory`` to ``FunctionAgent(...).run(msg, memory=...)``
and give it ``integrations.llamaindex.memory_tools(mem, user_id=...)`` as tools.
``ZETTELMEM_EMBEDDER=hashing`` swaps MiniLM for the fast test embedder.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_index.core.llms import LLM, ChatMessage, MockLLM  # noqa: E402
from llama_index.core.memory import Memory  # noqa: E402
from llama_index.core.storage.chat_store.sql import MessageStatus  # noqa: E402

from integrations.llamaindex import ZettelmemMemoryBlock  # noqa: E402
from memory import AgenticMemory  # noqa: E402

USER = "alice"
SESSIONS = {
    "monday": [
        "Hi! I'm Alice. My sister Jane lives in Porto and teaches chemistry there.",
        "I'm planning to visit Jane in June; I'll take the night train from Madrid.",
        "Also, I'm vegetarian, so I'll need restaurant tips without meat.",
        "And my passport expires in May, I must renew it before the trip.",
    ],
    "thursday": [
        "What should I sort out before my trip in June?",
        "Which city does my sister live in again?",
    ],
}


def make_memory() -> AgenticMemory:
    """An in-memory store; pass ``path=`` to keep it across runs."""
    choice = os.environ.get("ZETTELMEM_EMBEDDER")
    if choice == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=choice)


def make_llm() -> LLM:
    return MockLLM(max_tokens=12)


def recalled_part(messages: list[ChatMessage]) -> str:
    """The block's text inside the system message the Memory built."""
    system = next((m for m in messages if m.role.value == "system"), None)
    return system.content or "" if system is not None else ""


async def chat(memory: Memory, llm: LLM, text: str) -> None:
    await memory.aput(ChatMessage(role="user", content=text))
    messages = await memory.aget()
    print(f"\nuser: {text}")
    recalled = recalled_part(messages)
    print("  long-term memory the model sees:")
    for line in recalled.splitlines() or ["(nothing)"]:
        print(f"    {line}")
    reply = await llm.achat(messages)
    await memory.aput(reply.message)
    print(f"assistant: {reply.message.content}")


async def main() -> None:
    mem = make_memory()
    llm = make_llm()
    # MockLLM's replies carry nothing worth remembering: keep only the user's words.
    # With a real model, leave remember_roles at its default (user and assistant).
    block = ZettelmemMemoryBlock(memory=mem, user_id=USER, top_k=3, remember_roles=["user"])
    for session, turns in SESSIONS.items():
        print(f"\n=== session {session} ===")
        # A small token limit, so older turns are flushed into the block quickly.
        memory = Memory.from_defaults(
            session_id=session, token_limit=160, token_flush_size=40, memory_blocks=[block]
        )
        for text in turns:
            await chat(memory, llm, text)
        # The session is over: hand what is still in the short-term queue to the
        # block too (Memory only flushes on overflow), then drop the queue.
        remaining = await memory.aget_all(status=MessageStatus.ACTIVE)
        await block.aput(remaining, session_id=session)
        await memory.areset()
    print(f"\n{mem.count(user_id=USER)} messages in long-term memory for {USER}.")
    mem.close()


if __name__ == "__main__":
    asyncio.run(main())
