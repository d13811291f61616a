"""Episodes: the runs of notes joined by ``follows`` (a conversation's stretches).

A note continues the thread of the note it follows; the first note of a thread
names its episode. The search asks two things of an episode: which one a note
belongs to (:meth:`Episodes.root`) and how many notes it holds
(:meth:`Episodes.size`), so that a long episode does not outrank a short one
merely by holding more candidates (:mod:`memory.retrieve.search`).

The owner (:class:`~memory.retrieve.lexical.LexicalIndex`) says which notes it
holds and serialises the calls; a thread stops at a predecessor it does not hold.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Episodes"]


class Episodes:
    """Who follows whom, with memoised episode roots and sizes.

    Args:
        holds: whether the owner holds a note (a thread stops at one it does not).
    """

    def __init__(self, holds: Callable[[str], bool]) -> None:
        self._holds = holds
        self._follows: dict[str, str] = {}
        self._followers: dict[str, set[str]] = {}
        self._roots: dict[str, str] = {}  # memo of root(); cleared when threads change
        self._sizes: dict[str, int] = {}  # memo of size(); cleared when any note arrives

    def arrived(self, note_id: str, follows: str | None) -> None:
        """``note_id`` was added or replaced; it follows ``follows`` (``None``: none).

        A new last turn (no followers yet) only lengthens its own episode by one,
        so a conversation that grows note by note keeps its memos; any other
        change of a thread drops the sizes, and the roots when a known note is
        re-linked.
        """
        previous = self._follows.get(note_id)
        if previous == follows:
            return
        appended = (
            previous is None and note_id not in self._roots and not self._followers.get(note_id)
        )
        if note_id in self._roots:
            self._roots.clear()
        if previous is not None:
            self._followers[previous].discard(note_id)
        if follows:
            self._follows[note_id] = follows
            self._followers.setdefault(follows, set()).add(note_id)
        else:
            self._follows.pop(note_id, None)
        if not appended:
            self._sizes.clear()
            return
        root = self.root(note_id)
        if root != note_id and root in self._sizes:
            self._sizes[root] += 1

    def left(self, note_id: str) -> None:
        """``note_id`` is gone: its episode ends before its followers."""
        self._roots.clear()
        self._sizes.clear()
        previous = self._follows.pop(note_id, None)
        if previous is not None:
            self._followers[previous].discard(note_id)

    def root(self, note_id: str) -> str:
        """The first note of the thread ``note_id`` continues (itself if it follows none).

        Answers that reach a thread's first note are remembered, so a new note
        costs one step.
        """
        path: list[str] = []
        seen: set[str] = set()
        current, complete = note_id, True
        while current not in self._roots:
            previous = self._follows.get(current)
            if previous is None:
                break
            if not self._holds(previous) or previous in seen:
                complete = False  # may change when the predecessor arrives
                break
            path.append(current)
            seen.add(current)
            current = previous
        root = self._roots.get(current, current)
        if complete:
            for member in [*path, current]:
                self._roots[member] = root
        return root

    def size(self, root: str) -> int:
        """How many notes the episode starting at ``root`` holds (``root`` included)."""
        known = self._sizes.get(root)
        if known is None:
            members, stack = {root}, [root]
            while stack:
                for follower in self._followers.get(stack.pop(), ()):
                    if follower not in members:
                        members.add(follower)
                        stack.append(follower)
            known = self._sizes[root] = len(members)
        return known
