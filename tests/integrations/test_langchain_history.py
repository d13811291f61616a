"""ZettelmemChatMessageHistory: window, notes per message, reload, RunnableWithMessageHistory."""

from __future__ import annotations

from datetime import datetime

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableConfig
from langchain_core.runnables.history import RunnableWithMessageHistory

from integrations.langchain import (
    ZettelmemChatMessageHistory,
    ZettelmemRetriever,
    coherent_tool_calls,
)
from memory import AgenticMemory


def test_every_message_becomes_a_note_of_the_session(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    history.add_messages([HumanMessage("I love hiking"), AIMessage("Noted!")])
    notes = mem.notes(user_id="alice", run_id="s1")
    assert [n.content for n in notes] == ["user: I love hiking", "assistant: Noted!"]
    for turn, note in enumerate(notes):
        assert note.metadata["session"] == "s1"
        assert note.metadata["turn"] == turn
        assert note.metadata["role"] in {"user", "assistant"}
        assert datetime.fromisoformat(note.metadata["time"]) == note.timestamp
        assert (note.user_id, note.run_id) == ("alice", "s1")


def test_window_keeps_recent_messages_and_memory_keeps_all(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", user_id="alice", window=3)
    for i in range(5):
        history.add_user_message(f"message number {i}")
    assert [m.content for m in history.messages] == [f"message number {i}" for i in (2, 3, 4)]
    assert mem.count(run_id="s1") == 5
    retriever = ZettelmemRetriever(memory=mem, user_id="alice", k=1)
    assert retriever.invoke("message number 0")[0].page_content == "user: message number 0"


def test_a_new_history_reloads_the_conversation_exactly(mem: AgenticMemory) -> None:
    first = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    call = {"name": "search_memory", "args": {"query": "food"}, "id": "call-1"}
    sent = [
        SystemMessage("You are helpful."),
        HumanMessage("What do I like to eat?", id="h1"),
        AIMessage("", tool_calls=[call]),
        ToolMessage("Alice likes risotto.", tool_call_id="call-1"),
        AIMessage("You like risotto.", response_metadata={"model": "fake"}),
    ]
    first.add_messages(sent)
    assert first.messages == sent
    notes = mem.notes(run_id="s1")
    assert [n.content for n in notes] == [
        "user: What do I like to eat?",
        "assistant: You like risotto.",
    ]
    again = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    assert again.messages == [sent[1], sent[4]]
    again.add_user_message("thanks")
    assert mem.notes(run_id="s1", filters={"turn": 5})[0].content == "user: thanks"
    assert ZettelmemChatMessageHistory(mem, "s1", user_id="alice", load=False).messages == []


def test_remember_every_role(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", remember_roles=None)
    call = {"name": "search_memory", "args": {"query": "food"}, "id": "call-1"}
    history.add_messages(
        [
            SystemMessage("You are helpful."),
            AIMessage("Let me look.", tool_calls=[call]),
            ToolMessage("Alice likes risotto.", tool_call_id="call-1"),
        ]
    )
    assert [n.metadata["role"] for n in mem.notes()] == ["system", "assistant", "tool"]
    reloaded = ZettelmemChatMessageHistory(mem, "s1").messages
    assert isinstance(reloaded[1], AIMessage) and reloaded[1].tool_calls[0]["id"] == "call-1"
    assert reloaded[2].content == "Alice likes risotto."


def test_the_window_never_splits_a_tool_exchange(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", window=2)
    calls = [{"name": "search_memory", "args": {"query": q}, "id": f"call-{q}"} for q in ("a", "b")]
    history.add_messages(
        [
            HumanMessage("question"),
            AIMessage("Searching twice.", tool_calls=calls),
            ToolMessage("result a", tool_call_id="call-a"),
            ToolMessage("result b", tool_call_id="call-b"),
        ]
    )
    window = history.messages  # the AI message with the calls fell out of the window
    assert window == []
    history.add_ai_message("Done.")
    assert [m.content for m in history.messages] == ["Done."]
    kept = coherent_tool_calls(
        [AIMessage("Searching.", tool_calls=calls), ToolMessage("result a", tool_call_id="call-a")]
    )
    assert len(kept) == 1 and isinstance(kept[0], AIMessage)
    assert kept[0].content == "Searching." and not kept[0].tool_calls


def test_sessions_and_users_are_isolated(mem: AgenticMemory) -> None:
    ZettelmemChatMessageHistory(mem, "s1", user_id="alice").add_user_message("alice secret")
    ZettelmemChatMessageHistory(mem, "s1", user_id="bob").add_user_message("bob secret")
    ZettelmemChatMessageHistory(mem, "s2", user_id="alice").add_user_message("other session")
    assert [m.content for m in ZettelmemChatMessageHistory(mem, "s1", user_id="bob").messages] == [
        "bob secret"
    ]
    alice_s1 = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    assert [m.content for m in alice_s1.messages] == ["alice secret"]
    bob = ZettelmemRetriever(memory=mem, user_id="bob", k=10)
    assert all("bob" in d.page_content for d in bob.invoke("secret session"))


def test_clear_keeps_the_notes_unless_asked(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    history.add_messages([HumanMessage("hello"), AIMessage("hi")])
    mem.add("Alice's note outside the chat", user_id="alice", run_id="s1")
    history.clear()
    assert history.messages == []
    assert mem.count(run_id="s1") == 3
    erasing = ZettelmemChatMessageHistory(mem, "s1", user_id="alice", clear_memory=True)
    assert len(erasing.messages) == 2
    erasing.clear()
    assert erasing.messages == []
    assert [n.content for n in mem.notes(run_id="s1")] == ["Alice's note outside the chat"]
    assert ZettelmemChatMessageHistory(mem, "s1", user_id="alice").messages == []


def test_a_message_the_memory_rejects_changes_nothing(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", user_id="alice")
    with pytest.raises(ValueError):
        history.add_messages([HumanMessage("fine"), HumanMessage("bad\x00byte")])
    assert history.messages == []
    assert mem.count() == 0


def test_window_must_be_positive(mem: AgenticMemory) -> None:
    with pytest.raises(ValueError):
        ZettelmemChatMessageHistory(mem, "s1", window=0)


async def test_async_add_and_get(mem: AgenticMemory) -> None:
    history = ZettelmemChatMessageHistory(mem, "s1", user_id="alice", window=2)
    await history.aadd_messages([HumanMessage("one"), AIMessage("two"), HumanMessage("three")])
    assert [m.content for m in await history.aget_messages()] == ["two", "three"]
    assert mem.count(run_id="s1") == 3
    history.clear_memory = True
    await history.aclear()
    assert mem.count(run_id="s1") == 0


def test_runnable_with_message_history(mem: AgenticMemory) -> None:
    model = FakeListChatModel(responses=["Nice to meet you, Alice!", "You told me: hiking."])
    prompt = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{input}")]
    )
    chain = RunnableWithMessageHistory(
        prompt | model,
        lambda session_id: ZettelmemChatMessageHistory(mem, session_id, user_id="alice"),
        input_messages_key="input",
        history_messages_key="history",
    )
    config: RunnableConfig = {"configurable": {"session_id": "chat-1"}}
    chain.invoke({"input": "Hi, I'm Alice and I love hiking."}, config=config)
    chain.invoke({"input": "What do I love?"}, config=config)
    history = ZettelmemChatMessageHistory(mem, "chat-1", user_id="alice")
    assert [m.type for m in history.messages] == ["human", "ai", "human", "ai"]
    assert history.messages[-1].content == "You told me: hiking."
    # Both the statement and the reply that repeats it match; thread-context ranking
    # (benchmarks/locomo_retrieval.py) may put the reply to "What do I love?" first.
    hits = mem.search("love hiking", user_id="alice", k=2)
    assert "user: Hi, I'm Alice and I love hiking." in [h.note.content for h in hits]
    assert all("hiking" in h.note.content for h in hits)
