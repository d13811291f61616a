"""Chroma ``where`` clauses for scope, kind and the caller's metadata filters.

Every read of the store goes through :func:`build_where`, so a scope can't be
forgotten: the scope fields that are set become equality conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from memory.errors import InvalidInput
from memory.model import NOTE_KINDS, Scope
from memory.store.codec import USER_PREFIX

__all__ = ["build_where", "filters_match", "translate_filters"]

_LOGICAL = ("$and", "$or")
_OPERATORS = frozenset({"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"})
_ORDERING = frozenset({"$gt", "$gte", "$lt", "$lte"})


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _check_operand(key: str, operator: str, operand: Any) -> None:
    """The operand an operator accepts, checked here so Chroma never sees a bad one.

    Raises:
        InvalidInput: ``$eq`` / ``$ne`` on a non-scalar, an ordering on a non-number,
            ``$in`` / ``$nin`` on anything but a non-empty list of scalars.
    """
    if operator in ("$in", "$nin"):
        if not isinstance(operand, list) or not operand or not all(map(_is_scalar, operand)):
            raise InvalidInput(f"{operator} on {key!r} takes a non-empty list of scalars")
    elif operator in _ORDERING:
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise InvalidInput(f"{operator} on {key!r} takes a number, got {operand!r}")
    elif not _is_scalar(operand):
        raise InvalidInput(f"{operator} on {key!r} takes a str, number or bool, got {operand!r}")


def translate_filters(filters: dict[str, Any]) -> dict[str, Any]:
    """Map the caller's metadata filters onto the flattened ``m.<key>`` fields.

    ``{"dia_id": "D5:4"}``, ``{"turn": {"$gte": 3}}`` and ``$and`` / ``$or`` lists
    of those are accepted.

    Raises:
        InvalidInput: unknown operators or malformed filters.
    """
    if not isinstance(filters, dict) or not filters:
        raise InvalidInput("filters must be a non-empty dict")
    clauses: list[dict[str, Any]] = []
    for key, value in filters.items():
        if key in _LOGICAL:
            if not isinstance(value, list) or not value:
                raise InvalidInput(f"{key} takes a non-empty list of filters")
            clauses.append({key: [translate_filters(item) for item in value]})
        elif key.startswith("$"):
            raise InvalidInput(f"unknown filter operator {key!r}")
        elif isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in _OPERATORS:
                raise InvalidInput(f"filter on {key!r} must be a value or one of {_OPERATORS}")
            _check_operand(key, *next(iter(value.items())))
            clauses.append({USER_PREFIX + key: value})
        elif _is_scalar(value):
            clauses.append({USER_PREFIX + key: {"$eq": value}})
        else:
            raise InvalidInput(f"filter value for {key!r} must be a scalar or an operator dict")
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def build_where(
    scope: Scope,
    *,
    kinds: Iterable[str] | None = None,
    filters: dict[str, Any] | None = None,
    exact: bool = False,
) -> dict[str, Any] | None:
    """The ``where`` clause for a read in ``scope`` (``None`` when unrestricted).

    With ``exact``, unset scope fields must be unset on the note too (the rule
    for link candidates: notes link only within exactly the same scope).
    """
    clauses: list[dict[str, Any]] = []
    for field in ("user_id", "agent_id", "run_id"):
        value = getattr(scope, field)
        if value is not None or exact:
            clauses.append({field: {"$eq": value or ""}})
    if kinds is not None:
        wanted = list(kinds)
        unknown = [kind for kind in wanted if kind not in NOTE_KINDS]
        if unknown or not wanted:
            raise InvalidInput(f"kinds must be a non-empty subset of {NOTE_KINDS}, got {wanted}")
        if len(wanted) < len(NOTE_KINDS):
            clauses.append({"kind": {"$in": wanted}})
    if filters:
        clauses.append(translate_filters(filters))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    if operator == "$eq":
        return bool(actual == expected)
    if operator == "$ne":
        return bool(actual != expected)
    if operator == "$in":
        return actual in expected
    if operator == "$nin":
        return actual not in expected
    if actual is None or isinstance(actual, bool) != isinstance(expected, bool):
        return False
    try:
        if operator == "$gt":
            return bool(actual > expected)
        if operator == "$gte":
            return bool(actual >= expected)
        if operator == "$lt":
            return bool(actual < expected)
        return bool(actual <= expected)
    except TypeError:  # comparing a str with a number: no match, like Chroma
        return False


def filters_match(filters: dict[str, Any] | None, metadata: dict[str, Any]) -> bool:
    """Evaluate the caller's ``filters`` on a note's metadata in Python.

    Same semantics as the ``where`` clause :func:`translate_filters` builds, used
    where the notes are already at hand (no store round trip).
    """
    if not filters:
        return True
    for key, value in filters.items():
        if key == "$and":
            if not all(filters_match(item, metadata) for item in value):
                return False
        elif key == "$or":
            if not any(filters_match(item, metadata) for item in value):
                return False
        elif isinstance(value, dict):
            operator, expected = next(iter(value.items()))
            if key not in metadata and operator not in ("$ne", "$nin"):
                return False
            if not _compare(operator, metadata.get(key), expected):
                return False
        elif key not in metadata or not _compare("$eq", metadata[key], value):
            return False
    return True
