"""Observation boilerplate learned from the observations a scope recalls with."""

from __future__ import annotations

from domains_data import trajectory

from memory import AgenticMemory
from memory.model import Scope
from memory.procedures import build_profile, recall_query
from memory.procedures.boilerplate import MIN_OBSERVATIONS, RecurringParts, part_key
from memory.procedures.profile import ScopeProfile

SHOPPER = Scope(user_id="shopper")

NAV = "[Search box] [Sign in] [Orders] [Cart (0)] [Account] [Help]"


def test_a_part_recurs_once_seen_in_enough_distinct_observations() -> None:
    parts = RecurringParts()
    for number in range(MIN_OBSERVATIONS):
        assert parts.observe("agent", ["nav", f"task {number}"]) == set()
    assert parts.observe("agent", ["nav", "a new task"]) == {"nav"}
    assert parts.observe("another agent", ["nav", "a new task"]) == set()  # per scope


def test_the_same_observation_again_and_bare_tasks_are_not_counted() -> None:
    parts = RecurringParts()
    for _ in range(5):
        assert parts.observe("agent", ["nav", "the same task"]) == set()
        assert parts.observe("agent", ["a bare task"]) == set()
    assert parts.observe("agent", ["nav", "other"]) == set()  # seen in 1 distinct observation


def test_the_same_observation_again_gets_the_same_answer() -> None:
    # Its own first count is not another observation: an agent that recalls twice
    # with one page must get one answer, not a page whose lines turned boilerplate.
    parts = RecurringParts()
    for number in range(MIN_OBSERVATIONS - 1):
        parts.observe("agent", ["nav", f"task {number}"])
    first = parts.observe("agent", ["nav", "the task"])
    assert first == set()
    assert parts.observe("agent", ["nav", "the task"]) == first
    assert parts.observe("agent", ["nav", "a new task"]) == {"nav"}
    assert parts.observe("agent", ["nav", "the task"]) == {"nav"}  # now seen elsewhere too


def test_part_key_ignores_case_punctuation_and_numbers() -> None:
    assert part_key("[Cart (2)] [Checkout]") == part_key("[cart (0)] [checkout]") == "cart checkout"


def _learn_shop(mem: AgenticMemory) -> None:
    runs = [
        ("buy", "Buy a red kettle and check out.", "search[red kettle]", "click[Buy now]"),
        ("track", "Where is my order 5521? Show its status.", "click[Orders]", "click[5521]"),
        ("reset", "Reset the password of ann@shop.test.", "click[Sign in]", "click[Forgot]"),
    ]
    for name, task, first, second in runs:
        mem.learn(trajectory(name, task, [(first, "page"), (second, "done")]), user_id="shopper")


def _observation(task: str) -> str:
    return f"https://shop.test/ - Home\n{NAV}\nToday's deals: 20% off.\n{task}"


def _profile(mem: AgenticMemory) -> ScopeProfile:
    return build_profile(mem._procedural.learned_notes(SHOPPER))


def test_recurring_page_parts_stop_standing_for_the_task(mem: AgenticMemory) -> None:
    _learn_shop(mem)
    for task in ("Order a blue mug.", "Show my orders.", "Buy two spoons.", "Track order 7."):
        mem.recall(_observation(task), k=1, user_id="shopper")
    observation = _observation("Purchase a green lamp, 2 units.")
    profile = _profile(mem)
    assert mem._procedural.boilerplate(observation, Scope(user_id="other"), profile) == set()
    boilerplate = mem._procedural.boilerplate(observation, SHOPPER, profile)
    assert boilerplate == {0, 1, 2, 3}  # the address line, the navigation bar, the deals
    query = recall_query(observation, profile, boilerplate=boilerplate)
    assert query.statement == "Purchase a green lamp, 2 units."
    assert query.weights.get("account", 0.0) == 0.0  # a navigation word, not the task's
    # Without what the scope has seen, the address line passes for the task.
    assert recall_query(observation, profile).statement != query.statement


def test_a_recurring_part_a_stored_task_contains_is_no_boilerplate(mem: AgenticMemory) -> None:
    _learn_shop(mem)
    task = "Where is my order 5521? Show its status."
    for page in ("Home", "Orders", "Help", "Cart"):
        mem.recall(f"-= {page} =-\n{NAV}\n{task}", k=1, user_id="shopper")
    observation = f"-= Account =-\n{NAV}\n{task}"
    boilerplate = mem._procedural.boilerplate(observation, SHOPPER, _profile(mem))
    # The navigation bar is boilerplate; the sentence the stored task states is not,
    # however often it recurs.
    assert 1 in boilerplate and 2 not in boilerplate
    query = recall_query(observation, _profile(mem), boilerplate=boilerplate)
    assert query.statement == "Where is my order 5521?"
