"""The procedural development domains load with their promised shape, and the
benchmark's action-coverage metric behaves as documented on hand-made cases."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
DOMAINS = BENCH / "data" / "procedures"
ITEM_KEYS = {"id", "type", "task", "setting", "steps", "success"}


def _module(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load(name: str) -> dict[str, Any]:
    return json.loads((DOMAINS / f"{name}.json").read_text())


DOMAIN_NAMES = sorted(p.stem for p in DOMAINS.glob("*.json"))


def test_at_least_two_domains_are_committed() -> None:
    assert {"tooluse", "textworld"} <= set(DOMAIN_NAMES)


@pytest.mark.parametrize("name", DOMAIN_NAMES)
def test_domain_items_have_the_gold_trajectory_shape(name: str) -> None:
    data = _load(name)
    items = data["learn"] + data["heldout"]
    assert data["domain"] == name
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids))
    for item in items:
        assert set(item) == ITEM_KEYS, item["id"]
        assert isinstance(item["success"], bool)
        assert item["task"].strip() and item["setting"].strip() and item["type"].strip()
        assert item["steps"], item["id"]
        for step in item["steps"]:
            assert set(step) == {"action", "observation"}
            assert isinstance(step["action"], str) and step["action"].strip()
            assert isinstance(step["observation"], str)


@pytest.mark.parametrize("name", DOMAIN_NAMES)
def test_domain_has_enough_kinds_learned_and_held_out(name: str) -> None:
    data = _load(name)
    learned = Counter(t["type"] for t in data["learn"] if t["success"])
    held = Counter(t["type"] for t in data["heldout"])
    assert len(learned) >= 5
    assert all(count >= 3 for count in learned.values()), learned
    assert set(held) == set(learned)
    assert all(t["success"] for t in data["heldout"])


@pytest.mark.parametrize("name", ["tooluse", "webnav"])
def test_written_domains_have_failures_and_varied_phrasing(name: str) -> None:
    data = _load(name)
    assert sum(not t["success"] for t in data["learn"]) >= 5
    for kind in {t["type"] for t in data["learn"]}:
        tasks = {t["task"] for t in data["learn"] + data["heldout"] if t["type"] == kind}
        assert len(tasks) >= 5, kind


@pytest.mark.parametrize("name", ["tooluse", "webnav"])
def test_written_domain_json_is_what_the_seeded_generator_builds(name: str) -> None:
    build = _module(f"build_{name}_domain").build
    assert build(seed=12) == _load(name)
    assert build(seed=13) != build(seed=12)


# ---- the coverage metric -------------------------------------------------------------------


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _module("procedural_domains")


def test_tokens_drop_numbers_and_unify_placeholders(bench: ModuleType) -> None:
    assert bench.tokens("Go to Drawer 12") == ["go", "to", "drawer"]
    assert bench.tokens("take <object> from {place} [x]") == ["take", "<arg>", "from", "<arg>", "x"]
    assert bench.tokens("curl -w '%{http_code}'", slots=False) == ["curl", "w", "http", "code"]


def test_task_arguments_are_task_words_seen_after_the_verb(bench: ModuleType) -> None:
    args = bench.task_arguments(
        "Put the apple on the shelf.", ["take apple 1 from table 2", "put apple 1 on shelf 3"]
    )
    assert args == {"apple", "shelf"}  # "put" is only ever a verb, "the"/"on" are grammar


def test_identical_trajectory_covers_everything(bench: ModuleType) -> None:
    actions = ["git fetch --prune", "git branch -d fix/a", "git branch"]
    text = "\n".join(actions)
    assert bench.coverage("delete merged branches", actions, text, [("x", actions)]) == 1.0


def test_placeholders_stand_for_the_new_tasks_arguments(bench: ModuleType) -> None:
    gold = ["take apple 1 from table 1", "put apple 1 on shelf 2"]
    note = "Steps:\n1. take <thing> from table\n2. put <thing> on <place>"
    assert bench.coverage("put the apple on the shelf", gold, note, []) == 1.0


def test_a_raw_trajectorys_own_arguments_count_as_placeholders(bench: ModuleType) -> None:
    gold = ["git checkout -b feature/login", "git push -u origin feature/login"]
    raw_actions = ["git checkout -b fix/typo", "git push -u origin fix/typo"]
    raw = "\n".join(f"> {a}\nok" for a in raw_actions)
    got = bench.coverage(
        "create branch feature/login and push it",
        gold,
        raw,
        [("create branch fix/typo and push it", raw_actions)],
    )
    assert got == 1.0
    # without knowing the raw trajectory's task, its arguments are literal and do not match
    assert bench.coverage("create branch feature/login and push it", gold, raw, []) == 0.0


def test_partial_and_unrelated_recall(bench: ModuleType) -> None:
    gold = ["think: plan", "open fridge", "take egg from fridge", "heat egg with microwave"]
    note = "open fridge\ntake <x> from fridge"
    assert bench.coverage("heat an egg", gold, note, []) == pytest.approx(2 / 3)
    assert bench.coverage("heat an egg", gold, "wash the car\ncall mom", []) == 0.0
    assert bench.coverage("heat an egg", ["think: only thoughts"], note, []) == 0.0


def test_the_verb_must_match_and_a_placeholder_spans_at_most_four_tokens(
    bench: ModuleType,
) -> None:
    assert bench.coverage("t", ["open the red door"], "close the red door", []) == 0.0
    assert bench.coverage("t", ["say a b c d"], "say <x>", []) == 1.0
    assert bench.coverage("t", ["say a b c d e"], "say <x>", []) == 0.0
    assert bench.coverage("t", ["say a b"], "<x>", []) == 0.0


def test_repeated_actions_count_once(bench: ModuleType) -> None:
    gold = ["wait", "wait", "wait", "look"]
    assert bench.coverage("t", gold, "wait", []) == 0.5


def test_a_placeholder_takes_a_whole_multi_word_argument(bench: ModuleType) -> None:
    task = "Make tests/test_invoice.py::test_invoice_empty_input pass"
    gold = ["pytest tests/test_invoice.py::test_invoice_empty_input -q"]
    assert bench.coverage(task, gold, "1. pytest <test> -q", []) == 1.0
    assert bench.coverage(task, gold, "1. pytest tests/test_invoice.py -q", []) == 0.0


def test_strict_coverage_lets_placeholders_stand_only_for_task_arguments(
    bench: ModuleType,
) -> None:
    gold = ["click[Trail Runner 2]", "click[Submit return]", "type[Email] kim@mail.com"]
    note = "click[<item>]\ntype[Email] <address>"
    task = "Reset the password of kim@mail.com"
    assert bench.coverage(task, gold, note, []) == 1.0
    assert bench.coverage(task, gold, note, [], skeleton=False) == pytest.approx(1 / 3)


def test_markdown_table_has_a_row_per_method_and_query(bench: ModuleType) -> None:
    m = {"top1": 1.0, "top3": 1.0, "coverage": 0.5, "strict": 0.25, "chars": 12.0}
    results = {"d": {"rows": {"x": {"obs": m, "task": m}, "y": {"obs": m}}}}
    table = bench.markdown(results).splitlines()
    assert len(table) == 2 + 3
    assert table[2] == "| d | x | obs | 1.000 | 1.000 | 0.500 | 0.250 | 12 |"


def test_alfworld_queries_include_the_paraphrase(bench: ModuleType) -> None:
    paraphrases = bench.alfworld_paraphrases()
    assert len(paraphrases) == 18 and all(v.strip() for v in paraphrases.values())
    item = {"id": "react_put_0", "task": "put some spraybottle on toilet.", "setting": "A room."}
    domain = bench.Domain("alfworld", [], native=True, paraphrases=paraphrases)
    queries = dict(domain.queries(item))
    assert queries["obs"] == "A room.\nYour task is to: put some spraybottle on toilet."
    assert queries["task"] == "put some spraybottle on toilet."
    assert queries["para"] == f"A room.\nYour task is to: {paraphrases['react_put_0']}"
    plain = bench.Domain("x", [], native=False)
    assert [name for name, _ in plain.queries(item)] == ["obs", "task"]


def test_mixed_domain_pools_every_domain_with_prefixed_kinds(bench: ModuleType) -> None:
    mixed = bench.load_domain("mixed")
    [(learn, heldout)] = mixed.folds
    assert len(learn) == sum(len(_load(n)["learn"]) for n in DOMAIN_NAMES)
    assert len(heldout) == sum(len(_load(n)["heldout"]) for n in DOMAIN_NAMES)
    kinds = {t["type"] for t in learn}
    assert len(kinds) == sum(len({t["type"] for t in _load(n)["learn"]}) for n in DOMAIN_NAMES)
    assert all(k.split(":")[0] in DOMAIN_NAMES for k in kinds)


def test_raw_rendering_carries_the_task_and_every_step(bench: ModuleType) -> None:
    item = {"task": "Do it.", "steps": [{"action": "a 1", "observation": "ok"}]}
    assert bench.render_raw(item) == "Task: Do it.\n> a 1\nok"
