"""Token counts: read from what the framework reports, estimated when it reports nothing.

    estimate_tokens()            ~4 characters a token, never 0 for non-empty text
    estimate_prompt_tokens()     the same for a list of chat messages
    langchain_token_counts()     AIMessage.usage_metadata / response_metadata
    llamaindex_token_counts()    ChatResponse.raw / additional_kwargs, provider shapes

Providers report usage under different names (``input_tokens`` / ``prompt_tokens`` /
``prompt_eval_count``); each reader returns ``(prompt, completion)`` or ``None`` when
nothing usable is there, and the caller falls back to ``estimate_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "estimate_prompt_tokens",
    "estimate_tokens",
    "langchain_token_counts",
    "llamaindex_token_counts",
]

TokenCounts = tuple[int, int]

_PROMPT_KEYS = ("input_tokens", "prompt_tokens", "prompt_eval_count", "promptTokenCount")
_COMPLETION_KEYS = (
    "output_tokens",
    "completion_tokens",
    "eval_count",
    "candidatesTokenCount",
)
_MESSAGE_OVERHEAD = 4  # role markers and separators each chat message costs


def estimate_tokens(*texts: str | None) -> int:
    """Estimate the tokens of some texts at about four characters a token.

    Args:
        *texts: Texts (``None`` counts as empty).

    Returns:
        The estimate; 0 only when every text is empty.
    """
    total = 0
    for text in texts:
        if text:
            total += max(1, round(len(text) / 4))
    return total


def estimate_prompt_tokens(messages: Sequence[tuple[str, str]]) -> int:
    """Estimate a chat prompt: the texts plus a few tokens per message."""
    return sum(estimate_tokens(text) + _MESSAGE_OVERHEAD for _, text in messages)


def _get(source: Any, key: str) -> Any:
    if isinstance(source, Mapping):
        return source.get(key)
    return getattr(source, key, None)


def _counts_in(source: Any) -> TokenCounts | None:
    """``(prompt, completion)`` from a mapping or object holding usage fields."""
    if source is None:
        return None
    prompt = next((v for k in _PROMPT_KEYS if isinstance(v := _get(source, k), int)), None)
    completion = next((v for k in _COMPLETION_KEYS if isinstance(v := _get(source, k), int)), None)
    if prompt is None and completion is None:
        return None
    return prompt or 0, completion or 0


def langchain_token_counts(message: Any) -> TokenCounts | None:
    """Token counts a LangChain ``AIMessage`` reports, if any.

    Args:
        message: The model's reply message.

    Returns:
        ``(prompt_tokens, completion_tokens)``, or ``None`` when not reported.
    """
    counts = _counts_in(getattr(message, "usage_metadata", None))
    if counts is not None:
        return counts
    metadata = getattr(message, "response_metadata", None) or {}
    for key in ("token_usage", "usage"):
        counts = _counts_in(metadata.get(key))
        if counts is not None:
            return counts
    return _counts_in(metadata)


def llamaindex_token_counts(response: Any) -> TokenCounts | None:
    """Token counts a LlamaIndex ``ChatResponse`` reports, if any.

    Looks at ``additional_kwargs`` (OpenAI-style integrations copy usage there),
    then ``raw.usage`` (OpenAI / Anthropic objects or dicts), then ``raw`` itself
    (Ollama-style ``prompt_eval_count`` / ``eval_count``).

    Args:
        response: The model's ``ChatResponse``.

    Returns:
        ``(prompt_tokens, completion_tokens)``, or ``None`` when not reported.
    """
    for source in (
        getattr(response, "additional_kwargs", None),
        _get(getattr(response, "raw", None), "usage"),
        getattr(response, "raw", None),
    ):
        counts = _counts_in(source)
        if counts is not None:
            return counts
    return None
