"""The integrations package: lazy framework imports, install hints, exports, shared pieces."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import integrations
from integrations.aio import call_async
from integrations.chat_notes import chat_item, split_chat_content
from integrations.rendering import note_entry, parse_sections, render_sections
from memory import Note, Scope

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("langchain", "langchain_core", "langgraph", "llama_index")


def run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_importing_memory_and_integrations_imports_no_framework() -> None:
    code = f"""
import sys, json
import memory, integrations
from integrations import aio, chat_notes, documents, optional, rendering, toolset
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({list(FRAMEWORKS)!r}))
print(json.dumps(loaded))
"""
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize(
    ("module", "blocked", "hint"),
    [
        ("integrations.langchain", "langchain_core", "pip install langchain-core"),
        ("integrations.llamaindex", "llama_index", "pip install llama-index-core"),
        ("integrations.langgraph_store", "langgraph", "pip install langgraph"),
    ],
)
def test_a_missing_framework_says_what_to_install(module: str, blocked: str, hint: str) -> None:
    code = f"""
import sys
sys.modules[{blocked!r}] = None  # as if it were not installed
try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    raise SystemExit("imported without " + {blocked!r})
"""
    result = run(code)
    assert result.returncode == 0, result.stderr
    assert hint in result.stdout


def test_package_exports_the_adapter_modules_lazily() -> None:
    assert integrations.__all__ == ["langchain", "langgraph_store", "llamaindex"]
    assert integrations.llamaindex.ZettelmemMemoryBlock.__name__ == "ZettelmemMemoryBlock"
    with pytest.raises(AttributeError):
        _ = integrations.nothing_here


@pytest.mark.parametrize(
    "name",
    [
        "aio",
        "chat_notes",
        "documents",
        "langchain",
        "langchain_history",
        "langgraph_store",
        "llamaindex",
        "optional",
        "rendering",
        "toolset",
    ],
)
def test_every_module_exports_what_it_defines(name: str) -> None:
    module = __import__(f"integrations.{name}", fromlist=["__all__"])
    assert module.__all__ and all(hasattr(module, attr) for attr in module.__all__)


async def test_call_async_prefers_the_native_twin() -> None:
    class Native:
        def search(self, query: str) -> str:
            raise AssertionError("the sync method must not be used")

        async def asearch(self, query: str) -> str:
            return f"native {query}"

    class SyncOnly:
        def search(self, query: str) -> tuple[str, int]:
            return query, threading.get_ident()

    assert await call_async(Native(), "search", "q") == "native q"
    query, thread = await call_async(SyncOnly(), "search", "q")
    assert query == "q" and thread != threading.get_ident()


def test_chat_items_round_trip() -> None:
    scope = Scope(user_id="u", run_id="s")
    item = chat_item("user", "  hi: there  ", scope=scope, session="s", extra={"turn": 3})
    assert item is not None
    assert item["content"] == "user: hi: there"
    assert item["metadata"]["turn"] == 3 and item["run_id"] == "s"
    assert split_chat_content(item["content"], "user") == ("user", "hi: there")
    assert split_chat_content("no prefix at all") == (None, "no prefix at all")
    assert chat_item("user", "   ", scope=scope, session="s") is None


texts = st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc"]) | st.just("\n"), min_size=1
).filter(lambda t: t.strip())


@given(st.lists(st.lists(texts, max_size=4), min_size=1, max_size=3))
def test_rendered_sections_parse_back(contents: list[list[str]]) -> None:
    sections = [
        (f"Section {i}:", [note_entry(Note(content=c, kind="concept")) for c in notes])
        for i, notes in enumerate(contents)
    ]
    rendered = render_sections(sections)
    kept = [s for s in sections if s[1]]
    assert parse_sections(rendered) == kept
    assert render_sections(parse_sections(rendered)) == rendered
