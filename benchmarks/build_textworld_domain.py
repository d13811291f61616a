"""Build the TextWorld development domain for procedural memory.

Nine task kinds, every observation produced by the TextWorld engine (``pip install
textworld``, Microsoft, MIT) while the game's walkthrough is played through its
API:

* three of TextWorld's own challenge generators, with their own objective text as
  the task: ``cook_meal`` (``tw-cooking``: recipe, ingredients to find, cooking,
  cutting, doors, 1 or 6 rooms drawn at random), ``treasure_hunt``
  (``tw-treasure_hunter`` levels 11-30: containers, keys, distractors) and
  ``collect_coin`` (``tw-coin_collector``: pure navigation);
* six quests built with ``textworld.GameMaker`` from randomised rooms, objects,
  containers, keys and doors, their task sentences written for this benchmark
  (several phrasings per kind; held-out items prefer the phrasings no learned item
  of their kind used): ``stow_in_container``, ``deliver_to_supporter``,
  ``unlock_and_retrieve``, ``eat_food``, ``pass_locked_door``,
  ``secure_container``. For these, one learned trajectory per kind replays the
  walkthrough with one step left out, so it usually fails (``success`` is what the
  engine says).

``setting`` is the starting room's description; observations have the engine's
status line and end-of-game prompt removed.

Output: ``benchmarks/data/procedures/textworld.json`` (same layout as the tool-use
domain). Needs the ``bench`` extra (textworld); the benchmark reads the JSON only.

    python benchmarks/build_textworld_domain.py
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.domain_templates import write_domain  # noqa: E402

__all__ = ["CUSTOM_KINDS", "build", "main"]

OUT = Path(__file__).resolve().parent / "data" / "procedures" / "textworld.json"
LEARN_PER_KIND = 3
HELDOUT_PER_KIND = 4

ROOMS = ["pantry", "attic", "garage", "study", "cellar", "hallway", "workshop", "library", "porch"]
CONTAINERS = ["chest", "crate", "toolbox", "cabinet", "trunk", "locker", "safe", "hamper"]
SUPPORTERS = ["table", "shelf", "workbench", "desk", "counter", "bench", "stand"]
OBJECTS = ["lantern", "notebook", "wrench", "umbrella", "hat", "compass", "scarf", "mug", "candle"]
FOODS = ["apple", "carrot", "sandwich", "cookie", "banana", "pear", "muffin"]
KEYS = ["brass key", "iron key", "silver key", "rusty key", "small key"]
DOORS = ["oak door", "iron gate", "screen door", "red door", "wooden hatch"]
COLOURS = ["red", "blue", "green", "old", "shiny", "striped"]
DIRECTIONS = [("east", "west"), ("west", "east"), ("north", "south"), ("south", "north")]

PHRASINGS: dict[str, list[str]] = {
    "stow_in_container": [
        "Put the {obj} into the {cont}.",
        "Store the {obj} inside the {cont}.",
        "The {obj} belongs in the {cont}; place it there.",
        "Find the {obj} and pack it away in the {cont}.",
        "Make sure the {obj} ends up in the {cont}.",
        "Tidy up: the {obj} goes in the {cont}.",
    ],
    "deliver_to_supporter": [
        "Bring the {obj} to the {room} and set it on the {sup}.",
        "Carry the {obj} over to the {sup} in the {room}.",
        "The {obj} should be lying on the {sup} of the {room}.",
        "Move the {obj} onto the {sup} in the {room}.",
        "Take the {obj} and leave it on the {room}'s {sup}.",
        "Deliver the {obj}: its place is on the {sup}, {room}.",
    ],
    "unlock_and_retrieve": [
        "Get the {obj} out of the locked {cont}.",
        "The {obj} is locked away in the {cont}; retrieve it.",
        "Open up the {cont} with its key and take the {obj}.",
        "Fetch the {obj} that is kept in the locked {cont}.",
        "Recover the {obj} from the {cont} (it is locked).",
        "I need the {obj} from the {cont}, which is locked.",
    ],
    "eat_food": [
        "You are hungry: find the {food} and eat it.",
        "Eat the {food}.",
        "Have the {food} for a snack.",
        "Look for the {food} and consume it.",
        "Time for lunch - the {food} is somewhere around; eat it.",
        "Find something to eat: the {food}.",
    ],
    "pass_locked_door": [
        "Get into the {room}; the {door} is locked.",
        "Go through the locked {door} into the {room}.",
        "Reach the {room} behind the {door}.",
        "Unlock the {door} and enter the {room}.",
        "Find a way into the {room}.",
        "Make your way past the {door} to the {room}.",
    ],
    "secure_container": [
        "Lock the {cont} with the {key}.",
        "Close the {cont} and lock it.",
        "Secure the {cont} so nobody can open it.",
        "Make sure the {cont} is shut and locked.",
        "The {cont} is left open; close and lock it with its key.",
        "Lock up the {cont}.",
    ],
}


# ---- playing a game ------------------------------------------------------------------------


def clean(text: str) -> str:
    """Engine output without the status line, the end-of-game prompt and blank runs."""
    text = text.split("Would you like to RESTART")[0]
    text = re.sub(r">\s*-= [^=]* =-[\d/]*\s*$", "", text.rstrip())
    text = re.sub(r"\n\s*>\s*$", "", text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip().lstrip(">").strip()


def play(path: str, commands: list[str] | None = None) -> dict[str, Any]:
    """Play ``commands`` (default: the game's walkthrough) and record what the engine says."""
    import textworld

    infos = textworld.EnvInfos(objective=True, description=True, won=True, extras=["walkthrough"])
    env = textworld.start(path, infos)
    try:
        state = env.reset()
        actions = commands if commands is not None else list(state["extra.walkthrough"])
        steps, won = [], False
        for action in actions:
            state, _, done = env.step(action)
            steps.append({"action": action, "observation": clean(state.feedback)})
            won = bool(state.won)
            if done:
                break
        start = env.reset()
    finally:
        env.close()
    return {
        "objective": clean(start.objective or ""),
        "setting": clean(start.description or ""),
        "steps": steps,
        "won": won,
        "walkthrough": actions,
    }


# ---- TextWorld's own challenges ------------------------------------------------------------


def _tw_make(args: list[str], out: Path) -> str:
    subprocess.run(
        ["tw-make", *args, "--output", str(out), "-f", "--silent"],
        check=True,
        capture_output=True,
    )
    return str(out)


def cooking_args(rng: random.Random) -> list[str]:
    recipe = rng.randint(1, 3)
    args = ["tw-cooking", "--recipe", str(recipe), "--take", str(rng.randint(1, recipe))]
    args += ["--go", rng.choice(["1", "6"])]
    args += [flag for flag in ("--open", "--cook", "--cut") if rng.random() < 0.6]
    return args + ["--recipe-seed", str(rng.randrange(10_000))]


CHALLENGES: dict[str, Callable[[random.Random], list[str]]] = {
    "cook_meal": cooking_args,
    "treasure_hunt": lambda rng: ["tw-treasure_hunter", "--level", str(rng.randint(11, 30))],
    "collect_coin": lambda rng: ["tw-coin_collector", "--level", str(rng.randint(5, 40))],
}


# ---- custom quests -------------------------------------------------------------------------


class World:
    """A chain of 2-3 rooms with random exits and a few distractor objects."""

    def __init__(self, rng: random.Random) -> None:
        from textworld import GameMaker

        self.rng = rng
        self.maker = GameMaker()
        names = rng.sample(ROOMS, rng.randint(2, 3))
        self.rooms = [self.maker.new_room(n) for n in names]
        self.names = names
        self.exits: list[tuple[str, str]] = []
        self.paths = []
        for a, b in zip(self.rooms, self.rooms[1:], strict=False):
            taken = self.exits[-1][1] if self.exits else None  # a's exit back to its predecessor
            there, back = rng.choice([d for d in DIRECTIONS if d[0] != taken])
            self.paths.append(self.maker.connect(getattr(a, there), getattr(b, back)))
            self.exits.append((there, back))
        self.maker.set_player(self.rooms[0])
        self.used: set[str] = set()

    def name(self, pool: list[str]) -> str:
        options = [n for n in pool if n not in self.used]
        base = self.rng.choice(options)
        self.used.add(base)
        return f"{self.rng.choice(COLOURS)} {base}" if self.rng.random() < 0.4 else base

    def route(self, start: int, end: int) -> list[str]:
        if end >= start:
            return [f"go {self.exits[i][0]}" for i in range(start, end)]
        return [f"go {self.exits[i][1]}" for i in range(start - 1, end - 1, -1)]

    def room(self) -> int:
        return self.rng.randrange(len(self.rooms))

    def distract(self) -> None:
        for _ in range(self.rng.randint(1, 3)):
            thing = self.maker.new(type="o", name=self.name(OBJECTS))
            self.rooms[self.room()].add(thing)

    def place(self, thing: Any, where: int) -> list[str]:
        """Put ``thing`` on the floor or on a new supporter; the command that takes it."""
        if self.rng.random() < 0.5:
            self.rooms[where].add(thing)
            return [f"take {thing.name}"]
        sup = self.maker.new(type="s", name=self.name(SUPPORTERS))
        self.rooms[where].add(sup)
        sup.add(thing)
        return [f"take {thing.name} from {sup.name}"]


def stow_in_container(w: World) -> tuple[dict[str, str], list[str]]:
    obj = w.maker.new(type="o", name=w.name(OBJECTS))
    cont = w.maker.new(type="c", name=w.name(CONTAINERS))
    cont.add_property("closed")
    a, b = w.room(), w.room()
    w.rooms[b].add(cont)
    cmds = w.route(0, a) + w.place(obj, a) + w.route(a, b)
    cmds += [f"open {cont.name}", f"insert {obj.name} into {cont.name}"]
    return {"obj": obj.name, "cont": cont.name}, cmds


def deliver_to_supporter(w: World) -> tuple[dict[str, str], list[str]]:
    obj = w.maker.new(type="o", name=w.name(OBJECTS))
    sup = w.maker.new(type="s", name=w.name(SUPPORTERS))
    a, b = w.room(), len(w.rooms) - 1
    w.rooms[b].add(sup)
    cmds = w.route(0, a) + w.place(obj, a) + w.route(a, b) + [f"put {obj.name} on {sup.name}"]
    return {"obj": obj.name, "sup": sup.name, "room": w.names[b]}, cmds


def unlock_and_retrieve(w: World) -> tuple[dict[str, str], list[str]]:
    obj = w.maker.new(type="o", name=w.name(OBJECTS))
    cont = w.maker.new(type="c", name=w.name(CONTAINERS))
    key = w.maker.new(type="k", name=w.name(KEYS))
    cont.add_property("locked")
    w.maker.add_fact("match", key, cont)
    cont.add(obj)
    a, b = w.room(), w.room()
    w.rooms[b].add(cont)
    cmds = w.route(0, a) + w.place(key, a) + w.route(a, b)
    cmds += [
        f"unlock {cont.name} with {key.name}",
        f"open {cont.name}",
        f"take {obj.name} from {cont.name}",
    ]
    return {"obj": obj.name, "cont": cont.name, "key": key.name}, cmds


def eat_food(w: World) -> tuple[dict[str, str], list[str]]:
    food = w.maker.new(type="f", name=w.name(FOODS))
    a = w.room()
    if w.rng.random() < 0.5:
        cont = w.maker.new(type="c", name=w.name(CONTAINERS))
        cont.add_property("closed")
        w.rooms[a].add(cont)
        cont.add(food)
        take = [f"open {cont.name}", f"take {food.name} from {cont.name}"]
    else:
        take = w.place(food, a)
    return {"food": food.name}, w.route(0, a) + take + [f"eat {food.name}"]


def pass_locked_door(w: World) -> tuple[dict[str, str], list[str]]:
    key = w.maker.new(type="k", name=w.name(KEYS))
    door = w.maker.new_door(w.paths[-1], name=w.name(DOORS))
    door.add_property("locked")
    w.maker.add_fact("match", key, door)
    last = len(w.rooms) - 1
    a = w.rng.randrange(last)
    cmds = w.route(0, a) + w.place(key, a) + w.route(a, last - 1)
    cmds += [
        f"unlock {door.name} with {key.name}",
        f"open {door.name}",
        f"go {w.exits[-1][0]}",
    ]
    return {"door": door.name, "room": w.names[last], "key": key.name}, cmds


def secure_container(w: World) -> tuple[dict[str, str], list[str]]:
    cont = w.maker.new(type="c", name=w.name(CONTAINERS))
    key = w.maker.new(type="k", name=w.name(KEYS))
    cont.add_property("open")
    w.maker.add_fact("match", key, cont)
    a, b = w.room(), w.room()
    w.rooms[b].add(cont)
    cmds = w.route(0, a) + w.place(key, a) + w.route(a, b)
    cmds += [f"close {cont.name}", f"lock {cont.name} with {key.name}"]
    return {"cont": cont.name, "key": key.name}, cmds


CUSTOM_KINDS: dict[str, Callable[[World], tuple[dict[str, str], list[str]]]] = {
    "stow_in_container": stow_in_container,
    "deliver_to_supporter": deliver_to_supporter,
    "unlock_and_retrieve": unlock_and_retrieve,
    "eat_food": eat_food,
    "pass_locked_door": pass_locked_door,
    "secure_container": secure_container,
}


def custom_game(rng: random.Random, kind: str, out: Path) -> tuple[dict[str, str], list[str], str]:
    """Build and compile one quest; its arguments, walkthrough and game file."""
    world = World(rng)
    arguments, commands = CUSTOM_KINDS[kind](world)
    world.distract()
    world.maker.set_quest_from_commands(commands)
    return arguments, commands, str(world.maker.compile(str(out)))


# ---- the domain ----------------------------------------------------------------------------


def _item(kind: str, split: str, index: int, played: dict[str, Any], task: str) -> dict[str, Any]:
    return {
        "id": f"textworld_{split}_{kind}_{index}",
        "type": kind,
        "task": task,
        "setting": played["setting"],
        "steps": played["steps"],
        "success": played["won"],
    }


def build(
    seed: int = 12, log: Callable[[str], None] = print, cache: Path | None = None
) -> dict[str, Any]:
    """Generate, play and record every game of the domain.

    ``cache``: a folder keeping each generator game's recording by its ``tw-make``
    arguments (the slow part), so a rerun after a failure resumes.
    """
    rng = random.Random(seed)
    learn: list[dict[str, Any]] = []
    heldout: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind, make_args in CHALLENGES.items():
            for n in range(LEARN_PER_KIND + HELDOUT_PER_KIND):
                game_seed = rng.randrange(1_000_000)
                make = make_args(rng) + ["--seed", str(game_seed)]
                saved = cache / ("_".join(make).replace("-", "") + ".json") if cache else None
                if saved and saved.exists():
                    played = json.loads(saved.read_text())
                else:
                    played = play(_tw_make(make, folder / f"{kind}{n}.z8"))
                    if saved:
                        saved.parent.mkdir(parents=True, exist_ok=True)
                        saved.write_text(json.dumps(played))
                split, index = (
                    ("learn", n) if n < LEARN_PER_KIND else ("heldout", n - LEARN_PER_KIND)
                )
                (learn if split == "learn" else heldout).append(
                    _item(kind, split, index, played, played["objective"])
                )
                log(f"{kind} {split} {index}: {len(played['steps'])} steps, won={played['won']}")
        for kind in CUSTOM_KINDS:
            used: set[int] = set()
            for n in range(LEARN_PER_KIND + 1 + HELDOUT_PER_KIND):
                learned = n <= LEARN_PER_KIND
                failing = n == LEARN_PER_KIND  # the failed attempt: one walkthrough step left out
                for _attempt in range(3):  # a quest whose walkthrough does not win is redrawn
                    arguments, walkthrough, path = custom_game(rng, kind, folder / f"{kind}{n}.z8")
                    commands = None
                    if failing:
                        drop = rng.randrange(len(walkthrough) - 1)
                        commands = walkthrough[:drop] + walkthrough[drop + 1 :]
                    played = play(path, commands)
                    if failing or played["won"]:
                        break
                    log(f"{kind} {n}: walkthrough did not win, drawing another quest")
                options = PHRASINGS[kind]
                if learned:
                    choice = rng.randrange(len(options))
                    used.add(choice)
                else:
                    fresh = [i for i in range(len(options)) if i not in used]
                    choice = rng.choice(fresh or list(range(len(options))))
                task = options[choice].format(**arguments)
                split, index = ("learn", n) if learned else ("heldout", n - LEARN_PER_KIND - 1)
                (learn if learned else heldout).append(_item(kind, split, index, played, task))
                log(f"{kind} {split} {index}: {len(played['steps'])} steps, won={played['won']}")
    return {
        "domain": "textworld",
        "source": "TextWorld 1.7 engine (pip install textworld); "
        "benchmarks/build_textworld_domain.py",
        "seed": seed,
        "learn": learn,
        "heldout": heldout,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, help="keep generator games' recordings here")
    args = parser.parse_args()
    write_domain(build(args.seed, cache=args.cache), args.out)


if __name__ == "__main__":
    main()
