"""Helpers of the CLI tests (a module of its own: ``conftest`` names clash across folders)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from click.testing import Result

__all__ = ["Run", "output_json"]

Run = Callable[..., Result]


def output_json(result: Result) -> Any:
    """The JSON document a ``--json`` command printed."""
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
