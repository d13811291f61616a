"""Every public parameter of AgenticMemory is documented (issue 17).

The Args section of each public method's docstring (and of the class docstring, for
the constructor) must name exactly the method's parameters: a parameter added without
a line of documentation, or a line left behind for a parameter removed, fails here.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import pytest

from memory import AgenticMemory

_SECTION = re.compile(r"^(Args|Arguments|Returns|Yields|Raises|Example|Examples|Note|Notes):\s*$")
_ENTRY = re.compile(r"^    \*{0,2}(\w+)(?: \([^)]*\))?:")


def documented_args(doc: str | None) -> list[str]:
    """Names in the Google-style ``Args:`` section of ``doc`` (cleaned), in order."""
    lines = inspect.cleandoc(doc or "").splitlines()
    names: list[str] = []
    inside = False
    for line in lines:
        header = _SECTION.match(line)
        if header:
            inside = header.group(1) in ("Args", "Arguments")
            continue
        if inside:
            if line and not line.startswith(" "):
                inside = False
                continue
            entry = _ENTRY.match(line)
            if entry:
                names.append(entry.group(1))
    return names


def parameters(function: Callable[..., Any]) -> list[str]:
    """The parameters a caller passes (``self`` left out)."""
    return [name for name in inspect.signature(function).parameters if name != "self"]


def undocumented(function: Callable[..., Any], doc: str | None) -> tuple[set[str], set[str]]:
    """(parameters missing from Args, Args naming no parameter)."""
    params, named = set(parameters(function)), set(documented_args(doc))
    return params - named, named - params


def public_methods() -> list[str]:
    return sorted(
        name
        for name, value in inspect.getmembers(AgenticMemory)
        if not name.startswith("_") and inspect.isfunction(value)
    )


def test_the_public_api_is_what_we_think_it_is() -> None:
    # A floor, so that a broken discovery cannot make the next test vacuous.
    assert {"add", "search", "update", "recall", "aadd", "asearch", "arecall_text"} <= set(
        public_methods()
    )


@pytest.mark.parametrize("name", public_methods())
def test_every_parameter_of_every_public_method_is_documented(name: str) -> None:
    method = getattr(AgenticMemory, name)
    missing, stray = undocumented(method, method.__doc__)
    assert not missing, f"AgenticMemory.{name}: undocumented parameters {sorted(missing)}"
    assert not stray, f"AgenticMemory.{name}: Args names unknown parameters {sorted(stray)}"


def test_the_class_docstring_lists_every_constructor_parameter() -> None:
    missing, stray = undocumented(AgenticMemory.__init__, AgenticMemory.__doc__)
    assert not missing, f"AgenticMemory docstring leaves out {sorted(missing)}"
    assert not stray, f"AgenticMemory docstring names unknown parameters {sorted(stray)}"
    assert {"rewrite_queries", "sequence_gap", "sequence_strength", "store"} <= set(
        documented_args(AgenticMemory.__doc__)
    )


def test_the_check_fails_for_an_undocumented_parameter() -> None:
    def partly(self: Any, query: str, k: int = 5, *, user_id: str | None = None) -> None:
        """Look something up.

        Args:
            query: what to look for.
            k: how many results.

        Returns:
            Nothing.
        """

    def with_kwargs(self: Any, note_id: str, **scope: Any) -> None:
        """Async twin.

        Args:
            note_id: the note.
        """

    assert undocumented(partly, partly.__doc__) == ({"user_id"}, set())
    assert undocumented(with_kwargs, with_kwargs.__doc__) == ({"scope"}, set())
    assert documented_args(
        "Summary.\n\nArgs:\n    a: one.\n    b (int): two,\n        more.\n\nRaises:\n    c: no."
    ) == ["a", "b"]
