"""One process per persistent path.

Chroma's embedded store is not safe for two processes writing one folder, so
opening a path takes an exclusive advisory lock on ``<path>/zettelmem.lock`` and
a second process gets :class:`StoreLocked` at once instead of corrupting data.
The OS drops the lock when the process dies, so a crash never leaves it stale.
"""

from __future__ import annotations

import os
from pathlib import Path

from memory.errors import StoreLocked

__all__ = ["PathLock"]


class PathLock:
    """An exclusive ``flock`` held from construction until :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        self._file = (folder / "zettelmem.lock").open("a+")
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._file.close()
            raise StoreLocked(
                f"{folder} is open in another process or another AgenticMemory (pid in "
                f"{folder / 'zettelmem.lock'}); close it first, or share one instance, or "
                "use a Chroma server (client=chromadb.HttpClient(...)) for several processes, "
                "with one writing process per scope (see README, Processes)"
            ) from exc
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()

    def release(self) -> None:
        """Give the path up (idempotent)."""
        if not self._file.closed:
            import fcntl

            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
