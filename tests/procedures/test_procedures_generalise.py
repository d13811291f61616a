"""When-to-use keys: arguments found by aligning the task with its actions, in any domain."""

from __future__ import annotations

import re

from domains_data import CODING, LAB, TEXTGAME, WEB
from procedures_data import gold_trajectories

from memory.procedures import Hints, align_arguments, task_key, task_statement, words
from memory.procedures.steps import is_thought


def _actions(trajectory) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.action for s in trajectory.steps if not is_thought(s)]


def _key(trajectory, hints: Hints | None = None):  # type: ignore[no-untyped-def]
    return task_key(trajectory.task, _actions(trajectory), hints=hints or Hints())


def test_household_arguments_are_found_without_any_vocabulary() -> None:
    keys = {t.id: _key(t) for t in gold_trajectories()}
    assert keys["react_heat_0"].phrase == "heat some <arg1> and put it in <arg2>"
    assert keys["react_heat_0"].arguments == {"<arg1>": "egg", "<arg2>": "diningtable"}
    assert keys["react_puttwo_0"].phrase == "put two <arg1> in <arg2>"
    assert keys["react_put_0"].arguments == {"<arg1>": "spraybottle", "<arg2>": "toilet"}
    for trajectory in gold_trajectories():
        key = keys[trajectory.id]
        assert key.arguments, trajectory.id
        for literal in key.arguments.values():
            assert literal not in key.phrase.split(), (trajectory.id, key.phrase)


def test_the_same_phrasing_of_one_kind_gives_one_key_whatever_the_objects() -> None:
    keys = {}
    for trajectory in gold_trajectories():
        keys.setdefault(_key(trajectory).phrase, set()).add(trajectory.metadata["type"])
    # Every phrase belongs to exactly one kind: arguments never leak into the key.
    assert all(len(kinds) == 1 for kinds in keys.values()), keys
    assert "heat some <arg1> and put it in <arg2>" in keys


def test_coding_keys_keep_the_skill_words_and_abstract_paths() -> None:
    branches = _key(CODING[2])
    # "git branch" is a sub-command, so "branches" names the skill, not an argument.
    assert branches.phrase == "clean up the stale git branches already <arg1> into <arg2>"
    assert branches.arguments["<arg2>"] == "main"
    assert _key(CODING[3]).phrase == branches.phrase
    download = _key(CODING[4])
    assert "download" in download.skill and "list" in download.skill
    assert "users" not in download.phrase.split()


def test_web_and_lab_tasks_are_not_mistaken_for_household_families() -> None:
    flight = _key(WEB[0])
    assert flight.phrase == "book a <arg1> to <arg2> and put it in my <arg3>"
    assert flight.arguments == {"<arg1>": "flight", "<arg2>": "lisbon", "<arg3>": "calendar"}
    assert "book" in flight.skill
    boil = _key(LAB[1])
    # "salt" grows into the argument because the actions write "salt solution".
    assert boil.arguments["<arg1>"] == "salt solution"
    circuit = _key(LAB[2])
    assert circuit.phrase == "connect the <arg1> to the <arg2> and test the <arg3>"


def test_glued_compounds_and_plurals_align() -> None:
    spans = align_arguments("put the spray bottle on the toilet", ["put spraybottle 1 in toilet 1"])
    task_words = words("put the spray bottle on the toilet")
    assert [" ".join(task_words[a:b]) for a, b in spans] == ["spray bottle", "toilet"]
    key = task_key("delete the old branches", ["git branch -D branch"])
    assert key.arguments == {"<arg1>": "branches"}


def test_the_task_inside_a_long_text_is_the_part_the_actions_use() -> None:
    text = (
        "Welcome to the lab! Safety goggles are mandatory. Your goal: heat the water "
        "sample to 60 degrees."
    )
    statement = task_statement(text, _actions(LAB[0]))
    # The banner's sentences go; the goal keeps its label (one statement).
    assert statement == "Your goal: heat the water sample to 60 degrees."
    assert task_statement("just one sentence", ["act"]) == "just one sentence"


def test_a_label_the_actions_never_use_stays_in_the_key() -> None:
    key = task_key(
        "Find something to eat: the red muffin. Enjoy!",
        ["take red muffin from table", "eat red muffin"],
    )
    assert key.task == "Find something to eat: the red muffin."
    assert key.phrase == "find something to eat the <arg1>"
    assert {"find", "eat"} <= set(key.skill)
    tidy = task_key(
        "Tidy the repo: merged branches can go. Thanks", ["git branch --merged", "git branch -d x"]
    )
    assert tidy.task.startswith("Tidy the repo:")


def test_hints_force_arguments_and_skill_words_and_fold_synonyms() -> None:
    plain = task_key("deploy the api to staging", ["deploy api --env staging"])
    assert plain.arguments == {"<arg1>": "api", "<arg2>": "staging"}
    hinted = task_key(
        "deploy the api to staging",
        ["deploy api --env staging"],
        hints=Hints(skill_words={"api"}, arguments={"the"}, synonyms={"deploy": "ship"}),
    )
    assert "api" in hinted.skill and "ship" in hinted.skill
    assert "<arg1>" in hinted.phrase and hinted.arguments["<arg1>"] == "the"


def test_bare_option_numbers_never_become_arguments_or_verbs() -> None:
    key = _key(TEXTGAME[0])
    assert key.arguments["<arg2>"] == "chest"
    assert all(not re.fullmatch(r"\d+", literal) for literal in key.arguments.values())


def test_escaped_newlines_in_logged_json_arguments_separate_words() -> None:
    import json

    action = "write_file " + json.dumps({"content": "[project]\nname = 'demo'\n\tdeps"})
    assert words(action) == ["write", "file", "content", "project", "name", "demo", "deps"]
