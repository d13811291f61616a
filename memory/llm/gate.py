"""How calls reach one model client: timeouts, retries and concurrency that cannot corrupt it.

    CallPolicy              timeout, retries and concurrency for one client (``for_model``
                            picks defaults for hosted or in-process models)
    ModelGate               the slots of one client: calls under way, abandoned ones included
    gate_for()              the one gate of a client object, shared by every caller of it
    is_in_process_model()   does this model run inside this process (llama.cpp, ...)?
    ClientBusy              no slot came free in time (an abandoned call still runs)

A blocking call cannot be interrupted: when a caller stops waiting for it, the call goes
on in its thread. Starting another call on the same client then is what crashes an
in-process model (two generations inside one ``llama_cpp.Llama``: a segmentation fault)
and piles abandoned generations onto a server. So a call holds a slot of its client's
gate from the moment it starts until it *really* ends -- not until its caller gives up --
and a new call (a retry, or the next request) needs a free slot. A client that is not
safe for concurrent calls has one slot; one that is (a hosted API) has a few, which also
bounds the abandoned generations a slow server can accumulate.

Async calls to a concurrency-safe client are cancelled for real (``asyncio.wait_for`` on
``ainvoke`` / ``achat``), so they hold their slot only while awaited. A client with one
slot is driven through its blocking API in a tracked thread even from async code:
frameworks run in-process models in an executor thread when awaited, and cancelling the
awaitable would not stop that thread -- the gate would think the client free while it is
not.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from memory.errors import InvalidInput
from memory.llm.policy import (
    HOSTED_CONCURRENCY,
    HOSTED_RETRIES,
    HOSTED_TIMEOUT,
    CallPolicy,
    ClientBusy,
    is_in_process_model,
)

__all__ = [
    "HOSTED_CONCURRENCY",
    "HOSTED_RETRIES",
    "HOSTED_TIMEOUT",
    "CallPolicy",
    "ClientBusy",
    "ModelGate",
    "gate_for",
    "is_in_process_model",
]

logger = logging.getLogger(__name__)

ResultT = TypeVar("ResultT")


class ModelGate:
    """The slots of one model client: at most ``slots`` calls under way, abandoned included.

    Args:
        slots: Calls that may run at once (1 = the client is not reentrant).

    Attributes:
        peak: The most calls ever under way at once (for tests and diagnostics).
    """

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise InvalidInput(f"a gate needs at least one slot, got {slots}")
        self.slots = slots
        self.peak = 0
        self._busy = 0
        self._abandoned = 0
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._async_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    @property
    def busy(self) -> int:
        """Calls under way now (those abandoned by their caller included)."""
        with self._lock:
            return self._busy

    @property
    def abandoned(self) -> int:
        """Calls whose caller stopped waiting but that still run."""
        with self._lock:
            return self._abandoned

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no call is under way (e.g. before freeing an in-process model).

        Returns:
            ``False`` when calls were still running after ``timeout`` seconds.
        """
        with self._freed:
            return self._freed.wait_for(lambda: self._busy == 0, timeout)

    def _take(self) -> bool:
        if self._busy >= self.slots:
            return False
        self._busy += 1
        self.peak = max(self.peak, self._busy)
        return True

    def acquire(self, timeout: float | None) -> bool:
        """Take a slot, waiting at most ``timeout`` seconds (``None``: as long as it takes)."""
        with self._freed:
            return self._freed.wait_for(self._take, timeout)

    async def aacquire(self, timeout: float | None) -> bool:
        """Take a slot without blocking the event loop; ``False`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            with self._lock:
                if self._take():
                    return True
                waiter: asyncio.Future[None] = loop.create_future()
                self._async_waiters.append((loop, waiter))
            left = None if deadline is None else deadline - loop.time()
            try:
                if left is not None and left <= 0:
                    return False
                await asyncio.wait_for(waiter, left)
            except TimeoutError:
                return False
            finally:
                self._forget(waiter)

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        with self._lock:
            self._async_waiters = [(lp, w) for lp, w in self._async_waiters if w is not waiter]

    def release(self, *, abandoned: bool = False) -> None:
        """Free a slot: its call really ended (``abandoned``: after its caller gave up)."""
        with self._freed:
            self._busy -= 1
            if abandoned:
                self._abandoned -= 1
            waiters, self._async_waiters = self._async_waiters, []
            self._freed.notify_all()
        for loop, waiter in waiters:  # every waiter retries; the losers wait again
            try:
                loop.call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # that event loop is closed: nobody waits there any more
                continue

    def _abandon(self) -> None:
        with self._lock:
            self._abandoned += 1

    def run(self, fn: Callable[[], ResultT], timeout: float | None) -> ResultT:
        """Run the blocking ``fn`` in a slot; give up waiting after ``timeout`` seconds.

        Queueing for the slot counts against ``timeout``. Without a timeout ``fn`` runs
        in the calling thread. With one, it runs in a daemon thread that keeps the slot
        until ``fn`` returns, even after the caller gave up.

        Raises:
            ClientBusy: No slot came free within ``timeout``; ``fn`` never ran.
            TimeoutError: ``fn`` started but did not return within ``timeout``.
        """
        started = time.monotonic()
        if not self.acquire(timeout):
            raise ClientBusy(self._busy_message(timeout))
        if timeout is None:
            try:
                return fn()
            finally:
                self.release()
        left = max(0.0, timeout - (time.monotonic() - started))
        return self._in_thread(fn, left)

    async def arun_blocking(self, fn: Callable[[], ResultT], timeout: float | None) -> ResultT:
        """Async ``run``: the blocking ``fn`` in a tracked thread, awaited up to ``timeout``.

        Raises:
            ClientBusy: No slot came free within ``timeout``.
            TimeoutError: ``fn`` did not return in time (it goes on, holding its slot).
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not await self.aacquire(timeout):
            raise ClientBusy(self._busy_message(timeout))
        outcome: asyncio.Future[ResultT] = loop.create_future()
        state = _ThreadCall(self)

        def deliver(value: Any, error: BaseException | None) -> None:
            if outcome.done():
                return
            if error is not None:
                outcome.set_exception(error)
            else:
                outcome.set_result(value)

        state.start(fn, lambda v, e: loop.call_soon_threadsafe(deliver, v, e))
        left = None if timeout is None else max(0.0, timeout - (loop.time() - started))
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), left)
        except BaseException:
            state.abandon()
            raise

    async def arun(self, make: Callable[[], Any], timeout: float | None) -> Any:
        """Await the coroutine ``make()`` in a slot, cancelled for real after ``timeout``.

        For clients whose async calls stop when cancelled (HTTP clients).

        Raises:
            ClientBusy: No slot came free within ``timeout``.
            TimeoutError: The call did not finish in time (it was cancelled).
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not await self.aacquire(timeout):
            raise ClientBusy(self._busy_message(timeout))
        try:
            left = None if timeout is None else max(0.0, timeout - (loop.time() - started))
            return await asyncio.wait_for(make(), left)
        finally:
            self.release()

    def _in_thread(self, fn: Callable[[], ResultT], timeout: float) -> ResultT:
        done = threading.Event()
        box: dict[str, Any] = {}

        def deliver(value: Any, error: BaseException | None) -> None:
            box["value"], box["error"] = value, error
            done.set()

        state = _ThreadCall(self)
        state.start(fn, deliver)
        if not done.wait(timeout) and state.abandon():
            raise TimeoutError(f"the model did not answer within {timeout:g}s")
        done.wait()  # it finished just as the caller gave up: its result is on the way
        return self._unbox(box)

    @staticmethod
    def _unbox(box: dict[str, Any]) -> Any:
        if box.get("error") is not None:
            raise box["error"]
        return box["value"]

    def _busy_message(self, timeout: float | None) -> str:
        return (
            f"the model client had no free slot within {timeout:g}s "
            f"({self.slots} slot(s); {self.abandoned} call(s) abandoned but still running)"
        )


class _ThreadCall:
    """One blocking call in its own thread, holding a gate slot until it really returns."""

    def __init__(self, gate: ModelGate) -> None:
        self._gate = gate
        self._lock = threading.Lock()
        self.finished = False
        self.abandoned = False

    def start(
        self, fn: Callable[[], Any], deliver: Callable[[Any, BaseException | None], Any]
    ) -> None:
        """Run ``fn`` in a daemon thread; ``deliver(value, error)`` when it returns."""
        context = contextvars.copy_context()  # keeps tracing/callback context vars

        def run() -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = context.run(fn)
            except BaseException as exc:  # handed to the waiting caller
                error = exc
            with self._lock:
                self.finished = True
                abandoned = self.abandoned
            try:  # the result first, so a caller that did not give up sees it at once
                deliver(value, error)
            except RuntimeError:  # the caller's event loop closed meanwhile
                logger.debug("an abandoned call's result had nowhere to go")
            finally:  # whatever happened, the model is free again
                self._gate.release(abandoned=abandoned)
            if abandoned:
                logger.info("an abandoned model call ended; its client slot is free again")

        threading.Thread(target=run, name="zettelmem-llm-call", daemon=True).start()

    def abandon(self) -> bool:
        """The caller stops waiting; the slot stays taken until the call returns.

        Returns:
            ``False`` when the call had already finished (nothing was abandoned).
        """
        with self._lock:
            if self.finished:
                return False
            if not self.abandoned:
                self.abandoned = True
                self._gate._abandon()
        logger.warning(
            "a model call was abandoned after its timeout; it keeps its client slot until it ends"
        )
        return True


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


_GATES: dict[int, tuple[Callable[[], Any], ModelGate]] = {}
_GATES_LOCK = threading.Lock()


def gate_for(client: Any, slots: int) -> ModelGate:
    """The gate of ``client``, shared by every caller that uses the same object.

    Two memories (or the LLM mind and a distiller) built on one model object must not
    each think the model free. The first caller's ``slots`` wins; a later, different
    request is logged.

    Args:
        client: The user's model object (LangChain / LlamaIndex model or backend).
        slots: Concurrent calls allowed on it.
    """
    key = id(client)
    with _GATES_LOCK:
        entry = _GATES.get(key)
        if entry is not None:
            known, gate = entry
            if known() is client:
                if gate.slots != slots:
                    logger.info(
                        "model client already has a gate with %d slot(s); keeping it (asked %d)",
                        gate.slots,
                        slots,
                    )
                return gate
        gate = ModelGate(slots)
        ref: Callable[[], Any]
        try:
            ref = weakref.ref(client, lambda _: _drop(key))
        except TypeError:  # not weak-referenceable: kept alive, so its id is never reused
            ref = _strong(client)
        _GATES[key] = (ref, gate)
        return gate


def _strong(client: Any) -> Callable[[], Any]:
    return lambda: client


def _drop(key: int) -> None:
    with _GATES_LOCK:
        entry = _GATES.get(key)
        if entry is not None and entry[0]() is None:
            del _GATES[key]
