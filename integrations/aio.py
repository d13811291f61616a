"""Async calls into an ``AgenticMemory`` that work whichever twins it has.

The engine's native ``a*`` twins (``asearch``, ``aadd``, ...) are used when the
memory has them; otherwise the sync method runs in a worker thread, so an event
loop is never blocked by embedding or store I/O.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["call_async"]


async def call_async(memory: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    """Await ``memory.a<method>(...)`` if it exists, else run ``memory.<method>`` in a thread.

    Args:
        memory: an ``AgenticMemory`` (or anything with the same methods).
        method: the sync method's name, e.g. ``"search"``.
        *args: positional arguments of the call.
        **kwargs: keyword arguments of the call.

    Returns:
        What the method returns.
    """
    native = getattr(memory, f"a{method}", None)
    if native is not None:
        return await native(*args, **kwargs)
    return await asyncio.to_thread(getattr(memory, method), *args, **kwargs)
