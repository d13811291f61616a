"""The graph page in a real headless Chromium (Debian's package, driven by Playwright).

Slow suite. The screenshot is written to $ZETTELMEM_ARTIFACTS (or the test's tmp
folder); with ZETTELMEM_UPDATE_DOCS=1 it also replaces docs/graph.png, the README's figure.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Run, output_json

from memory.graph import render_page
from memory.model import Note

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CONVERSATION = ROOT / "memory" / "cli" / "data" / "conversation.json"


def _chromium() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/lib/chromium/chromium",  # Debian's binary (/usr/bin/chromium wraps it)
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = _chromium()
    if executable is None:
        pytest.skip("no chromium (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def _open(browser: Any, page_file: Path) -> tuple[Any, list[str], list[str]]:
    """The page loaded, with the console errors and the requests it made."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri())
    page.wait_for_function("window.zettelmem !== undefined")
    return page, errors, requests


def _trajectory(index: int, task: str, verb: str) -> dict[str, Any]:
    return {
        "id": f"t{index}",
        "task": task,
        "success": True,
        "steps": [
            {"action": "go to the cupboard", "observation": "you see a mug and a plate"},
            {"action": f"take the {verb} from the cupboard", "observation": "done"},
            {"action": f"put the {verb} in the sink", "observation": "done"},
        ],
    }


def test_graph_page_renders_searches_and_filters_in_chromium(
    browser: Any, run: Run, tmp_path: Path
) -> None:
    store = tmp_path / "store"
    assert run("import", CONVERSATION, "--path", store, "--user", "demo", "--quiet").exit_code == 0
    trajectories = tmp_path / "t.jsonl"
    trajectories.write_text(
        "\n".join(
            json.dumps(_trajectory(i, f"put a {verb} in the sink", verb))
            for i, verb in enumerate(["mug", "plate", "cup"])
        ),
        encoding="utf-8",
    )
    assert run("learn", trajectories, "--path", store, "--user", "demo").exit_code == 0
    assert (
        run(
            "add", "Kim: the quarterly report is due Friday", "--path", store, "--user", "kim"
        ).exit_code
        == 0
    )
    notes = output_json(run("list", "--path", store, "--json"))
    page_file = tmp_path / "graph.html"
    assert run("graph", "--path", store, "--output", page_file).exit_code == 0

    page, errors, requests = _open(browser, page_file)
    assert page.evaluate("window.zettelmem.nodeCount()") == len(notes)
    assert page.locator("#graph canvas").count() == 1
    assert f"{len(notes)} notes" in page.inner_text("#status")

    # The search box lights up exactly the matching note.
    target = next(n for n in notes if "quarterly report" in n["content"])
    page.fill("#search", "quarterly")
    assert page.evaluate("window.zettelmem.highlighted()") == [target["id"]]
    assert "1 matching" in page.inner_text("#status")
    assert "quarterly report" in page.inner_text("#details")  # the note's details are shown

    # The scope selector hides the other scopes.
    page.fill("#search", "")
    page.select_option("#scope", "user_id=kim")
    assert page.evaluate("window.zettelmem.nodeCount()") == 1
    page.select_option("#scope", "")
    assert page.evaluate("window.zettelmem.nodeCount()") == len(notes)

    # For the figure: every kind in its colour, one note clicked open.
    page.fill("#search", "")
    busiest = max(notes, key=lambda n: n["links"])["id"]
    point = page.evaluate(
        "(id) => { const n = window.zettelmem.network;"
        " const p = n.canvasToDOM(n.getPosition(id)); return [p.x, p.y]; }",
        busiest,
    )
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])  # hovering shows the note
    busiest_note = next(n for n in notes if n["id"] == busiest)
    page.wait_for_function(
        "(id) => document.getElementById('details').innerText.includes(id)", arg=busiest
    )
    details = page.inner_text("#details")
    assert busiest_note["content"][:40] in details and "keywords" in details
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    artifacts = Path(os.environ.get("ZETTELMEM_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "graph.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
    if os.environ.get("ZETTELMEM_UPDATE_DOCS") == "1":
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(shot, ROOT / "docs" / "graph.png")
    assert errors == []
    assert requests == [page_file.as_uri()]  # nothing fetched: the page is self-contained
    page.close()


def test_graph_page_with_5000_notes_loads_in_chromium(browser: Any, tmp_path: Path) -> None:
    notes = [
        Note(content=f"note {i} about topic {i % 50}", user_id=f"u{i % 3}") for i in range(5000)
    ]
    for i, note in enumerate(notes):
        if i % 50:  # chains of fifty notes, like conversation threads
            note.follows = notes[i - 1].id
            note.links = {notes[i - 1].id: 0.5}
    page_file = tmp_path / "big.html"
    page_file.write_text(render_page(notes), encoding="utf-8")
    page, errors, _ = _open(browser, page_file)
    assert page.evaluate("window.zettelmem.nodeCount()") == 5000
    page.fill("#search", "note 4321 ")
    assert page.evaluate("window.zettelmem.highlighted()") == [notes[4321].id]
    assert errors == []
    page.close()
