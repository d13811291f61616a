"""Chroma's failures as our error hierarchy: ``StoreUnavailable`` when the server
cannot be reached, ``StoreError`` for anything else Chroma refuses or fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from memory.errors import StoreError, StoreUnavailable

__all__ = ["translated"]

T = TypeVar("T")

_CONNECTION_ERRORS = frozenset(
    {"ConnectError", "ConnectTimeout", "RemoteProtocolError", "ReadError", "ConnectionError"}
    | {"TransportError", "ReadTimeout", "WriteError"}
)


def _is_connection_error(exc: BaseException) -> bool:
    if {cls.__name__ for cls in type(exc).__mro__} & _CONNECTION_ERRORS:
        return True
    text = str(exc).lower()
    return "could not connect" in text or "connection refused" in text


def translated(action: str, call: Callable[[], T]) -> T:
    """Run a Chroma call, turning its failures into our error hierarchy."""
    try:
        return call()
    except (StoreError, ValueError) as exc:
        if isinstance(exc, StoreError):
            raise
        raise StoreError(f"Chroma rejected {action}: {exc}") from exc
    except Exception as exc:
        if _is_connection_error(exc):
            raise StoreUnavailable(f"Chroma is unreachable during {action}: {exc}") from exc
        raise StoreError(f"Chroma failed during {action}: {exc}") from exc
