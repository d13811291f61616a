"""Zettelmem as LangGraph's long-term store.

    BaseStore (langgraph.store.base)
    └── ZettelmemStore    items are notes; namespaces map to scopes; search is hybrid

Every item ``(namespace, key) -> value`` is one note. The note's content is the
text LangGraph would index (the ``index`` fields of the put, else the store's
``index_fields``, else the value as JSON), so ``search(query=...)`` is Zettelmem's
hybrid search; the value itself is kept verbatim in the note's metadata.

Namespaces and scopes: position ``i`` of a namespace sets the scope field
``scope_keys[i]``; positions past ``scope_keys`` (or whose key is ``None``) are
labels only. With the default ``scope_keys=("user_id", "agent_id", "run_id")``,
``("alice", "planner")`` is ``user_id="alice", agent_id="planner"``; for the
layout ``("memories", user_id)`` pass ``scope_keys=(None, "user_id")``. Notes
link and evolve only within one scope, so put the user id where a scope key is.
Reads are filtered both by scope and by the exact namespace (prefix), so one
namespace never sees another's items.

Example:
    >>> from langgraph.graph import StateGraph
    >>> store = ZettelmemStore(AgenticMemory(path="./mem"), scope_keys=(None, "user_id"))
    >>> store.put(("memories", "alice"), "food", {"text": "Alice is vegetarian"})
    >>> store.search(("memories", "alice"), query="what does alice eat?")
    >>> graph = builder.compile(store=store)   # or create_agent(..., store=store)
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from integrations.optional import missing_framework

try:
    from langgraph.store.base import (
        BaseStore,
        GetOp,
        Item,
        ListNamespacesOp,
        MatchCondition,
        Op,
        PutOp,
        Result,
        SearchItem,
        SearchOp,
    )
    from langgraph.store.base.embed import get_text_at_path
except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
    raise missing_framework(
        "integrations.langgraph_store", "langgraph", exc, extra="langgraph"
    ) from exc

from memory.facade import AgenticMemory
from memory.model import Note, utc_now
from memory.validate import MAX_K

__all__ = ["ZettelmemStore", "value_matches"]

_SCOPE_FIELDS = ("user_id", "agent_id", "run_id")
_STORE = "lg_store"
_NAMESPACE = "lg_namespace"
_DEPTH = "lg_depth"
_KEY = "lg_key"
_VALUE = "lg_value"
_PUT_AT = "lg_put_at"
_COMPARISONS = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: float(a) > float(b),
    "$gte": lambda a, b: float(a) >= float(b),
    "$lt": lambda a, b: float(a) < float(b),
    "$lte": lambda a, b: float(a) <= float(b),
}


def value_matches(value: Any, condition: Any) -> bool:
    """Whether an item's value satisfies a LangGraph search ``filter``.

    Same rules as LangGraph's in-memory store: a dict of operators (``$eq``,
    ``$ne``, ``$gt``, ``$gte``, ``$lt``, ``$lte``) compares, another dict matches
    nested fields, a list matches element-wise, anything else by equality.

    Raises:
        ValueError: an unknown operator.
    """
    if isinstance(condition, dict):
        if any(key.startswith("$") for key in condition):
            for operator, operand in condition.items():
                if operator not in _COMPARISONS:
                    raise ValueError(f"unsupported filter operator {operator!r}")
                try:
                    if not _COMPARISONS[operator](value, operand):
                        return False
                except (TypeError, ValueError):
                    return False
            return True
        if not isinstance(value, dict):
            return False
        return all(value_matches(value.get(k), v) for k, v in condition.items())
    if isinstance(condition, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(condition)
            and all(value_matches(v, c) for v, c in zip(value, condition, strict=True))
        )
    return bool(value == condition)


def _put_at(note: Note) -> datetime:
    stamp = note.metadata.get(_PUT_AT)
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else note.updated_at


def _namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = condition.path
    if len(namespace) < len(path):
        return False
    pairs = (
        zip(namespace, path, strict=False)
        if condition.match_type == "prefix"
        else zip(reversed(namespace), reversed(path), strict=False)
    )
    return all(wanted == "*" or label == wanted for label, wanted in pairs)


class ZettelmemStore(BaseStore):
    """A LangGraph ``BaseStore`` whose items are Zettelmem notes.

    Args:
        memory: the ``AgenticMemory`` to keep the items in.
        scope_keys: the scope field each namespace position sets (``"user_id"``,
            ``"agent_id"``, ``"run_id"`` or ``None`` for a label-only position).
        index_fields: default JSON paths of a value whose text is indexed (as in
            LangGraph's ``IndexConfig["fields"]``, e.g. ``["text"]``); ``None``
            indexes the whole value as JSON. A put's own ``index`` list overrides
            it; ``index=False`` still stores the item (and indexes it as JSON).
        name: tags this store's notes, so several stores (and other notes) can
            share one memory without seeing each other's items.
        expand_links: let searches add notes linked to the strongest hits.

    Items are listed newest-updated first when a search has no query.
    ``list_namespaces`` scans every item of the store. TTLs are not supported.
    """

    supports_ttl = False

    def __init__(
        self,
        memory: AgenticMemory,
        *,
        scope_keys: Sequence[str | None] = _SCOPE_FIELDS,
        index_fields: Sequence[str] | None = None,
        name: str = "langgraph",
        expand_links: bool = False,
    ) -> None:
        used = [key for key in scope_keys if key is not None]
        if any(key not in _SCOPE_FIELDS for key in used) or len(used) != len(set(used)):
            raise ValueError(f"scope_keys must name each of {_SCOPE_FIELDS} at most once")
        self.memory = memory
        self.scope_keys = tuple(scope_keys)
        self.index_fields = list(index_fields) if index_fields is not None else None
        self.name = name
        self.expand_links = expand_links
        self._lock = threading.RLock()

    # ---- mapping -------------------------------------------------------------------------

    def scope_of(self, namespace: tuple[str, ...]) -> dict[str, Any]:
        """The scope (``user_id`` / ``agent_id`` / ``run_id``) a namespace (prefix) maps to."""
        scope: dict[str, Any] = dict.fromkeys(_SCOPE_FIELDS)
        for label, key in zip(namespace, self.scope_keys, strict=False):
            if key is not None:
                scope[key] = label
        return scope

    def _filters(self, namespace: tuple[str, ...], *, exact: bool) -> dict[str, Any]:
        filters: dict[str, Any] = {_STORE: self.name}
        filters.update({f"lg_ns{i}": label for i, label in enumerate(namespace)})
        if exact:
            filters[_DEPTH] = len(namespace)
        return filters

    def _content(self, value: dict[str, Any], index: Any) -> str:
        fields = index if isinstance(index, list) else self.index_fields
        if index is not False and fields:
            texts = [text for path in fields for text in get_text_at_path(value, path)]
            joined = "\n".join(t for t in texts if isinstance(t, str) and t.strip())
            if joined.strip():
                return joined
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def _metadata(self, namespace: tuple[str, ...], key: str, value: dict[str, Any]) -> dict:
        metadata: dict[str, Any] = {
            _STORE: self.name,
            _NAMESPACE: list(namespace),
            _DEPTH: len(namespace),
            _KEY: key,
            _VALUE: value,
            # The item's updated_at is its last put, not the note's last evolution.
            _PUT_AT: utc_now().isoformat(),
        }
        metadata.update({f"lg_ns{i}": label for i, label in enumerate(namespace)})
        return metadata

    @staticmethod
    def _item(note: Note, score: float | None = None, *, scored: bool = False) -> Item:
        fields = {
            "namespace": tuple(note.metadata[_NAMESPACE]),
            "key": note.metadata[_KEY],
            "value": note.metadata[_VALUE],
            "created_at": note.created_at,
            "updated_at": _put_at(note),
        }
        if scored:
            return SearchItem(score=score, **fields)
        return Item(**fields)

    # ---- operations ----------------------------------------------------------------------

    def _find(self, namespace: tuple[str, ...], key: str) -> Note | None:
        filters = {**self._filters(namespace, exact=True), _KEY: key}
        notes = self.memory.notes(filters=filters, **self.scope_of(namespace))
        return max(notes, key=_put_at) if notes else None

    def _get(self, op: GetOp) -> Item | None:
        note = self._find(tuple(op.namespace), op.key)
        return self._item(note) if note is not None else None

    def _put(self, op: PutOp) -> None:
        namespace = tuple(op.namespace)
        scope = self.scope_of(namespace)
        existing = self._find(namespace, op.key)
        if op.value is None:
            if existing is not None:
                self.memory.delete(
                    existing.id, reason="deleted through the LangGraph store", **scope
                )
            return
        # JSON round trip: tuples become lists, as in every LangGraph store.
        value = json.loads(json.dumps(dict(op.value), ensure_ascii=False))
        content = self._content(value, op.index)
        metadata = self._metadata(namespace, op.key, value)
        if existing is None:
            self.memory.add(content, metadata=metadata, **scope)
        else:
            self.memory.update(existing.id, content=content, metadata=metadata, **scope)

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix = tuple(op.namespace_prefix)
        scope = self.scope_of(prefix)
        filters = self._filters(prefix, exact=False)
        wanted = op.offset + op.limit
        if op.limit <= 0:
            return []

        def keep(note: Note) -> bool:
            return op.filter is None or value_matches(note.metadata[_VALUE], op.filter)

        if not op.query or not op.query.strip():
            notes = [n for n in self.memory.notes(filters=filters, **scope) if keep(n)]
            notes.sort(key=_put_at, reverse=True)
            return [
                self._item(n, scored=True)  # type: ignore[misc]
                for n in notes[op.offset : wanted]
            ]
        k = min(MAX_K, max(wanted, 10) if op.filter is None else max(4 * wanted, 50))
        while True:
            hits = self.memory.search(
                op.query, k=k, filters=filters, expand_links=self.expand_links, **scope
            )
            matched = [hit for hit in hits if keep(hit.note)]
            if len(matched) >= wanted or len(hits) < k or k >= MAX_K:
                break
            k = min(MAX_K, 4 * k)
        return [
            self._item(hit.note, hit.score, scored=True)  # type: ignore[misc]
            for hit in matched[op.offset : wanted]
        ]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        notes = self.memory.notes(filters={_STORE: self.name})
        namespaces = {tuple(n.metadata[_NAMESPACE]) for n in notes}
        if op.match_conditions:
            namespaces = {
                ns
                for ns in namespaces
                if all(_namespace_matches(c, ns) for c in op.match_conditions)
            }
        if op.max_depth is not None:
            namespaces = {ns[: op.max_depth] for ns in namespaces}
        return sorted(namespaces)[op.offset : op.offset + op.limit]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order (a get after a put of the same batch sees it).

        Args:
            ops: ``GetOp``, ``PutOp``, ``SearchOp`` and ``ListNamespacesOp``s.

        Returns:
            One result per operation, in order.

        Raises:
            ValueError: an unknown operation or filter operator.
            InvalidInput: a namespace label the memory cannot use as a scope id.
        """
        results: list[Result] = []
        with self._lock:
            for op in ops:
                if isinstance(op, GetOp):
                    results.append(self._get(op))
                elif isinstance(op, PutOp):
                    self._put(op)
                    results.append(None)
                elif isinstance(op, SearchOp):
                    results.append(self._search(op))
                elif isinstance(op, ListNamespacesOp):
                    results.append(self._list_namespaces(op))
                else:
                    raise ValueError(f"unknown store operation {type(op).__name__}")
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async :meth:`batch`: runs in a worker thread, never blocking the event loop."""
        return await asyncio.to_thread(self.batch, list(ops))
