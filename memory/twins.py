"""How an async twin is documented: the sync method's Args / Returns / Raises.

SYNC_ONLY      public methods without an async twin, and why
twin_of(sync)  decorator giving a twin the sync method's docs after its summary
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["SYNC_ONLY", "twin_of"]

SYNC_ONLY = {
    "close": "instant, and must run even when no event loop is left (``with`` blocks, "
    "interpreter exit); call it from async code as it is",
}
"""Public methods without an async twin, and why."""

Method = TypeVar("Method", bound=Callable[..., Any])


def twin_of(sync: Callable[..., Any]) -> Callable[[Method], Method]:
    """Give an async twin the sync method's Args / Returns / Raises after its summary."""

    def document(twin: Method) -> Method:
        own = inspect.cleandoc(twin.__doc__ or "")
        theirs = inspect.cleandoc(sync.__doc__ or "")
        start = theirs.find("\nArgs:")
        twin.__doc__ = own if start < 0 else f"{own}\n{theirs[start:]}"
        return twin

    return document
