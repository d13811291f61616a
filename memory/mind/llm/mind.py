"""The LLM implementation of the ``Mind`` protocol.

    Mind (protocol, memory.mind.base)
     └── LLMMind            one structured model call per note, heuristic fallback
    decision_from_reply()   model reply + alias map -> MindDecision (pure)
    replace_fields()        take some of keywords / tags / context from another decision
    as_fallback()           mark a fallback mind's decision as such, with the spent usage

``LLMMind`` never raises for a model's failure: every exception, timeout or unusable
reply is retried by ``StructuredCaller``, and when the retries run out the fallback
mind (the heuristic one) decides instead, so the note is always stored. A reply that
parses is checked field by field (``memory.mind.llm.faithful``): keywords, tags or a
context that do not come from the new note are replaced by the fallback mind's, with no
second model call, and counted in ``Usage``; so are the model's supersessions (which
shown candidates the note updates), the fallback's rule deciding when the model names
none that holds. The decision is a proposal:
``memory.mind.apply`` checks it against the real candidates. This module already drops
links and updates naming aliases it never showed and clamps link strengths to (0, 1].
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Iterable
from copy import copy
from typing import Any

from memory.errors import InvalidInput
from memory.llm.caller import StructuredCaller
from memory.mind.base import (
    Candidate,
    LinkChoice,
    Mind,
    MindDecision,
    NeighbourChange,
    NoteDraft,
    Usage,
)
from memory.mind.llm.faithful import FaithfulnessCheck, FieldReview, TagCheck
from memory.mind.llm.prompts import REWRITE_SYSTEM, NoteRequest, build_note_request, clip
from memory.mind.llm.schema import NoteReply, RewrittenQuery
from memory.mind.llm.superseding import settle_supersessions

__all__ = [
    "LLMMind",
    "MIN_LINK_STRENGTH",
    "as_fallback",
    "decision_from_reply",
    "replace_fields",
]

logger = logging.getLogger(__name__)

MIN_LINK_STRENGTH = 0.05
"""A link the model asked for with strength <= 0 is kept at this strength."""
MAX_KEYWORDS = 10
MAX_TAGS = 5
CONTEXT_CHARS = 300
QUERY_CHARS = 300

_ALIAS = re.compile(r"^n\d+$")


def _terms(values: Iterable[str], limit: int, *, lower: bool = False) -> list[str]:
    """Stripped, de-duplicated (case-insensitively), non-empty, at most ``limit``."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        term = " ".join(str(value).split())
        if lower:
            term = term.lower()
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            out.append(term)
    return out[:limit]


def _resolve(alias: str, aliases: dict[str, str], what: str) -> str | None:
    """The note id behind ``alias`` (``"N1"``, ``"[n1]"`` accepted), or ``None``, logged."""
    key = alias.strip().strip("[]()<>#@'\"` ").lower()
    if _ALIAS.match(key) and key in aliases:
        return aliases[key]
    logger.warning("ignoring %s naming unknown alias %r", what, alias)
    return None


def _strength(value: float) -> float | None:
    if math.isnan(value):
        return None
    return min(1.0, max(MIN_LINK_STRENGTH, value))


def decision_from_reply(reply: NoteReply, aliases: dict[str, str], *, actor: str) -> MindDecision:
    """Turn a validated reply into a decision, naming real note ids.

    Links and updates naming an alias that was never shown are dropped and logged;
    strengths are clamped to ``[MIN_LINK_STRENGTH, 1]`` (NaN drops the link);
    repeated links keep the strongest; repeated updates of one note are merged; an
    update with nothing to add is dropped; an empty new context is ``None``.

    Args:
        reply: The model's validated reply.
        aliases: Alias (``"n1"``) to note id, as shown to the model.
        actor: Who decided (recorded in history).

    Returns:
        The decision, with zero usage (the caller adds it).
    """
    links: dict[str, LinkChoice] = {}
    for link in reply.links:
        target = _resolve(link.to, aliases, "link")
        strength = _strength(link.strength)
        if target is None or strength is None:
            continue
        if target not in links or strength > links[target].strength:
            links[target] = LinkChoice(
                target_id=target, strength=strength, reason=clip(link.reason, 200)
            )

    changes: dict[str, NeighbourChange] = {}
    for update in reply.updates:
        target = _resolve(update.note, aliases, "update")
        if target is None:
            continue
        previous = changes.get(target) or NeighbourChange(target_id=target)
        context = clip(update.context, CONTEXT_CHARS) if update.context else None
        changes[target] = NeighbourChange(
            target_id=target,
            add_tags=_terms([*previous.add_tags, *update.add_tags], MAX_TAGS, lower=True),
            add_keywords=_terms([*previous.add_keywords, *update.add_keywords], MAX_KEYWORDS),
            context=context or previous.context,
            reason=previous.reason or clip(update.reason, 200),
        )

    return MindDecision(
        keywords=_terms(reply.keywords, MAX_KEYWORDS),
        tags=_terms(reply.tags, MAX_TAGS, lower=True),
        context=clip(reply.context, CONTEXT_CHARS),
        links=list(links.values()),
        changes=[c for c in changes.values() if c.add_tags or c.add_keywords or c.context],
        actor=actor,
    )


def replace_fields(
    decision: MindDecision, other: MindDecision, names: Iterable[str]
) -> MindDecision:
    """Take the fields ``names`` (of keywords / tags / context) of ``decision`` from ``other``.

    Args:
        decision: The model's decision.
        other: The fallback mind's decision for the same note.
        names: The fields to replace.

    Returns:
        ``decision`` with those fields from ``other``; links, changes, actor and usage
        unchanged.
    """
    return decision.model_copy(update={name: copy(getattr(other, name)) for name in names})


def as_fallback(decision: MindDecision, spent: Usage) -> MindDecision:
    """Mark a fallback mind's decision: ``actor="heuristic-fallback"``, one fallback counted.

    Args:
        decision: The fallback mind's decision.
        spent: What the failed model attempts cost.

    Returns:
        The decision with the usage of the attempts plus ``fallbacks=1``.
    """
    return decision.model_copy(
        update={
            "actor": "heuristic-fallback",
            "usage": decision.usage + spent + Usage(fallbacks=1),
        }
    )


class LLMMind:
    """A mind that asks a chat model, in one structured call per note.

    Args:
        llm: A LangChain ``BaseChatModel``, a LlamaIndex ``LLM``, or a ``ChatBackend``.
        fallback: The mind that decides when the model fails (the heuristic mind); it
            also supplies keywords, tags or context the model got wrong or left empty.
        max_retries: Retries after the first attempt of each request; ``None``: 2 for a
            hosted model, 1 for an in-process one (``memory.llm.gate.CallPolicy``).
        timeout: Seconds to wait for each model call; ``None`` waits forever; ``"auto"``:
            no timeout for an in-process model (llama.cpp, ...), 60 s otherwise.
        concurrency: Calls that may be under way on the model client at once, timed-out
            ones still running included; ``None``: 1 for an in-process model, else 4.
        use_native_structured_output: Prefer the framework's structured output
            (``with_structured_output`` / ``structured_predict``) over JSON in text.
        embedder: Tells whether a context is about the new note or a neighbour
            (``None``: word overlap).
        tag_check: Which of the model's tags to keep (``faithful.TagCheck``; default:
            short labels).

    Raises:
        InvalidInput: ``fallback`` is not a ``Mind``, or another argument is invalid.

    Example:
        ```python
        mind = LLMMind(llm=ChatOpenAI(model="gpt-4o-mini"), fallback=HeuristicMind(embedder))
        decision = mind.decide(draft, candidates)
        decision.usage.calls  # 1 in the common case
        ```
    """

    name = "llm"

    def __init__(
        self,
        *,
        llm: Any,
        fallback: Mind,
        max_retries: int | None = None,
        timeout: float | None | str = "auto",
        concurrency: int | None = None,
        use_native_structured_output: bool = True,
        embedder: Any = None,
        tag_check: TagCheck | None = None,
    ) -> None:
        if not isinstance(fallback, Mind):
            raise InvalidInput(f"fallback must be a Mind, not {type(fallback).__name__}")
        self.fallback = fallback
        self.caller = StructuredCaller(
            llm=llm,
            max_retries=max_retries,
            timeout=timeout,
            concurrency=concurrency,
            use_native_structured_output=use_native_structured_output,
        )
        self.faithfulness = FaithfulnessCheck(embedder, tag_check=tag_check)
        self._lock = threading.Lock()
        self._usage = Usage()

    @property
    def usage(self) -> Usage:
        """Running total of everything this mind spent (a copy; thread-safe)."""
        with self._lock:
            return self._usage.model_copy()

    def _record(self, usage: Usage) -> None:
        with self._lock:
            self._usage = self._usage + usage

    def _from_reply(self, reply: NoteReply | None, aliases: dict[str, str]) -> MindDecision | None:
        if reply is None:
            return None
        try:
            return decision_from_reply(reply, aliases, actor=self.name)
        except Exception:  # a reply we cannot use is a model failure, not the caller's
            logger.exception("could not turn the LLM reply into a decision")
            return None

    def _review(
        self,
        decision: MindDecision,
        draft: NoteDraft,
        candidates: list[Candidate],
        request: NoteRequest,
    ) -> FieldReview:
        by_id = {c.note.id: c for c in candidates}
        shown = [by_id[note_id] for note_id in request.aliases.values() if note_id in by_id]
        try:
            return self.faithfulness.review(decision, draft, shown)
        except Exception:  # a check that breaks must not cost the note the model's answer
            logger.exception("the faithfulness check failed; keeping the model's fields")
            return FieldReview(decision=decision)

    @staticmethod
    def _settled(review: FieldReview, fallback: MindDecision | None, spent: Usage) -> MindDecision:
        decision = review.decision
        if fallback is not None:
            decision = replace_fields(decision, fallback, review.rejected)
        decision.usage = spent + review.usage
        return decision

    def _superseding(
        self,
        decision: MindDecision,
        reply: NoteReply | None,
        request: NoteRequest,
        draft: NoteDraft,
        candidates: list[Candidate],
        fallback: MindDecision | None,
    ) -> MindDecision:
        named = reply.supersedes if reply is not None else []
        return settle_supersessions(
            decision, named, request.aliases, draft, candidates, self.fallback, fallback
        )

    def decide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        """Decide keywords, tags, context, links and neighbour changes for ``draft``.

        Args:
            draft: The new note before it is built.
            candidates: Possible neighbours in the same scope, best first.

        Returns:
            The model's decision (``actor="llm"``), its unfaithful or empty fields taken
            from the fallback mind (``usage.<field>_replaced``), its supersessions checked
            (:mod:`memory.mind.llm.superseding`; none valid: the fallback's rule decides);
            or the fallback mind's
            decision (``actor="heuristic-fallback"``, ``usage.fallbacks == 1``) when the
            model failed after every retry. Never raises for a model failure.
        """
        request = build_note_request(draft, candidates)
        try:
            reply, spent = self.caller.call(request.system, request.user, NoteReply)
        except Exception:
            logger.exception("LLM request failed unexpectedly")
            reply, spent = None, Usage()
        decision = self._from_reply(reply, request.aliases)
        if decision is None:
            decision = as_fallback(self.fallback.decide(draft, candidates), spent)
        else:
            review = self._review(decision, draft, candidates, request)
            fallback = self.fallback.decide(draft, candidates) if review.rejected else None
            decision = self._settled(review, fallback, spent)
            decision = self._superseding(decision, reply, request, draft, candidates, fallback)
        self._record(decision.usage)
        return decision

    async def adecide(self, draft: NoteDraft, candidates: list[Candidate]) -> MindDecision:
        """Async twin of ``decide`` (``ainvoke`` / ``achat`` / ``astructured_predict``)."""
        request = build_note_request(draft, candidates)
        try:
            reply, spent = await self.caller.acall(request.system, request.user, NoteReply)
        except Exception:
            logger.exception("LLM request failed unexpectedly")
            reply, spent = None, Usage()
        decision = self._from_reply(reply, request.aliases)
        if decision is None:
            decision = as_fallback(await self.fallback.adecide(draft, candidates), spent)
        else:
            review = self._review(decision, draft, candidates, request)
            fallback = await self.fallback.adecide(draft, candidates) if review.rejected else None
            decision = self._settled(review, fallback, spent)
            decision = self._superseding(decision, reply, request, draft, candidates, fallback)
        self._record(decision.usage)
        return decision

    def _rewritten(self, query: str, reply: RewrittenQuery | None, spent: Usage) -> str:
        self._record(spent)
        rewritten = clip(reply.query, QUERY_CHARS) if reply is not None else ""
        return rewritten or query

    def rewrite_query(self, query: str) -> str:
        """Rewrite a search query with the model (one attempt, no retries).

        Args:
            query: The user's query.

        Returns:
            The rewritten query, or ``query`` unchanged on any failure or empty answer.
        """
        if not query.strip():
            return query
        try:
            reply, spent = self.caller.call(REWRITE_SYSTEM, query, RewrittenQuery, max_retries=0)
        except Exception:
            logger.exception("query rewriting failed unexpectedly")
            return query
        return self._rewritten(query, reply, spent)

    async def arewrite_query(self, query: str) -> str:
        """Async twin of ``rewrite_query``."""
        if not query.strip():
            return query
        try:
            reply, spent = await self.caller.acall(
                REWRITE_SYSTEM, query, RewrittenQuery, max_retries=0
            )
        except Exception:
            logger.exception("query rewriting failed unexpectedly")
            return query
        return self._rewritten(query, reply, spent)
