"""Generalising tasks and observations into recall keys."""

from __future__ import annotations

import pytest
from procedures_data import gold_items, observation

from memory.procedures import (
    OBJECT,
    RECEPTACLE,
    extract_task,
    parse_task,
    recall_key,
    strip_room_description,
)

ROOM = (
    "You are in the middle of a room. Looking quickly around you, you see a cabinet 2, "
    "a cabinet 1, a countertop 1, a fridge 1, a microwave 1, and a sinkbasin 1."
)


def _type_keys() -> dict[str, str]:
    """The recall key of each gold task type (asserted unique per type elsewhere)."""
    return {item["type"]: recall_key(item["task"]) for item in gold_items()}


def test_room_description_is_stripped_and_the_task_kept() -> None:
    text = f"{ROOM}\nYour task is to: put a clean apple in sidetable."
    assert strip_room_description(ROOM) == ""
    assert extract_task(text) == "put a clean apple in sidetable."
    assert extract_task("heat some egg and put it in diningtable.") == (
        "heat some egg and put it in diningtable."
    )


def test_every_gold_type_has_one_key_and_the_six_keys_differ() -> None:
    keys: dict[str, set[str]] = {}
    for item in gold_items():
        keys.setdefault(item["type"], set()).add(recall_key(item["task"]))
    assert all(len(k) == 1 for k in keys.values()), keys
    assert len({next(iter(k)) for k in keys.values()}) == 6


def test_full_observation_gives_the_same_key_as_the_bare_task() -> None:
    for item in gold_items():
        assert recall_key(observation(item)) == recall_key(item["task"]), item["id"]


def test_keys_use_placeholders_and_name_the_verbs() -> None:
    for item in gold_items():
        intent = parse_task(item["task"])
        key = recall_key(item["task"])
        assert intent.object and intent.object not in key, (item["id"], key)
        assert OBJECT in key
        if item["type"] != "examine":
            assert RECEPTACLE in key and intent.receptacle not in key
        assert "(verbs: find, take" in key
    keys = _type_keys()
    assert "heat" in keys["heat"] and "cool" in keys["cool"] and "clean" in keys["clean"]
    assert "two" in keys["puttwo"] and "two" not in keys["put"]
    assert "desklamp" in keys["examine"] and "use" in keys["examine"]


def test_slots_are_read_from_the_gold_tasks() -> None:
    intents = {item["id"]: parse_task(item["task"]) for item in gold_items()}
    assert (intents["react_heat_1"].object, intents["react_heat_1"].receptacle) == (
        "apple",
        "fridge",
    )
    assert intents["react_put_0"].receptacle == "toilet"
    assert intents["react_puttwo_0"].count == 2
    assert intents["react_examine_1"].tool == "desklamp"
    assert intents["react_cool_1"].tool == "fridge"


@pytest.mark.parametrize(
    ("phrasing", "family"),
    [
        ("warm a bowl and set it on the desk.", "heat"),
        ("heat up the tomato, then drop it in the garbage can", "heat"),
        ("put a chilled wine bottle into the cabinet", "cool"),
        ("freeze the lettuce and leave it on the counter top", "cool"),
        ("wash the fork and place it in a drawer", "clean"),
        ("put a rinsed plate on the dining table", "clean"),
        ("move 2 books to the shelf", "puttwo"),
        ("find two remote controls and put them on the armchair", "puttwo"),
        ("examine an alarm clock under the desk lamp", "examine"),
        ("switch on the floor lamp and study the vase", "examine"),
        ("put the mug in the microwave", "put"),
        ("look for a mug and put it in the coffee machine", "put"),
        ("carry the laptop to the bed", "put"),
    ],
)
def test_unseen_phrasings_get_the_key_of_their_type(phrasing: str, family: str) -> None:
    key = recall_key(f"{ROOM}\nYour task is to: {phrasing}")
    assert parse_task(phrasing).family == family
    if family == "examine" and "floor" in phrasing:
        assert key == _type_keys()["examine"].replace("desklamp", "floorlamp")
    else:
        assert key == _type_keys()[family]


def test_given_verbs_replace_the_inferred_ones() -> None:
    key = recall_key("heat some egg and put it in diningtable.", verbs=["take", "heat"])
    assert key.endswith("(verbs: take, heat)")


def test_unknown_tasks_fall_back_to_normalised_text() -> None:
    intent = parse_task("Your task is to: turn off the lightswitch 1")
    assert intent.family == "other"
    assert recall_key("turn off the lightswitch 1") == "turn off the lightswitch"
    assert recall_key("turn on the toaster 1") == f"turn on the {RECEPTACLE}"
    assert recall_key(ROOM) == ""
