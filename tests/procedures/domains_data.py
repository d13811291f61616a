"""Small hand-written trajectories of non-household agents, for the procedures tests.

Four domains the library was never written for: a coding agent (shell, tests,
git), a web agent (forms, calendars), a lab agent (instruments, circuits) and a
text game with a "which one did you mean?" prompt. Each kind has two successes
phrased differently where a test needs the kind to be recognised again.
"""

from __future__ import annotations

from typing import Any

from memory.model import Trajectory

__all__ = ["CODING", "LAB", "TEXTGAME", "WEB", "all_domains", "trajectory"]


def trajectory(
    id: str, task: str, steps: list[tuple[str, str]], success: bool = True, **metadata: Any
) -> Trajectory:
    """A trajectory from (action, observation) pairs."""
    return Trajectory(
        id=id,
        task=task,
        steps=[{"action": a, "observation": o} for a, o in steps],
        success=success,
        metadata=metadata,
    )


CODING = [
    trajectory(
        "code_test_1",
        "Fix the failing test test_totals in tests/test_invoice.py",
        [
            ("pytest tests/test_invoice.py::test_totals -q", "1 failed: AssertionError"),
            ("sed -n 1,40p src/invoice.py", "def totals(items): ..."),
            ("edit src/invoice.py: handle empty items", "edited"),
            ("pytest tests/test_invoice.py::test_totals -q", "1 passed"),
            ("git commit -am 'fix totals'", "[main 1a2b3c] fix totals"),
        ],
    ),
    trajectory(
        "code_test_2",
        "Fix the failing test test_parse in tests/test_reader.py",
        [
            ("pytest tests/test_reader.py::test_parse -q", "1 failed: KeyError"),
            ("sed -n 1,40p src/reader.py", "def parse(row): ..."),
            ("edit src/reader.py: default missing keys", "edited"),
            ("pytest tests/test_reader.py::test_parse -q", "1 passed"),
            ("git commit -am 'fix parse'", "[main 4d5e6f] fix parse"),
        ],
    ),
    trajectory(
        "code_branches_1",
        "Clean up the stale git branches already merged into main",
        [
            ("git fetch --prune", "From origin"),
            ("git branch --merged main", "* main\n  feature/a\n  fix/b"),
            ("git branch -d feature/a", "Deleted branch feature/a"),
            ("git branch -d fix/b", "Deleted branch fix/b"),
        ],
    ),
    trajectory(
        "code_branches_2",
        "Clean up the stale git branches already merged into develop",
        [
            ("git fetch --prune", "From origin"),
            ("git branch --merged develop", "* develop\n  chore/c"),
            ("git branch -d chore/c", "Deleted branch chore/c"),
        ],
    ),
    trajectory(
        "code_http_1",
        "Download the users list from https://api.example.com/users into users.json",
        [
            ("curl -s https://api.example.com/users -o users.json", ""),
            ("jq length users.json", "42"),
            ("sleep 5", ""),
        ],
    ),
]

WEB = [
    trajectory(
        "web_flight_1",
        "book a flight to Lisbon and put it in my calendar",
        [
            ("open https://travel.example.com", "Flight search"),
            ("type destination Lisbon", "Lisbon (LIS)"),
            ("click search", "3 flights found"),
            ("click select on the cheapest flight", "Flight TP123 selected"),
            ("click pay", "Booking confirmed"),
            ("open https://calendar.example.com", "Calendar"),
            ("click new event", "New event form"),
            ("type title flight to Lisbon", "ok"),
            ("click save", "Event saved"),
        ],
    ),
    trajectory(
        "web_cart_1",
        "search for a usb cable and add it to the cart",
        [
            ("open https://shop.example.com", "Shop"),
            ("type search usb cable", "12 results"),
            ("click first result", "USB cable, 1 m"),
            ("click add to cart", "Added to cart"),
        ],
    ),
]

LAB = [
    trajectory(
        "lab_heat_1",
        "heat the water sample to 60 degrees",
        [
            ("move water sample to heater", "The water sample is on the heater."),
            ("turn heater on", "The heater is on."),
            ("wait", "The water sample warms."),
            ("wait", "The water sample warms."),
            ("wait", "The water sample is at 60 degrees."),
            ("use thermometer on water sample", "60 degrees"),
        ],
    ),
    trajectory(
        "lab_boil_1",
        "bring the salt solution to a boil and record its mass",
        [
            ("move salt solution to heater", "The salt solution is on the heater."),
            ("turn heater on", "The heater is on."),
            ("wait", "Bubbles appear."),
            ("wait", "The salt solution boils."),
            ("move salt solution to scale", "The scale reads 212 g."),
            ("record mass", "Recorded."),
        ],
    ),
    trajectory(
        "lab_circuit_1",
        "connect the battery to the red wire and test the bulb",
        [
            ("open door to workshop", "You enter the workshop."),
            ("look around", "You see a battery, a red wire and a bulb."),
            ("connect battery to red wire", "Connected."),
            ("connect red wire to bulb", "Connected."),
            ("look at bulb", "The bulb glows."),
        ],
    ),
]

TEXTGAME = [
    trajectory(
        "game_key_1",
        "take the brass key from the chest",
        [
            ("open door to hallway", "You are in the hallway."),
            ("open chest", "Which chest did you mean? 0: the oak chest 1: the iron chest"),
            ("1", "You open the iron chest. Inside: a brass key."),
            ("take brass key from chest", "Taken."),
        ],
    ),
]


def all_domains() -> dict[str, list[Trajectory]]:
    """Every hand-written domain by name."""
    return {"coding": CODING, "web": WEB, "lab": LAB, "textgame": TEXTGAME}
