"""Reading LoCoMo-layout conversations into ``add_many`` items."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from memory import AgenticMemory, InvalidInput
from memory.conversations import TURN_FIELDS, conversation_items

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "data" / "conversation.json"
DATA = Path(os.environ.get("ZETTELMEM_DATA", ROOT.parent / "shared" / "data"))


def small() -> dict[str, Any]:
    """Two sessions, numbered so that string order and numeric order differ."""
    return {
        "speaker_a": "Ann",
        "speaker_b": "Bo",
        "session_10_date_time": "9:05 am on 2 June, 2023",
        "session_10": [
            {"speaker": "Bo", "dia_id": "D10:1", "text": "Back from the lake."},
        ],
        "session_2_date_time": "1:56 pm on 8 May, 2023",
        "session_2": [
            {"speaker": "Ann", "dia_id": "D2:1", "text": "Look at my new bike!"},
            {
                "speaker": "Bo",
                "dia_id": "D2:2",
                "text": "Nice.",
                "blip_caption": "a photo of a red bicycle",
                "img_url": ["https://example.invalid/bike.jpg"],
            },
        ],
        "session_3_date_time": "4:00 pm on 9 May, 2023",  # a date with no session: ignored
        "session_2_summary": "Ann shows Bo her bike.",
        "qa": [{"question": "What colour is the bike?", "evidence": ["D2:2"], "category": 4}],
    }


def test_the_example_file_reads_from_its_path_or_its_dict() -> None:
    items = conversation_items(EXAMPLE, user_id="demo")
    assert items == conversation_items(
        json.loads(EXAMPLE.read_text(encoding="utf-8")), user_id="demo"
    )
    assert len(items) == 29
    assert items[0] == {
        "content": "Priya: Hey Tom! Guess what, I finally adopted a dog from the shelter on "
        "Saturday.",
        "timestamp": datetime(2024, 3, 3, 18, 10, tzinfo=timezone.utc),
        "metadata": {"dia_id": "D1:1", "speaker": "Priya", "session": 1},
        "user_id": "demo",
    }
    assert [item["metadata"]["session"] for item in items] == sorted(
        item["metadata"]["session"] for item in items
    )


def test_sessions_in_numeric_order_stamped_with_their_dates() -> None:
    items = conversation_items(small())
    assert [item["metadata"]["dia_id"] for item in items] == ["D2:1", "D2:2", "D10:1"]
    assert items[0]["timestamp"] == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    assert items[2]["timestamp"] == datetime(2023, 6, 2, 9, 5, tzinfo=timezone.utc)
    assert items[2]["metadata"] == {"dia_id": "D10:1", "speaker": "Bo", "session": 10}


def test_captions_are_appended_unless_turned_off() -> None:
    assert conversation_items(small())[1]["content"] == (
        "Bo: Nice. [shares a photo of a red bicycle]"
    )
    assert conversation_items(small(), captions=False)[1]["content"] == "Bo: Nice."


def test_the_release_layout_nested_under_conversation_reads_the_same() -> None:
    flat = small()
    nested = {"conversation": flat, "qa": flat.pop("qa")}
    assert conversation_items(nested) == conversation_items(small())


def test_session_limit_metadata_keys_and_scope() -> None:
    items = conversation_items(
        small(), sessions=1, metadata_keys=("dia_id",), agent_id="bot", run_id="r1"
    )
    assert [item["metadata"] for item in items] == [{"dia_id": "D2:1"}, {"dia_id": "D2:2"}]
    assert all(item["agent_id"] == "bot" and item["run_id"] == "r1" for item in items)
    assert all("user_id" not in item for item in items)
    assert set(TURN_FIELDS) == set(conversation_items(small())[0]["metadata"])


def test_items_store_as_notes_that_keep_dia_id_and_date(mem: AgenticMemory) -> None:
    notes = mem.add_many(conversation_items(small(), user_id="u1"))
    assert [note.metadata["dia_id"] for note in notes] == ["D2:1", "D2:2", "D10:1"]
    assert notes[2].timestamp == datetime(2023, 6, 2, 9, 5, tzinfo=timezone.utc)
    hits = mem.search("red bicycle photo", k=1, user_id="u1")
    assert hits[0].note.metadata["dia_id"] == "D2:2"


@pytest.mark.skipif(not (DATA / "locomo" / "26.json").exists(), reason="no LoCoMo data")
def test_a_locomo_conversation() -> None:
    items = conversation_items(DATA / "locomo" / "26.json")
    assert len(items) == 419  # 19 sessions; the dates listed for sessions 20-35 have no turns
    assert len({item["metadata"]["dia_id"] for item in items}) == len(items)
    assert items[0]["timestamp"] == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    assert any("[shares " in item["content"] for item in items)


def broken(change: str) -> dict[str, Any]:
    data = small()
    turn = data["session_2"][0]
    if change == "no sessions":
        data = {"speaker_a": "Ann", "qa": []}
    elif change == "session not a list":
        data["session_2"] = {"D2:1": "hi"}
    elif change == "no date":
        del data["session_2_date_time"]
    elif change == "bad date":
        data["session_2_date_time"] = "sometime in spring"
    elif change == "turn not an object":
        data["session_2"][0] = "Ann: hi"
    elif change in ("text", "speaker", "dia_id"):
        del turn[change]
    elif change == "blank text":
        turn["text"] = "   "
    elif change == "conversation not an object":
        data = {"conversation": ["session_1"]}
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no sessions", r"no sessions"),
        ("session not a list", r"session_2 must be a list of turns, not dict"),
        ("no date", r"session_2 has no 'session_2_date_time'"),
        ("bad date", r"session_2_date_time: .*'sometime in spring' is not a recognisable date"),
        ("turn not an object", r"session_2 turn 0 must be an object, not str"),
        ("text", r"session_2 turn 0 has no 'text'"),
        ("blank text", r"session_2 turn 0 has no 'text'"),
        ("speaker", r"session_2 turn 0 has no 'speaker'"),
        ("dia_id", r"session_2 turn 0 has no 'dia_id'"),
        ("conversation not an object", r"'conversation' must be a JSON object, not list"),
    ],
)
def test_malformed_conversations_are_rejected_with_the_place(change: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        conversation_items(broken(change))


def test_malformed_files_and_arguments_are_rejected(tmp_path: Path) -> None:
    not_json = tmp_path / "chat.json"
    not_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="chat.json is not valid JSON"):
        conversation_items(not_json)
    with pytest.raises(InvalidInput, match="must be a JSON object, not list"):
        conversation_items([small()])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="sessions must be a positive int"):
        conversation_items(small(), sessions=0)
    with pytest.raises(InvalidInput, match=r"metadata_keys \['date'\]"):
        conversation_items(small(), metadata_keys=("dia_id", "date"))
    with pytest.raises(FileNotFoundError):
        conversation_items(tmp_path / "missing.json")
