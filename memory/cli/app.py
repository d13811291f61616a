"""The ``zettelmem`` command group and its error boundary.

User errors (bad input, an unknown id, a missing or locked store, an unreadable
file) print one line on stderr and exit with status 1; usage errors (an unknown
option, a bad value) exit with 2. Only a bug shows a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from memory.cli.notes import add, delete, list_notes, search, show, update
from memory.cli.procedures import feedback, learn, prune, recall
from memory.cli.store import demo, graph, mcp, stats
from memory.cli.transfer import export, import_
from memory.errors import ZettelmemError

__all__ = ["cli", "main"]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


class ZettelmemGroup(click.Group):
    """A group that turns the package's errors and OS errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ZettelmemError as exc:
            raise click.ClickException(_one_line(exc)) from exc
        except PermissionError as exc:
            raise click.ClickException(f"permission denied: {exc.filename or exc}") from exc
        except OSError as exc:
            where = f" ({exc.filename})" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or _one_line(exc)}{where}") from exc
        except ImportError as exc:
            raise click.ClickException(_one_line(exc)) from exc


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("zettelmem")
    except PackageNotFoundError:  # running from a source checkout
        from memory import __version__

        return __version__


@click.group(cls=ZettelmemGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    _version(), "--version", prog_name="zettelmem", message="%(prog)s %(version)s"
)
@click.option("--verbose", "-v", is_flag=True, help="Log what the library does (on stderr).")
def cli(verbose: bool) -> None:
    """Zettelmem: agent memory you can inspect, search, import, export and serve.

    Notes live in a store folder (--path, default a per-user data folder, or the
    ZETTELMEM_PATH environment variable) or on a Chroma server (--server).
    Every command takes the same store and scope options; see COMMAND --help.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)


for command in (
    add,
    import_,
    search,
    show,
    list_notes,
    update,
    delete,
    learn,
    recall,
    feedback,
    prune,
    stats,
    export,
    graph,
    mcp,
    demo,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``zettelmem`` console script; returns the exit status."""
    try:
        cli.main(args=argv, prog_name="zettelmem", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
