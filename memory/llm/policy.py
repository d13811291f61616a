"""How long, how often and how many at once to call one model client.

    CallPolicy              timeout, retries and concurrency for one client (``for_model``
                            picks defaults for hosted or in-process models)
    is_in_process_model()   does this model run inside this process (llama.cpp, ...)?
    ClientBusy              no slot came free in time (an abandoned call still runs)

The slots themselves live in :mod:`memory.llm.gate`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from memory.errors import InvalidInput, LLMError

__all__ = [
    "HOSTED_CONCURRENCY",
    "HOSTED_RETRIES",
    "HOSTED_TIMEOUT",
    "IN_PROCESS_RETRIES",
    "CallPolicy",
    "ClientBusy",
    "is_in_process_model",
]

HOSTED_TIMEOUT = 60.0
"""Seconds a hosted model gets per call by default (a server that takes longer is stuck)."""
HOSTED_RETRIES = 2
"""Retries for a hosted model by default."""
HOSTED_CONCURRENCY = 4
"""Calls a hosted client may have under way at once by default (abandoned ones included)."""
IN_PROCESS_RETRIES = 1
"""Retries for an in-process model: one more try after an unusable reply; a call costs minutes."""

_IN_PROCESS_MARKERS = ("llama_cpp", "llamacpp", "gpt4all", "ctransformers", "huggingface_pipeline")
"""Module-name fragments of the LangChain / LlamaIndex integrations that run the model in
this process (llama.cpp, GPT4All, CTransformers, transformers pipelines)."""


class ClientBusy(LLMError):
    """No slot of the model client came free in time: an earlier call is still running."""


def is_in_process_model(llm: Any) -> bool:
    """Whether ``llm`` runs the model inside this process, so it is not safe to call twice.

    Judged from the module of the model's class (and of the object it wraps, for a
    backend), e.g. LangChain's ``ChatLlamaCpp`` or LlamaIndex's ``LlamaCPP``. An object
    may say so itself with a ``concurrent_calls`` attribute (an int; 1 = not reentrant).

    Args:
        llm: A LangChain chat model, a LlamaIndex LLM or a ``ChatBackend``.

    Returns:
        ``True`` for in-process models.
    """
    declared = getattr(llm, "concurrent_calls", None)
    if isinstance(declared, int) and not isinstance(declared, bool):
        return declared <= 1
    for obj in (llm, getattr(llm, "_model", None), getattr(llm, "_llm", None)):
        if obj is None:
            continue
        module = (type(obj).__module__ or "").lower()
        if any(marker in module for marker in _IN_PROCESS_MARKERS):
            return True
    return False


@dataclass(frozen=True)
class CallPolicy:
    """How calls to one model client are made.

    Attributes:
        timeout: Seconds to wait for one call, queueing for a free slot included;
            ``None`` waits as long as the model takes.
        max_retries: Retries after the first attempt of a request (an unusable reply, an
            exception or a timeout). A retry never starts while the client's only slot is
            held by an abandoned call: the request then gives up (the fallback decides).
        concurrency: Calls that may be under way on the client at once, abandoned
            (timed-out) calls included; 1 for a client that is not safe for concurrent
            calls (an in-process model).
    """

    timeout: float | None = HOSTED_TIMEOUT
    max_retries: int = HOSTED_RETRIES
    concurrency: int = HOSTED_CONCURRENCY

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise InvalidInput(f"max_retries must be >= 0, got {self.max_retries}")
        if self.timeout is not None and not self.timeout > 0:
            raise InvalidInput(f"timeout must be positive or None, got {self.timeout}")
        if isinstance(self.concurrency, bool) or self.concurrency < 1:
            raise InvalidInput(f"concurrency must be >= 1, got {self.concurrency}")

    @classmethod
    def for_model(
        cls,
        llm: Any,
        *,
        timeout: float | None | str = "auto",
        max_retries: int | None = None,
        concurrency: int | None = None,
    ) -> CallPolicy:
        """Defaults that suit ``llm``, overridden by what is given.

        A hosted model gets ``HOSTED_TIMEOUT`` seconds, 2 retries and
        ``HOSTED_CONCURRENCY`` slots. An in-process model (``is_in_process_model``) gets
        no timeout (its call cannot be stopped, and a caller that stops waiting only
        keeps the CPU busy for nothing), ``IN_PROCESS_RETRIES`` retry and one slot.

        Args:
            llm: The model.
            timeout: Seconds, ``None`` for no timeout, or ``"auto"``.
            max_retries: Retries, or ``None`` for the default.
            concurrency: Slots, or ``None`` for the default.

        Raises:
            InvalidInput: An invalid value.
        """
        local = is_in_process_model(llm)
        if timeout == "auto":
            chosen: float | None = None if local else HOSTED_TIMEOUT
        elif timeout is None or isinstance(timeout, int | float):
            chosen = None if timeout is None else float(timeout)
        else:
            raise InvalidInput(f"timeout must be seconds, None or 'auto', got {timeout!r}")
        if max_retries is None:
            max_retries = IN_PROCESS_RETRIES if local else HOSTED_RETRIES
        if concurrency is None:
            concurrency = 1 if local else HOSTED_CONCURRENCY
        return cls(timeout=chosen, max_retries=max_retries, concurrency=concurrency)
