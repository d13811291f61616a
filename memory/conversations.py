"""Reading a conversation in the LoCoMo layout into ``add_many`` items.

The layout (LoCoMo, ACL 2024; also ``examples/data/conversation.json``)::

    {"speaker_a": "Caroline", "speaker_b": "Melanie",
     "session_1_date_time": "1:56 pm on 8 May, 2023",
     "session_1": [{"speaker": "Caroline", "dia_id": "D1:1", "text": "Hey Mel!"}, ...],
     "session_2_date_time": ..., "session_2": [...], ...,
     "qa": [...]}

optionally wrapped as ``{"conversation": {...}, "qa": [...]}``. A turn may also carry
``blip_caption`` (a caption of an image it shares), ``img_url`` and ``query``; other
keys (``qa``, ``session_N_summary``, ``events_session_N``, ...) are ignored here.

Example:
    >>> items = conversation_items("examples/data/conversation.json", user_id="demo")
    >>> items[0]["content"]
    'Priya: Hey Tom! Guess what, I finally adopted a dog from the shelter on Saturday.'
    >>> items[0]["metadata"]
    {'dia_id': 'D1:1', 'speaker': 'Priya', 'session': 1}
    >>> notes = AgenticMemory().add_many(items)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from memory.errors import InvalidInput
from memory.text.dialogue import parse_timestamp

__all__ = ["TURN_FIELDS", "conversation_items"]

TURN_FIELDS: tuple[str, ...] = ("dia_id", "speaker", "session")
"""The facts about a turn that can go into its item's metadata (all of them by default)."""

_SESSION_KEY = re.compile(r"session_(\d+)")


def conversation_items(
    source: Mapping[str, Any] | str | os.PathLike[str],
    *,
    sessions: int | None = None,
    captions: bool = True,
    metadata_keys: Collection[str] = TURN_FIELDS,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """One ``add_many`` item per turn of a LoCoMo-layout conversation, in order.

    Sessions are read in numeric order (``session_2`` before ``session_10``). Each item is
    ``{"content": "Speaker: text", "timestamp": <session date>, "metadata": {...}}`` plus
    the scope ids that were given. The date is parsed here (as :meth:`AgenticMemory.add`
    would parse it; LoCoMo's dates have no zone and are taken as UTC), so a bad date is
    reported with the session that holds it.

    Args:
        source: The conversation as a dict (as loaded from JSON) or the path of a JSON file.
        sessions: Only the first ``sessions`` sessions; ``None`` reads them all.
        captions: Append ``" [shares <blip_caption>]"`` to turns that share an image.
        metadata_keys: Which of :data:`TURN_FIELDS` each item's metadata keeps:
            ``dia_id`` (e.g. ``"D1:3"``, what LoCoMo's evidence lists name), ``speaker``,
            ``session`` (the session number, an int).
        user_id: Scope id put on every item (omitted when ``None``); likewise
            ``agent_id`` and ``run_id``.
        agent_id: See ``user_id``.
        run_id: See ``user_id``.

    Returns:
        The items, ready for :meth:`AgenticMemory.add_many`.

    Raises:
        InvalidInput: the file is not JSON, or the conversation is malformed: no
            ``session_N`` lists, a session without a readable ``session_N_date_time``,
            a turn without ``speaker``, ``text`` or ``dia_id``.
        OSError: the file cannot be read.
    """
    unknown = set(metadata_keys) - set(TURN_FIELDS)
    if unknown:
        raise InvalidInput(f"metadata_keys {sorted(unknown)} are not among {TURN_FIELDS}")
    if sessions is not None and (
        isinstance(sessions, bool) or not isinstance(sessions, int) or sessions < 1
    ):
        raise InvalidInput(f"sessions must be a positive int or None, got {sessions!r}")
    body = _conversation_body(source)
    numbers = sorted(int(match.group(1)) for key in body if (match := _SESSION_KEY.fullmatch(key)))
    if not numbers:
        raise InvalidInput("conversation has no sessions (keys 'session_1', 'session_2', ...)")
    scope = {
        name: value
        for name, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id))
        if value is not None
    }
    items: list[dict[str, Any]] = []
    for number in numbers[:sessions]:
        when = _session_date(body, number)
        turns = body[f"session_{number}"]
        if not isinstance(turns, list):
            kind = type(turns).__name__
            raise InvalidInput(f"session_{number} must be a list of turns, not {kind}")
        for index, turn in enumerate(turns):
            speaker, text, dia_id = _turn_fields(turn, f"session_{number} turn {index}")
            content = f"{speaker}: {text}"
            if captions and turn.get("blip_caption"):
                content += f" [shares {turn['blip_caption']}]"
            facts = {"dia_id": dia_id, "speaker": speaker, "session": number}
            items.append(
                {
                    "content": content,
                    "timestamp": when,
                    "metadata": {key: facts[key] for key in TURN_FIELDS if key in metadata_keys},
                    **scope,
                }
            )
    return items


def _conversation_body(source: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    """The mapping that holds the ``session_N`` keys, reading the file if given a path."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            source = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(source, Mapping):
        raise InvalidInput(f"a conversation must be a JSON object, not {type(source).__name__}")
    # The LoCoMo release nests each conversation under "conversation"; the files split
    # from it (and the example) keep the sessions at the top level.
    body = source.get("conversation", source)
    if not isinstance(body, Mapping):
        raise InvalidInput(f"'conversation' must be a JSON object, not {type(body).__name__}")
    return body


def _session_date(body: Mapping[str, Any], number: int) -> datetime:
    key = f"session_{number}_date_time"
    if key not in body:
        raise InvalidInput(f"session_{number} has no {key!r}")
    try:
        return parse_timestamp(body[key])
    except InvalidInput as exc:
        raise InvalidInput(f"{key}: {exc}") from exc


def _turn_fields(turn: Any, where: str) -> tuple[str, str, str]:
    """``(speaker, text, dia_id)`` of one turn, each a non-empty str."""
    if not isinstance(turn, Mapping):
        raise InvalidInput(f"{where} must be an object, not {type(turn).__name__}")
    values = []
    for key in ("speaker", "text", "dia_id"):
        value = turn.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"{where} has no {key!r} (a non-empty string), got {value!r}")
        values.append(value)
    speaker, text, dia_id = values
    return speaker, text, dia_id
