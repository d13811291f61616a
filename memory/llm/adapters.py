"""One small chat interface over LangChain and LlamaIndex models.

    ChatBackend (protocol)      send / asend (text), send_structured / asend_structured
     ├── LangChainBackend       any langchain_core BaseChatModel (invoke / ainvoke,
     │                          with_structured_output(include_raw=True))
     └── LlamaIndexBackend      any llama_index LLM (chat / achat, structured_predict /
                                astructured_predict when is_function_calling_model)
    ChatReply                   what one call returned: text or parsed object, token counts
    as_chat_backend()           wrap whatever model the user passed

Neither framework is imported here at module level: importing ``memory`` must work
without them. A model's framework is found by an ``isinstance`` check against classes
of modules that are already imported (an instance of a class implies its module is
loaded), then by duck typing. Any object with the four ``ChatBackend`` methods is
used as is, so tests and users can plug in their own transport.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ValidationError

from memory.errors import InvalidInput
from memory.llm.parsing import describe_error
from memory.llm.tokens import langchain_token_counts, llamaindex_token_counts

__all__ = [
    "ChatBackend",
    "ChatReply",
    "ChatTurn",
    "LangChainBackend",
    "LlamaIndexBackend",
    "as_chat_backend",
]

Role = Literal["system", "user", "assistant"]
ChatTurn = tuple[Role, str]
"""One chat message as ``(role, text)``."""


@dataclass
class ChatReply:
    """What one model call returned.

    Attributes:
        text: The reply text (text mode), if any.
        parsed: The validated object (native structured mode), if the framework produced one.
        error: Why a native structured reply could not be parsed, when the framework said so.
        prompt_tokens: Reported prompt tokens, ``None`` when the framework reported none.
        completion_tokens: Reported completion tokens, ``None`` when not reported.
    """

    text: str | None = None
    parsed: BaseModel | None = None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@runtime_checkable
class ChatBackend(Protocol):
    """A chat model reduced to what the LLM mind needs."""

    name: str

    @property
    def supports_native(self) -> bool:
        """Whether ``send_structured`` may be tried at all."""
        ...

    def send(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Send a chat and return the reply text."""
        ...

    async def asend(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Async twin of ``send``."""
        ...

    def send_structured(self, messages: Sequence[ChatTurn], schema: type[BaseModel]) -> ChatReply:
        """Ask for ``schema`` through the framework's structured output.

        Raises:
            NotImplementedError: The model has no native structured output.
        """
        ...

    async def asend_structured(
        self, messages: Sequence[ChatTurn], schema: type[BaseModel]
    ) -> ChatReply:
        """Async twin of ``send_structured``."""
        ...


def _message_text(message: Any) -> str | None:
    """The text of a LangChain message, whose content may be a list of content blocks."""
    if isinstance(message, str):
        return message
    content = getattr(message, "content", None)
    if content is None or isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def _with_counts(reply: ChatReply, counts: tuple[int, int] | None) -> ChatReply:
    if counts is not None:
        reply.prompt_tokens, reply.completion_tokens = counts
    return reply


class LangChainBackend:
    """A LangChain chat model (``BaseChatModel``) behind ``ChatBackend``.

    Args:
        model: The chat model.
    """

    def __init__(self, model: Any) -> None:
        self._model = model
        self._structured: dict[type[BaseModel], Any] = {}
        self.name = f"langchain:{type(model).__name__}"

    @property
    def supports_native(self) -> bool:
        """Always worth a try; ``with_structured_output`` says when it is not."""
        return True

    @staticmethod
    def _lc_messages(messages: Sequence[ChatTurn]) -> list[tuple[str, str]]:
        roles = {"system": "system", "user": "human", "assistant": "ai"}
        return [(roles[role], text) for role, text in messages]

    @staticmethod
    def _reply(message: Any) -> ChatReply:
        return _with_counts(ChatReply(text=_message_text(message)), langchain_token_counts(message))

    def _runnable(self, schema: type[BaseModel]) -> Any:
        runnable = self._structured.get(schema)
        if runnable is None:
            # include_raw keeps the AIMessage, hence its usage metadata
            runnable = self._model.with_structured_output(schema, include_raw=True)
            self._structured[schema] = runnable
        return runnable

    @staticmethod
    def _structured_reply(output: Any, schema: type[BaseModel]) -> ChatReply:
        if isinstance(output, schema):
            return ChatReply(parsed=output)
        if not isinstance(output, dict) or "raw" not in output:
            return ChatReply(error=f"unexpected structured output {type(output).__name__}")
        raw = output.get("raw")
        reply = LangChainBackend._reply(raw) if raw is not None else ChatReply()
        parsed, error = output.get("parsed"), output.get("parsing_error")
        if isinstance(parsed, dict):  # integrations whose json mode skips validation
            try:
                parsed = schema.model_validate(parsed)
            except ValidationError as exc:
                parsed, error = None, exc
        reply.parsed = parsed if isinstance(parsed, BaseModel) else None
        reply.error = describe_error(error) if error is not None else None
        return reply

    def send(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Call ``invoke``."""
        return self._reply(self._model.invoke(self._lc_messages(messages)))

    async def asend(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Call ``ainvoke``."""
        return self._reply(await self._model.ainvoke(self._lc_messages(messages)))

    def send_structured(self, messages: Sequence[ChatTurn], schema: type[BaseModel]) -> ChatReply:
        """Call ``with_structured_output(schema, include_raw=True).invoke``."""
        output = self._runnable(schema).invoke(self._lc_messages(messages))
        return self._structured_reply(output, schema)

    async def asend_structured(
        self, messages: Sequence[ChatTurn], schema: type[BaseModel]
    ) -> ChatReply:
        """Call ``with_structured_output(schema, include_raw=True).ainvoke``."""
        output = await self._runnable(schema).ainvoke(self._lc_messages(messages))
        return self._structured_reply(output, schema)


class LlamaIndexBackend:
    """A LlamaIndex ``LLM`` behind ``ChatBackend``.

    Native structured output (``structured_predict``) is used only when
    ``llm.metadata.is_function_calling_model``; LlamaIndex then reports no token
    usage, so the caller estimates it.

    Args:
        llm: The LlamaIndex LLM.
    """

    def __init__(self, llm: Any) -> None:
        self._llm = llm
        self.name = f"llama_index:{type(llm).__name__}"

    @property
    def supports_native(self) -> bool:
        """``llm.metadata.is_function_calling_model``."""
        metadata = getattr(self._llm, "metadata", None)
        return bool(getattr(metadata, "is_function_calling_model", False))

    @staticmethod
    def _li_messages(messages: Sequence[ChatTurn]) -> list[Any]:
        from llama_index.core.llms import ChatMessage

        return [ChatMessage(role=role, content=text) for role, text in messages]

    @staticmethod
    def _template(messages: Sequence[ChatTurn]) -> tuple[Any, dict[str, str]]:
        """A prompt template whose messages are pure variables, so braces stay literal."""
        from llama_index.core.llms import ChatMessage
        from llama_index.core.prompts import ChatPromptTemplate

        slots = [
            ChatMessage(role=role, content=f"{{m{i}}}") for i, (role, _) in enumerate(messages)
        ]
        values = {f"m{i}": text for i, (_, text) in enumerate(messages)}
        return ChatPromptTemplate(message_templates=slots), values

    @staticmethod
    def _reply(response: Any) -> ChatReply:
        message = getattr(response, "message", None)
        text = getattr(message, "content", None)
        return _with_counts(ChatReply(text=text), llamaindex_token_counts(response))

    def send(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Call ``chat``."""
        return self._reply(self._llm.chat(self._li_messages(messages)))

    async def asend(self, messages: Sequence[ChatTurn]) -> ChatReply:
        """Call ``achat``."""
        return self._reply(await self._llm.achat(self._li_messages(messages)))

    def send_structured(self, messages: Sequence[ChatTurn], schema: type[BaseModel]) -> ChatReply:
        """Call ``structured_predict`` (function-calling models only)."""
        if not self.supports_native:
            raise NotImplementedError("not a function-calling model")
        template, values = self._template(messages)
        parsed = self._llm.structured_predict(schema, template, **values)
        return ChatReply(parsed=parsed if isinstance(parsed, BaseModel) else None)

    async def asend_structured(
        self, messages: Sequence[ChatTurn], schema: type[BaseModel]
    ) -> ChatReply:
        """Call ``astructured_predict`` (function-calling models only)."""
        if not self.supports_native:
            raise NotImplementedError("not a function-calling model")
        template, values = self._template(messages)
        parsed = await self._llm.astructured_predict(schema, template, **values)
        return ChatReply(parsed=parsed if isinstance(parsed, BaseModel) else None)


def _instance_of(obj: Any, module: str, name: str) -> bool:
    """``isinstance(obj, module.name)`` without importing ``module``."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(obj, cls)


def as_chat_backend(llm: Any) -> ChatBackend:
    """Wrap a LangChain chat model, a LlamaIndex LLM, or pass a ``ChatBackend`` through.

    Args:
        llm: A ``langchain_core`` ``BaseChatModel`` (or another LangChain runnable
            model), a ``llama_index`` ``LLM``, or an object implementing ``ChatBackend``.

    Returns:
        The backend.

    Raises:
        InvalidInput: ``llm`` is none of these.
    """
    if isinstance(llm, ChatBackend):
        return llm
    if _instance_of(llm, "langchain_core.language_models", "BaseLanguageModel"):
        return LangChainBackend(llm)
    if _instance_of(llm, "llama_index.core.base.llms.base", "BaseLLM"):
        return LlamaIndexBackend(llm)
    if callable(getattr(llm, "invoke", None)) and callable(getattr(llm, "ainvoke", None)):
        return LangChainBackend(llm)
    if callable(getattr(llm, "chat", None)) and hasattr(llm, "metadata"):
        return LlamaIndexBackend(llm)
    raise InvalidInput(
        f"llm must be a LangChain chat model, a LlamaIndex LLM or a ChatBackend, "
        f"not {type(llm).__name__}"
    )
