"""The package's public surface."""

from __future__ import annotations

import importlib
import pkgutil

import memory


def test_exports_are_exactly_the_public_api() -> None:
    assert sorted(memory.__all__) == sorted(
        [
            "AgenticMemory",
            "EmbeddingError",
            "Event",
            "InvalidInput",
            "InvalidTrajectory",
            "LLMError",
            "Note",
            "NotFound",
            "Scope",
            "SearchResult",
            "Step",
            "StoreError",
            "StoreLocked",
            "StoreUnavailable",
            "Trajectory",
            "ZettelmemError",
        ]
    )
    for name in memory.__all__:
        assert getattr(memory, name) is not None


def test_every_module_declares_all() -> None:
    for info in pkgutil.walk_packages(memory.__path__, "memory."):
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__") or info.ispkg, f"{info.name} has no __all__"


def test_errors_form_one_hierarchy() -> None:
    for name in ("InvalidInput", "NotFound", "StoreError", "EmbeddingError", "LLMError"):
        assert issubclass(getattr(memory, name), memory.ZettelmemError)
