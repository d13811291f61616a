"""A LangChain agent that learns from its own runs: one line of middleware.

The agent fixes a failing test twice (two different modules). After the first run the
middleware stores the exchange as notes and the run's tool calls as a trajectory,
which ``learn()`` distils into a procedure; the judge says the run succeeded. Before
the second run's first model call, the middleware recalls that procedure and puts it
in the system prompt, inside ``<zettelmem-memory>`` (within a token budget); the
procedure is then credited with the second run's outcome.

Run it offline (a scripted tool-calling model plays the LLM)::

    python examples/langchain_agent_learning.py

With a real model, pass it to ``create_agent`` instead of ``ScriptedCoder()``; the
middleware and the tools are unchanged::

    from langchain_openai import ChatOpenAI             # pip install langchain-openai
    agent = create_agent(ChatOpenAI(model="gpt-4o-mini"), TOOLS, middleware=[middleware])
    # or "anthropic:claude-sonnet-4-5", ChatOllama(model="llama3.1"), ...

Needs ``pip install "zettelmem[langchain]"``. ``ZETTELMEM_EMBEDDER=hashing`` swaps the
default MiniLM embedder for the fast test embedder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.chat_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from integrations.langchain_middleware import ZettelmemMiddleware  # noqa: E402
from memory import AgenticMemory  # noqa: E402

FILES: dict[str, str] = {}


@tool
def run_tests(path: str) -> str:
    """Run the tests in one file and report the failures."""
    module = path.removeprefix("tests/test_").removesuffix(".py")
    if "BUG" in FILES.get(f"src/{module}.py", "BUG"):
        return f"1 failed: {path}::test_{module} AssertionError"
    return "all tests passed"


@tool
def read_file(path: str) -> str:
    """Read a source file."""
    return FILES.get(path, f"{path}: no such file")


@tool
def write_file(path: str, content: str) -> str:
    """Replace the contents of a source file."""
    FILES[path] = content
    return f"wrote {len(content)} characters to {path}"


TOOLS = [run_tests, read_file, write_file]


class ScriptedCoder(BaseChatModel):
    """Plays what a tool-calling model would do for "fix the failing test in X"."""

    prompts: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "scripted-coder"

    def bind_tools(self, tools: Any, **kwargs: Any) -> ScriptedCoder:  # type: ignore[override]
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.prompts.append(list(messages))
        request = next(m.text for m in reversed(messages) if isinstance(m, HumanMessage))
        done = sum(isinstance(m, ToolMessage) for m in messages)
        module = request.split("test_")[-1].split(".py")[0]
        plan = [
            ("run_tests", {"path": f"tests/test_{module}.py"}),
            ("read_file", {"path": f"src/{module}.py"}),
            ("write_file", {"path": f"src/{module}.py", "content": "def run(x):\n    return x\n"}),
            ("run_tests", {"path": f"tests/test_{module}.py"}),
        ]
        if done < len(plan):
            name, args = plan[done]
            call = {"name": name, "args": args, "id": f"call-{len(self.prompts)}"}
            reply = AIMessage(content="", tool_calls=[call])
        else:
            reply = AIMessage(content=f"Fixed src/{module}.py: the tests pass now.")
        return ChatResult(generations=[ChatGeneration(message=reply)])


def make_memory() -> AgenticMemory:
    """An in-memory store; pass ``path=`` to keep what the agent learns across runs."""
    if os.environ.get("ZETTELMEM_EMBEDDER") == "hashing":
        from memory.embed import HashingEmbedder

        return AgenticMemory(embedder=HashingEmbedder())
    return AgenticMemory(embedder=os.environ.get("ZETTELMEM_EMBEDDER"))


def tests_pass(run: Any) -> bool:
    """The judge: the run succeeded if its last test run passed."""
    return bool(run.tool_calls) and run.tool_calls[-1].result == "all tests passed"


def main() -> None:
    memory = make_memory()
    middleware = ZettelmemMiddleware(memory, judge=tests_pass, token_budget=400)
    model = ScriptedCoder()
    agent = create_agent(
        model, TOOLS, system_prompt="You are a careful coding agent.", middleware=[middleware]
    )
    config = {"configurable": {"user_id": "dev-team"}}  # the scope: set by the application

    for number, module in enumerate(("parser", "lexer"), start=1):
        FILES.update({f"src/{module}.py": "def run(x):\n    return None  # BUG\n"})
        model.prompts.clear()
        request = f"Fix the failing test in tests/test_{module}.py"
        out = agent.invoke({"messages": [{"role": "user", "content": request}]}, config=config)
        print(f"=== run {number}: {request}")
        print(f"answer: {out['messages'][-1].content}")
        print("system prompt of the run's first model call:")
        first_system = [m for m in model.prompts[0] if m.type == "system"][0]
        print("  " + first_system.text.replace("\n", "\n  "))
        print()

    for note in memory.notes(user_id="dev-team"):
        if note.kind == "procedure":
            print(
                f"procedure {note.id[:8]}: used {note.retrieved_count}x, "
                f"{note.success_count} succeeded; learned from runs {note.sources}"
            )
    memory.close()


if __name__ == "__main__":
    main()
