"""A LangChain tool-calling agent that remembers its user across sessions.

The agent gets Zettelmem three ways:

- ``memory_tools``: the model saves and searches memories itself (tool calls);
- ``ZettelmemRetriever``: before every turn, the user's most relevant memories go
  into the system prompt;
- ``ZettelmemChatMessageHistory``: the conversation itself; every message also
  becomes a note, so later sessions can find it.

Run it offline (a scripted fake chat model plays the LLM)::

    python examples/langchain_agent.py

With a real model, replace ``scripted_model()`` in ``main`` by one that can call
tools, bound to the same tools; the loop is unchanged::

    from langchain_openai import ChatOpenAI            # pip install langchain-openai
    model = ChatOpenAI(model="gpt-4o-mini").bind_tools(tools)
    # or: from langchain_ollama import ChatOllama      # pip install langchain-ollama
    #     model = ChatOllama(model="llama3.1").bind_tools(tools)

``ZETTELMEM_EMBEDDER=hashing`` swaps the default MiniLM embedder for the fast
test embedder; any sentence-transformers model name works too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain_core.language_models import BaseChatModel  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import (  # noqa: E402
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.runnables import Runnable  # noqa: E402
from langchain_core.tools import BaseTool  # noqa: E402

from integrations.langchain import (  # noqa: E402
    ZettelmemChatMessageHistory,
    ZettelmemRetriever,
    memory_tools,
)
from memory import AgenticMemory  # noqa: E402

USER = "alice"


def make_memory() -> AgenticMemory:
    """An in-memory store; pass ``path=`` to keep it across runs."""
    choice = os.environ.get("ZETTELMEM_EMBEDDER")
    if choice == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=choice)


def tool_call(name: str, call_id: str, **args: object) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])


def scripted_model() -> BaseChatModel:
    """What a real model would answer in this demo, scripted: tool calls, then replies."""
    script = [
        # session 1, turn 1: the user tells two facts; the model saves both.
        tool_call("save_memory", "c1", content="Alice is allergic to peanuts."),
        tool_call("save_memory", "c2", content="Alice adopted a beagle called Rex."),
        AIMessage("Got it: no peanuts, and say hi to Rex from me!"),
        # session 2, turn 1: the model checks memory before suggesting a snack.
        tool_call("search_memory", "c3", query="Alice food allergies", k=3),
        AIMessage("How about apple slices with sunflower-seed butter? No peanuts involved."),
        # session 2, turn 2
        tool_call("search_memory", "c4", query="Alice's dog", k=2),
        AIMessage("Your beagle Rex would love a long walk in the park."),
    ]
    return GenericFakeChatModel(messages=iter(script))


def run_turn(
    model: Runnable,
    tools: Sequence[BaseTool],
    retriever: ZettelmemRetriever,
    history: ZettelmemChatMessageHistory,
    text: str,
) -> str:
    """One user turn: recall, let the model call tools until it answers, remember."""
    recalled = retriever.invoke(text)
    print(f"\nuser: {text}")
    print(f"  recalled by the retriever ({len(recalled)}):")
    for doc in recalled:
        print(f"    - {doc.page_content}  (score {doc.metadata['score']:.3f})")
    context = "\n".join(f"- {doc.page_content}" for doc in recalled) or "(nothing yet)"
    system = SystemMessage(f"You are a helpful assistant. What you remember:\n{context}")
    question = HumanMessage(text)
    turn: list[BaseMessage] = [question]
    by_name = {tool.name: tool for tool in tools}
    while True:
        reply = model.invoke([system, *history.messages, *turn])
        turn.append(reply)
        if not isinstance(reply, AIMessage) or not reply.tool_calls:
            break
        for call in reply.tool_calls:
            result = by_name[call["name"]].invoke({**call, "type": "tool_call"})
            print(f"  tool {call['name']}({call['args']}) ->")
            for line in str(result.content).splitlines():
                print(f"    {line}")
            turn.append(result)
    history.add_messages(turn)
    print(f"assistant: {reply.content}")
    return str(reply.content)


def main() -> None:
    memory = make_memory()
    tools = memory_tools(memory, user_id=USER)
    retriever = ZettelmemRetriever(memory=memory, user_id=USER, k=3)
    model = scripted_model()  # a real model: ChatOpenAI(...).bind_tools(tools)

    print("=== session 1 ===")
    first = ZettelmemChatMessageHistory(memory, "session-1", user_id=USER)
    run_turn(
        model, tools, retriever, first, "I'm allergic to peanuts, and I just adopted a beagle, Rex!"
    )

    print("\n=== session 2 (a new conversation: the window is empty) ===")
    second = ZettelmemChatMessageHistory(memory, "session-2", user_id=USER)
    run_turn(model, tools, retriever, second, "Can you suggest a snack for me?")
    run_turn(model, tools, retriever, second, "Any idea for this weekend?")

    print(f"\n{memory.count(user_id=USER)} notes remembered for {USER}; other users see none:")
    print(f"  search as bob -> {memory.search('peanuts', user_id='bob')}")
    memory.close()


if __name__ == "__main__":
    main()
