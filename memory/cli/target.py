"""Which memory a command works on, and opening it.

Every command takes the same options (``--path``, ``--server``, ``--user``,
``--agent``, ``--run``, ``--json``, ``--embedder``); :func:`target_options` adds
them and hands the command one :class:`Target`. :func:`open_memory` opens the
store the way the command needs it:

- commands that only read (``stats``, ``list``, ``show``, ``export``, ``graph``)
  open it with :class:`NoEmbedding`, so they can never load an embedding model;
- every read command refuses a path that holds no store instead of creating one;
- commands that embed (add, import, search, recall, learn, ...) build the
  embedder ``--embedder`` names.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import numpy as np

from memory.errors import EmbeddingError, InvalidInput, StoreError, StoreUnavailable

if TYPE_CHECKING:
    from memory.embed import Embedder
    from memory.facade import AgenticMemory

__all__ = [
    "NoEmbedding",
    "check_store_path",
    "Target",
    "default_store_path",
    "embedder_for",
    "open_memory",
    "parse_server",
    "target_options",
]

F = TypeVar("F", bound=Callable[..., Any])

STORE_MARKER = "chroma.sqlite3"
"""The file Chroma's embedded store keeps in its folder: its presence means a store."""
COLLECTION = "zettelmem_notes"


def default_store_path() -> Path:
    """The per-user store folder (``ZETTELMEM_PATH`` overrides it)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("zettelmem", appauthor=False)) / "store"


@dataclass(frozen=True)
class Target:
    """The memory a command addresses and how it reports."""

    path: Path
    server: str | None
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    as_json: bool
    embedder: str

    @property
    def scope(self) -> dict[str, Any]:
        """The scope keywords for AgenticMemory's methods."""
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}

    @property
    def where(self) -> str:
        """The store's location, for messages."""
        return f"the Chroma server at {self.server}" if self.server else str(self.path)


def target_options(command: F) -> F:
    """Add the shared options to a command; it receives them as ``target``."""
    options = [
        click.option(
            "--path",
            type=click.Path(path_type=Path),
            envvar="ZETTELMEM_PATH",
            default=None,
            help="Folder of the store. Default: a per-user data folder; "
            "the ZETTELMEM_PATH environment variable overrides it.",
        ),
        click.option(
            "--server",
            metavar="HOST:PORT",
            default=None,
            help="Use a Chroma server instead of a folder (e.g. localhost:8000).",
        ),
        click.option("--user", "user_id", default=None, help="Scope: the user id."),
        click.option("--agent", "agent_id", default=None, help="Scope: the agent id."),
        click.option("--run", "run_id", default=None, help="Scope: the run or session id."),
        click.option(
            "--json", "as_json", is_flag=True, help="Print JSON for scripts instead of tables."
        ),
        click.option(
            "--embedder",
            envvar="ZETTELMEM_EMBEDDER",
            default="default",
            show_default=True,
            help="'default' (offline all-MiniLM-L6-v2), 'hashing' (model-free, for "
            "trying things out) or a sentence-transformers model name or folder. "
            "Use the one the store was built with. Env: ZETTELMEM_EMBEDDER.",
        ),
    ]

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        path: Path | None,
        server: str | None,
        user_id: str | None,
        agent_id: str | None,
        run_id: str | None,
        as_json: bool,
        embedder: str,
        **kwargs: Any,
    ) -> Any:
        target = Target(
            path=path if path is not None else default_store_path(),
            server=server,
            user_id=user_id,
            agent_id=agent_id,
            run_id=run_id,
            as_json=as_json,
            embedder=embedder,
        )
        return command(*args, target=target, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


class NoEmbedding:
    """The embedder of commands that never embed: it has no model, and using it fails.

    Read commands open the store with it, so they can never load a model; if
    one did try to embed, it would fail loudly instead of silently loading one.
    """

    dim = 0  # it makes no vectors

    def __init__(self, command: str) -> None:
        self._command = command

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        raise EmbeddingError(f"'{self._command}' does not embed text")


def embedder_for(spec: str) -> Embedder:
    """The embedder an ``--embedder`` value names (this loads its model)."""
    from memory.embed import HashingEmbedder, SentenceTransformerEmbedder

    if spec == "hashing":
        return HashingEmbedder()
    _quiet_model_loading()
    if spec == "default":
        return SentenceTransformerEmbedder()
    return SentenceTransformerEmbedder(spec)


def _quiet_model_loading() -> None:
    """No "Loading weights" progress bar on stderr for every search."""
    try:
        from transformers.utils import logging as transformers_logging
    except ImportError:  # sentence-transformers brings it; nothing to quiet otherwise
        return
    transformers_logging.disable_progress_bar()


def parse_server(server: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8000`` for IPv6) as a pair."""
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"--server must be HOST:PORT, got {server!r}")
    return host.strip("[]"), int(port)


def _server_client(target: Target, must_exist: bool) -> Any:
    import chromadb
    from chromadb.config import Settings

    assert target.server is not None
    host, port = parse_server(target.server)
    try:
        client = chromadb.HttpClient(
            host=host, port=port, settings=Settings(anonymized_telemetry=False)
        )
        names = [getattr(c, "name", c) for c in client.list_collections()]
    except Exception as exc:
        raise StoreUnavailable(f"cannot reach a Chroma server at {target.server}: {exc}") from exc
    if must_exist and COLLECTION not in names:
        raise StoreError(f"no Zettelmem store on the Chroma server at {target.server}")
    return client


def check_store_path(path: Path, *, must_exist: bool) -> None:
    """Refuse a file, or (for read commands) a folder that holds no store."""
    if path.exists() and not path.is_dir():
        raise InvalidInput(f"{path} is a file, not a store folder")
    if must_exist and not (path / STORE_MARKER).is_file():
        raise StoreError(
            f"no Zettelmem store at {path} (create one with 'zettelmem add' or "
            "'zettelmem import', or pass --path)"
        )


@contextmanager
def open_memory(
    target: Target,
    *,
    command: str,
    must_exist: bool = True,
    embeds: bool = True,
) -> Iterator[AgenticMemory]:
    """Open the memory a command addresses and close it afterwards.

    Args:
        target: the shared options.
        command: the command's name, for messages.
        must_exist: refuse to create a store (every read command).
        embeds: ``False`` opens with :class:`NoEmbedding` (the command never embeds).
    """
    from memory.facade import AgenticMemory

    if target.server:
        client = _server_client(target, must_exist)
    else:
        check_store_path(target.path, must_exist=must_exist)
        if embeds:
            # A locked store is reported before seconds of model loading, not after
            # (the memory takes the lock for good below).
            from memory.store import PathLock

            PathLock(target.path).release()
    # Only now, with the store known to be there and free, is a model worth loading.
    embedder: Any = embedder_for(target.embedder) if embeds else NoEmbedding(command)
    if target.server:
        mem = AgenticMemory(embedder=embedder, client=client)
    else:
        try:
            mem = AgenticMemory(target.path, embedder=embedder)
        except PermissionError as exc:
            raise StoreError(f"cannot open {target.path}: permission denied") from exc
    try:
        yield mem
    finally:
        mem.close()
