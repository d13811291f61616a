"""The llm subpackage's surface: exports, __all__ everywhere, lazy framework imports."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import memory.mind.llm as llm_package

ROOT = Path(__file__).resolve().parents[2]


def test_package_exports_exactly() -> None:
    assert sorted(llm_package.__all__) == [
        "CallPolicy",
        "ChatBackend",
        "ChatReply",
        "ChatTurn",
        "FaithfulnessCheck",
        "LLMMind",
        "LangChainBackend",
        "LlamaIndexBackend",
        "MalformedReply",
        "ModelGate",
        "StructuredCaller",
        "as_chat_backend",
    ]
    for name in llm_package.__all__:
        assert hasattr(llm_package, name)


def test_every_module_declares_all() -> None:
    for info in pkgutil.iter_modules(llm_package.__path__, "memory.mind.llm."):
        module = importlib.import_module(info.name)
        assert isinstance(module.__all__, list), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_importing_the_llm_mind_does_not_import_the_frameworks() -> None:
    code = (
        "import sys, memory, memory.mind.llm\n"
        "from memory.mind.llm import LLMMind, StructuredCaller\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('langchain_core', 'langchain', 'llama_index'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
