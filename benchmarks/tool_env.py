"""A small tool-use environment for agent benchmarks: a fake project, its tools, task kinds.

    Workspace        an in-memory project: files, an installed-package set, a commit log,
                     a test runner whose verdict depends on the files
    workspace_tools  the agent's tools over one workspace (LangChain ``StructuredTool``s):
                     list_files, read_file, write_file, search_code, run_tests,
                     install_package, git_commit
    Task             one task instance: its kind, the request text, the oracle plan
    TASK_KINDS       six kinds of software chores, each with instances that differ in their
                     entities (module, package, symbol, version), never in their recipe
    judge_run        did the run leave the workspace in the state the task asks for?

The scripted agent follows each task's oracle plan (what a competent model would do),
so the benchmark measures memory, not the model: which procedure the second run of a
kind is shown. The wording of each kind's requests varies between instances, so the
recall must match kinds, not sentences.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

__all__ = ["TASK_KINDS", "Task", "Workspace", "judge_run", "tasks", "workspace_tools"]

Plan = list[tuple[str, dict[str, Any]]]


@dataclass
class Workspace:
    """A fake project the tools act on; fresh for every run."""

    files: dict[str, str] = field(default_factory=dict)
    packages: set[str] = field(default_factory=set)
    commits: list[str] = field(default_factory=list)
    registry_down: bool = False
    test_runs: list[str] = field(default_factory=list)

    @classmethod
    def sample(cls) -> Workspace:
        modules = ("parser", "lexer", "cache", "router", "billing", "auth", "report", "mailer")
        files = {f"src/{m}.py": f"def {m}_main(x):\n    return x  # BUG\n" for m in modules}
        files.update({f"tests/test_{m}.py": f"from src.{m} import *\n" for m in modules})
        files["pyproject.toml"] = '[project]\nname = "demo"\nversion = "1.3.0"\ndependencies = []\n'
        files["CHANGELOG.md"] = "# Changelog\n"
        files["src/util.py"] = "def load_config(path):\n    return {}\n"
        files["src/app.py"] = "from src.util import load_config\nload_config('app.toml')\n"
        return cls(files=files)

    def run_tests(self, path: str) -> str:
        self.test_runs.append(path)
        targets = [path] if path in self.files else [p for p in self.files if p.startswith(path)]
        if not targets:
            return f"ERROR: no tests found at {path}"
        failing = []
        for test in targets:
            module = test.removeprefix("tests/test_").removesuffix(".py")
            source = self.files.get(f"src/{module}.py", "")
            if "BUG" in source:
                failing.append(f"{test}::test_{module}_main FAILED (AssertionError)")
        missing = [
            name for name in self._declared() if name not in self.packages and name != "demo"
        ]
        if missing:
            return f"ImportError: No module named {missing[0]!r}"
        if failing:
            return f"{len(failing)} failed, {len(targets) - len(failing)} passed\n" + "\n".join(
                failing
            )
        return f"{len(targets)} passed"

    def _declared(self) -> list[str]:
        text = self.files.get("pyproject.toml", "")
        for line in text.splitlines():
            if line.startswith("dependencies"):
                return json.loads(line.split("=", 1)[1].strip())
        return []


def workspace_tools(workspace: Callable[[], Workspace]) -> list[BaseTool]:
    """The agent's tools, acting on ``workspace()`` (the current run's workspace)."""

    def list_files(directory: str = "") -> str:
        """List the project's files under a directory."""
        return "\n".join(sorted(p for p in workspace().files if p.startswith(directory)))

    def read_file(path: str) -> str:
        """Read a file of the project."""
        return workspace().files.get(path, f"ERROR: {path} does not exist")

    def write_file(path: str, content: str) -> str:
        """Write (create or replace) a file of the project."""
        workspace().files[path] = content
        return f"wrote {len(content)} characters to {path}"

    def search_code(text: str) -> str:
        """Find the files and lines that contain a text."""
        hits = [
            f"{path}:{number}: {line.strip()}"
            for path, content in sorted(workspace().files.items())
            for number, line in enumerate(content.splitlines(), start=1)
            if text in line
        ]
        return "\n".join(hits) or "no matches"

    def run_tests(path: str = "tests/") -> str:
        """Run the test suite, or the tests of one file."""
        return workspace().run_tests(path)

    def install_package(name: str) -> str:
        """Install a Python package into the project's environment."""
        if workspace().registry_down:
            return f"ERROR: could not reach the package index to install {name}"
        workspace().packages.add(name)
        return f"Successfully installed {name}"

    def git_commit(message: str) -> str:
        """Commit the current changes with a message."""
        workspace().commits.append(message)
        return f"[main {len(workspace().commits):07d}] {message}"

    functions = [
        list_files,
        read_file,
        write_file,
        search_code,
        run_tests,
        install_package,
        git_commit,
    ]
    return [StructuredTool.from_function(fn) for fn in functions]


@dataclass(frozen=True)
class Task:
    """One task instance."""

    kind: str
    request: str
    plan: Plan
    answer: str
    check: Callable[[Workspace], bool]


def _fix(module: str, wording: int) -> Task:
    requests = [
        f"The tests in tests/test_{module}.py are failing. Find the bug and fix it.",
        f"Make tests/test_{module}.py pass again; something in the {module} code broke.",
        f"CI is red on test_{module}: please repair the failing {module} test.",
    ]
    fixed = f"def {module}_main(x):\n    return x\n"
    return Task(
        kind="fix_failing_test",
        request=requests[wording % 3],
        plan=[
            ("run_tests", {"path": f"tests/test_{module}.py"}),
            ("read_file", {"path": f"src/{module}.py"}),
            ("write_file", {"path": f"src/{module}.py", "content": fixed}),
            ("run_tests", {"path": f"tests/test_{module}.py"}),
        ],
        answer=f"Fixed the bug in src/{module}.py; tests/test_{module}.py passes.",
        check=lambda ws: "BUG" not in ws.files[f"src/{module}.py"],
    )


def _dependency(package: str, wording: int) -> Task:
    requests = [
        f"Add {package} as a dependency of the project.",
        f"We need the {package} library: declare it and install it, keep the tests green.",
        f"Please make {package} available to the project (dependency + install).",
    ]
    return Task(
        kind="add_dependency",
        request=requests[wording % 3],
        plan=[
            ("read_file", {"path": "pyproject.toml"}),
            (
                "write_file",
                {
                    "path": "pyproject.toml",
                    "content": f'[project]\nname = "demo"\ndependencies = ["{package}"]\n',
                },
            ),
            ("install_package", {"name": package}),
            ("run_tests", {"path": "tests/"}),
        ],
        answer=f"{package} is declared in pyproject.toml and installed.",
        check=lambda ws: package in ws.packages and package in ws.files["pyproject.toml"],
    )


def _rename(old: str, new: str, wording: int) -> Task:
    requests = [
        f"Rename the function {old} to {new} everywhere in the codebase.",
        f"{old} is a bad name; call it {new} across all files.",
        f"Refactor: every use and the definition of {old} should become {new}.",
    ]
    return Task(
        kind="rename_symbol",
        request=requests[wording % 3],
        plan=[
            ("search_code", {"text": old}),
            ("read_file", {"path": "src/util.py"}),
            (
                "write_file",
                {"path": "src/util.py", "content": f"def {new}(path):\n    return {{}}\n"},
            ),
            ("read_file", {"path": "src/app.py"}),
            (
                "write_file",
                {
                    "path": "src/app.py",
                    "content": f"from src.util import {new}\n{new}('app.toml')\n",
                },
            ),
            ("search_code", {"text": old}),
        ],
        answer=f"Renamed {old} to {new} in src/util.py and src/app.py.",
        check=lambda ws: all(old not in content for content in ws.files.values()),
    )


def _docs(module: str, wording: int) -> Task:
    requests = [
        f"Write documentation for the {module} module in docs/{module}.md.",
        f"The {module} module has no docs. Add a page describing it.",
        f"Document what src/{module}.py does, as a markdown page under docs/.",
    ]
    return Task(
        kind="write_docs",
        request=requests[wording % 3],
        plan=[
            ("read_file", {"path": f"src/{module}.py"}),
            ("list_files", {"directory": "docs/"}),
            (
                "write_file",
                {"path": f"docs/{module}.md", "content": f"# {module}\n\n`{module}_main(x)`."},
            ),
        ],
        answer=f"Wrote docs/{module}.md.",
        check=lambda ws: f"docs/{module}.md" in ws.files,
    )


def _release(version: str, wording: int) -> Task:
    requests = [
        f"Release version {version}: bump the version and update the changelog.",
        f"Cut the {version} release (version number, changelog entry, commit).",
        f"Prepare release {version} of the package and commit it.",
    ]
    return Task(
        kind="release",
        request=requests[wording % 3],
        plan=[
            ("read_file", {"path": "pyproject.toml"}),
            (
                "write_file",
                {"path": "pyproject.toml", "content": f'[project]\nversion = "{version}"\n'},
            ),
            ("read_file", {"path": "CHANGELOG.md"}),
            ("write_file", {"path": "CHANGELOG.md", "content": f"# Changelog\n\n## {version}\n"}),
            ("git_commit", {"message": f"Release {version}"}),
        ],
        answer=f"Released {version}.",
        check=lambda ws: f"Release {version}" in ws.commits,
    )


def _add_test(module: str, wording: int) -> Task:
    requests = [
        f"Add a unit test for {module}_main in tests/test_{module}_extra.py.",
        f"{module}_main has no test of its own; write one and run it.",
        f"Cover src/{module}.py with a new unit test.",
    ]
    test = f"tests/test_{module}_extra.py"
    return Task(
        kind="add_unit_test",
        request=requests[wording % 3],
        plan=[
            ("read_file", {"path": f"src/{module}.py"}),
            ("write_file", {"path": test, "content": f"def test_{module}():\n    assert True\n"}),
            ("run_tests", {"path": test}),
        ],
        answer=f"Added {test}.",
        check=lambda ws: test in ws.files and test in ws.test_runs,
    )


TASK_KINDS: dict[str, list[Callable[[int], Task]]] = {
    "fix_failing_test": [lambda w, m=m: _fix(m, w) for m in ("parser", "billing", "mailer")],
    "add_dependency": [lambda w, p=p: _dependency(p, w) for p in ("httpx", "rich", "attrs")],
    "rename_symbol": [
        lambda w: _rename("load_config", "read_config", w),
        lambda w: _rename("load_config", "open_settings", w),
        lambda w: _rename("load_config", "parse_config", w),
    ],
    "write_docs": [lambda w, m=m: _docs(m, w) for m in ("cache", "router", "auth")],
    "release": [lambda w, v=v: _release(v, w) for v in ("1.4.0", "2.0.0", "1.3.1")],
    "add_unit_test": [lambda w, m=m: _add_test(m, w) for m in ("report", "lexer", "cache")],
}


def tasks(instance: int) -> list[Task]:
    """Instance ``instance`` of every kind (its wording varies with the instance too)."""
    return [builders[instance % len(builders)](instance) for builders in TASK_KINDS.values()]


def judge_run(task: Task, workspace: Workspace) -> bool:
    """Whether the run left the workspace in the state the task asks for."""
    return task.check(workspace)
