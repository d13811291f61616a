"""A LlamaIndex FunctionAgent that learns from its own runs: one wrapper around ``run``.

The agent adds a dependency to a project twice (two different packages). The hooks
capture each run's tool calls from its ``ToolCallResult`` events; when the run ends
they store the exchange as notes, learn the run as a trajectory (the judge says it
succeeded) and credit the procedures the run was shown. The second run's memory block
recalls the procedure learned from the first, and every LLM call of that run sees it
in the system prompt, inside ``<zettelmem-memory>``.

Run it offline (a scripted function-calling LLM plays the model)::

    python examples/llamaindex_agent_learning.py

With a real model, build the agent with it; the hooks are unchanged::

    from llama_index.llms.openai import OpenAI          # pip install llama-index-llms-openai
    agent = FunctionAgent(llm=OpenAI(model="gpt-4o-mini"), tools=TOOLS)
    # or: from llama_index.llms.ollama import Ollama; Ollama(model="llama3.1")

``ZETTELMEM_EMBEDDER=hashing`` swaps the default MiniLM embedder for the fast test
embedder.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult  # noqa: E402
from llama_index.core.base.llms.types import (  # noqa: E402
    ChatMessage,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.llms.mock import MockFunctionCallingLLM  # noqa: E402
from llama_index.core.tools import FunctionTool  # noqa: E402

from integrations.llamaindex_agent import ZettelmemAgentHooks  # noqa: E402
from memory import AgenticMemory  # noqa: E402

PROJECT: dict[str, Any] = {"pyproject": "dependencies = []", "installed": set()}


def read_file(path: str) -> str:
    """Read a project file."""
    return PROJECT["pyproject"] if path == "pyproject.toml" else f"{path}: no such file"


def write_file(path: str, content: str) -> str:
    """Replace a project file."""
    PROJECT["pyproject"] = content
    return f"wrote {len(content)} characters to {path}"


def install_package(name: str) -> str:
    """Install a package into the project's environment."""
    PROJECT["installed"].add(name)
    return f"Successfully installed {name}"


TOOLS = [FunctionTool.from_defaults(fn) for fn in (read_file, write_file, install_package)]
PROMPTS: list[list[ChatMessage]] = []


def scripted_reply(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
    """What a function-calling model would do for "add <package> as a dependency"."""
    PROMPTS.append(list(messages))
    request = next(m.content or "" for m in reversed(messages) if m.role == MessageRole.USER)
    done = sum(m.role == MessageRole.TOOL for m in messages)
    package = request.split("Add ")[-1].split(" ")[0]
    plan = [
        ("read_file", {"path": "pyproject.toml"}),
        ("write_file", {"path": "pyproject.toml", "content": f'dependencies = ["{package}"]'}),
        ("install_package", {"name": package}),
    ]
    if done < len(plan):
        name, args = plan[done]
        call = ToolCallBlock(tool_call_id=f"call-{len(PROMPTS)}", tool_name=name, tool_kwargs=args)
        return ChatMessage(role=MessageRole.ASSISTANT, blocks=[call])
    return ChatMessage(role=MessageRole.ASSISTANT, content=f"{package} is declared and installed.")


def make_memory() -> AgenticMemory:
    """An in-memory store; pass ``path=`` to keep what the agent learns across runs."""
    if os.environ.get("ZETTELMEM_EMBEDDER") == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=os.environ.get("ZETTELMEM_EMBEDDER"))


def installed(run: Any) -> bool:
    """The judge: the run succeeded if its install call succeeded."""
    return any(c.result.startswith("Successfully installed") for c in run.tool_calls)


async def main() -> None:
    memory = make_memory()
    hooks = ZettelmemAgentHooks(memory, judge=installed, token_budget=400)
    llm = MockFunctionCallingLLM(response_generator=scripted_reply, is_chat_model=True)
    agent = FunctionAgent(llm=llm, tools=TOOLS, system_prompt="You maintain a Python project.")

    for number, package in enumerate(("httpx", "rich"), start=1):
        PROMPTS.clear()
        request = f"Add {package} as a dependency of the project."
        run = hooks.run(agent, request, user_id="dev-team")  # instead of agent.run(request)
        async for event in run.stream_events():
            if isinstance(event, ToolCallResult):
                print(f"  tool {event.tool_name}({event.tool_kwargs}) -> {event.tool_output}")
        output = await run
        print(f"=== run {number}: {request}\nanswer: {output.response.content}")
        print("memory section of the run's first LLM call:")
        sections = [m.content or "" for m in PROMPTS[0] if "zettelmem-memory" in (m.content or "")]
        print("  " + (sections[0] if sections else "(none)").replace("\n", "\n  ") + "\n")

    for note in memory.notes(user_id="dev-team"):
        if note.kind == "procedure":
            print(
                f"procedure {note.id[:8]}: used {note.retrieved_count}x, "
                f"{note.success_count} succeeded; learned from runs {note.sources}"
            )
    memory.close()


if __name__ == "__main__":
    asyncio.run(main())
