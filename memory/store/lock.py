"""One process per persistent path, and one open instance per path in a process.

Chroma's embedded store is not safe for two processes writing one folder, so
opening a path takes an exclusive advisory lock on ``<path>/zettelmem.lock`` and
a second process gets :class:`StoreLocked` at once instead of corrupting data.
The OS drops the lock when the process dies, so a crash never leaves it stale.

Inside one process (a notebook re-running ``mem = AgenticMemory(path)``) the
second opener is refused too, rather than silently closing an instance other
code may still hold: :class:`StoreLocked` names the live holder, where it was
opened, and how to close it. A holder that is no longer reachable (only kept
alive by a reference cycle) does not count: it is collected and its lock freed.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import weakref
from pathlib import Path
from typing import TextIO

from memory.errors import InvalidInput, StoreError, StoreLocked

__all__ = ["PathLock"]

_PACKAGE = str(Path(__file__).resolve().parents[1]) + os.sep

_open_paths: weakref.WeakValueDictionary[Path, PathLock] = weakref.WeakValueDictionary()
_open_paths_lock = threading.RLock()  # re-entrant: gc.collect() may run a release


def _prepared(folder: Path) -> Path:
    """Create the folder; translate a path that cannot be one into a clear error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InvalidInput(
            f"path {folder} is a file (or lies under one); give a folder for the store"
        ) from exc
    except OSError as exc:
        raise StoreError(f"cannot create the store folder {folder}: {exc}") from exc
    return folder.resolve()


def _caller_outside_package() -> str:
    """``file:line`` of the nearest caller that is not this package (the user's code)."""
    frame = sys._getframe(1)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class PathLock:
    """An exclusive ``flock`` held from construction until :meth:`release`.

    Args:
        folder: the store's folder (created if missing).
        holder: the object that owns the path, named in the error a second
            opener in this process gets.

    Raises:
        StoreLocked: another process, or another live object in this process,
            holds the path.
        InvalidInput: ``folder`` is a file.
        StoreError: the folder or its lock file cannot be created.
    """

    def __init__(self, folder: Path, *, holder: object | None = None) -> None:
        self._key = _prepared(folder)
        self._holder = weakref.ref(holder) if holder is not None else None
        self._holder_name = type(holder).__name__ if holder is not None else "PathLock"
        self._origin = _caller_outside_package()
        with _open_paths_lock:
            self._refuse_if_open_here(folder)
            self._file = self._locked_file(folder)
            _open_paths[self._key] = self

    def _refuse_if_open_here(self, folder: Path) -> None:
        if self._key not in _open_paths:
            return
        # An unreachable holder (a notebook's replaced instance in a reference
        # cycle) still has its lock until the collector runs; run it now.
        gc.collect()
        current = _open_paths.get(self._key)
        if current is None or current.released:
            return
        raise StoreLocked(
            f"{folder} is already open in this process by another {current.describe()}; "
            "close it first: call its close() (e.g. mem.close()), or open the store with "
            "`with AgenticMemory(path) as mem:` so it closes when the block ends. One "
            "instance per path per process: share it between threads"
        )

    @staticmethod
    def _locked_file(folder: Path) -> TextIO:
        import fcntl

        lock_path = folder / "zettelmem.lock"
        try:
            handle = lock_path.open("a+")
        except OSError as exc:
            raise StoreError(f"cannot open the lock file {lock_path}: {exc}") from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreLocked(
                f"{folder} is open in another process (pid {owner}, see {lock_path}); "
                "close it first, or share one instance, or use a Chroma server "
                "(client=chromadb.HttpClient(...)) for several processes, with one "
                "writing process per scope (see README, Processes)"
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    @property
    def released(self) -> bool:
        """Whether :meth:`release` has run."""
        return bool(self._file.closed)

    def describe(self) -> str:
        """Who holds the path: the holder's type and id, and where it was opened."""
        holder = self._holder() if self._holder is not None else None
        identity = f" at 0x{id(holder):x}" if holder is not None else ""
        return f"{self._holder_name}{identity} (opened at {self._origin})"

    def release(self) -> None:
        """Give the path up (idempotent)."""
        with _open_paths_lock:
            if not self._file.closed:
                import fcntl

                fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
                self._file.close()
            if _open_paths.get(self._key) is self:
                del _open_paths[self._key]
