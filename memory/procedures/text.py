"""Domain-free text handling shared by distillation and recall.

    Hints                    optional user knowledge: argument vocabulary, synonyms
    words(text)              lowercase alphanumeric tokens
    stem(word)               a light English suffix fold, for matching only
    segments(text)           the sentences / lines / colon-separated parts of a text
    labelled_segments(text)  the same, a ``label: value`` kept whole
    part_lines(text)         the line each of those parts is on
    identifier_words(text)   words written inside paths, addresses, dotted or snake names
    instance_words(texts)    words the environment numbers ("cabinet 3"), learned from text

Nothing here knows any domain: every list a domain would need is either learned
from the user's own trajectories (see :mod:`memory.procedures.recall`) or given
explicitly through :class:`Hints`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "PLACEHOLDER",
    "NO_HINTS",
    "Hints",
    "anonymous",
    "identifier_words",
    "instance_words",
    "is_placeholder",
    "labelled_segments",
    "part_lines",
    "placeholder",
    "segments",
    "stem",
    "stems",
    "words",
]

PLACEHOLDER = re.compile(r"<arg\d+>")
_TOKEN = re.compile(r"<arg\d+>|[a-z0-9]+")
_ESCAPE = re.compile(r"\\[ntr]")
_SEGMENT_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+|:\s+")
_LABELLED_BREAK = re.compile(r"(?<=[.!?;])\s+|\n+")
_IDENTIFIER = re.compile(r"[^\s\"'`()\[\]{},;]*[a-z0-9][/._@:\\][a-z0-9][^\s\"'`()\[\]{},;]*")
_NUMBERED = re.compile(r"\b([a-z][a-z0-9_-]*)\s+\d+\b")


def placeholder(index: int) -> str:
    """The placeholder of the ``index``-th argument (1-based): ``<arg1>``."""
    return f"<arg{index}>"


def anonymous(template: str) -> str:
    """A step with every placeholder written ``<arg>``, to compare steps of two tasks
    whose arguments were numbered differently."""
    return PLACEHOLDER.sub("<arg>", template)


def is_placeholder(token: str) -> bool:
    """Whether ``token`` is an argument placeholder."""
    return PLACEHOLDER.fullmatch(token) is not None


def words(text: str) -> list[str]:
    """Lowercase alphanumeric tokens; placeholders stay whole.

    Example:
        >>> words("Run tests/test_parser.py, then <arg1>!")
        ['run', 'tests', 'test', 'parser', 'py', 'then', '<arg1>']
    """
    # An escaped newline or tab inside a logged JSON argument ("...\\nname = ...") is a
    # separator, not the letter n glued to the next word.
    return _TOKEN.findall(_ESCAPE.sub(" ", text.lower()))


def stem(word: str) -> str:
    """Fold common English plural/verb endings so "branches" meets "branch".

    Only used to decide whether two words match; stored text keeps its spelling.
    """
    if is_placeholder(word) or len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> list[str]:
    """``stem`` of every word of ``text``, in order."""
    return [stem(w) for w in words(text)]


def segments(text: str) -> list[str]:
    """Sentences, lines and ``label: value`` parts of a text, blanks dropped.

    A colon splits because observations often frame the task as a labelled field
    ("Your task is to: ..."); whatever the label says, the value becomes its own part.
    """
    return _split(text, _SEGMENT_BREAK)


def labelled_segments(text: str) -> list[str]:
    """:func:`segments` with each ``label: value`` kept whole ("Find something to eat:
    the muffin", "Tidy the repo: merged branches can go")."""
    return _split(text, _LABELLED_BREAK)


def _split(text: str, breaks: re.Pattern[str]) -> list[str]:
    parts = (p.strip() for p in breaks.split(text))
    return [p for p in parts if words(p)]


def part_lines(text: str) -> list[int] | None:
    """The line number of each part of ``segments(text)``, or ``None`` when the parts
    of the lines taken one by one are not the parts of the whole text."""
    numbers = [n for n, line in enumerate(text.splitlines()) for _ in segments(line)]
    return numbers if len(numbers) == len(segments(text)) else None


def identifier_words(text: str) -> set[str]:
    """The words of ``text`` written inside an identifier: a path, an address, a URL,
    a dotted or snake_case name (two word characters joined by ``/ . _ @ : \\``).

    Such tokens name the things a task is about, whatever the domain; the words they
    are spelt with are the task's entities, not what kind of task it is.

    Example:
        >>> sorted(identifier_words("Make tests/test_billing.py pass. Mail bo@x.org"))
        ['billing', 'bo', 'org', 'py', 'test', 'tests', 'x']
    """
    return {w for token in _IDENTIFIER.findall(text.lower()) for w in words(token)}


def instance_words(texts: Iterable[str]) -> frozenset[str]:
    """Words the texts follow with a number ("cabinet 3", "door 2"): numbered instances.

    Learned from a trajectory's observations, so that "go to cabinet 3" and "go to
    cabinet 5" become one step, while a number an observation never attaches to a
    word ("sleep 5") stays part of the action.
    """
    found: set[str] = set()
    for text in texts:
        found.update(m.group(1) for m in _NUMBERED.finditer(text.lower()))
    return frozenset(found)


def _frozen(mapping: Mapping[str, str] | None) -> Mapping[str, str]:
    cleaned = {stem(k.lower().strip()): v.lower().strip() for k, v in (mapping or {}).items()}
    return MappingProxyType({k: v for k, v in cleaned.items() if k and v})


@dataclass(frozen=True)
class Hints:
    """Optional domain knowledge a user may give; an empty ``Hints()`` costs nothing.

    Everything here is also learned from the user's own trajectories; hints only
    help where the data has not shown it yet (the first trajectories of a scope).

    Attributes:
        arguments: Words or phrases that always name a task's argument (an entity,
            a file, a place), never the kind of task: ``{"invoice", "staging"}``.
        skill_words: Words that always name the kind of task, even when an action
            repeats them (``{"deploy"}`` in "deploy the api" / ``deploy api``).
        synonyms: Word -> canonical word, applied to tasks and queries before
            matching (``{"warm": "heat", "fetch": "get"}``).

    Example:
        >>> Hints(synonyms={"Warm": "heat"}).canonical("warm")
        'heat'
    """

    arguments: frozenset[str] = frozenset()
    skill_words: frozenset[str] = frozenset()
    synonyms: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        # Accept any iterable / dict from the caller, store normalised frozen values.
        object.__setattr__(self, "arguments", frozenset(_norm(self.arguments)))
        object.__setattr__(self, "skill_words", frozenset(_norm(self.skill_words)))
        object.__setattr__(self, "synonyms", _frozen(self.synonyms))

    def canonical(self, word: str) -> str:
        """The synonym's canonical word (stemmed), or the stemmed word itself."""
        stemmed = stem(word)
        return stem(self.synonyms.get(stemmed, stemmed))

    @property
    def argument_stems(self) -> frozenset[str]:
        """Stems of the single words of ``arguments``."""
        return frozenset(stem(w) for phrase in self.arguments for w in words(phrase))


def _norm(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        values = [values]
    return [" ".join(words(v)) for v in values if isinstance(v, str) and words(v)]


NO_HINTS = Hints()
