"""The error raised when an adapter's framework is not installed."""

from __future__ import annotations

__all__ = ["missing_framework"]


def missing_framework(
    adapter: str, package: str, exc: ImportError, *, extra: str | None = None
) -> ImportError:
    """An ``ImportError`` that says what to ``pip install`` for ``adapter``.

    Args:
        adapter: the module that needs the framework, e.g. ``"integrations.langchain"``.
        package: the distribution to install, e.g. ``"langchain-core"``.
        exc: the original import failure (kept in the message; chain it with ``from``).
        extra: Zettelmem's extra that installs it, e.g. ``"langgraph"``.

    Returns:
        The error to raise: ``raise missing_framework(...) from exc``.
    """
    how = f"pip install {package}"
    if extra is not None:
        how += f' (or pip install "zettelmem[{extra}]")'
    return ImportError(f"{adapter} needs {package}, which is not installed: {how}. ({exc})")
