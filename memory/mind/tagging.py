"""Tags without an LLM: an open vocabulary per scope, or a taxonomy the user gives.

Open vocabulary (the default). Each scope grows its own vocabulary as notes
arrive: a tag is a name plus the centroid of its notes' vectors. A new note
takes the existing tag whose centroid is closest when that closeness reaches
``threshold``; otherwise a new tag is coined from the note's own keywords and
the note becomes its first member. Nothing is built in: no topic words, no
descriptions. A note with no keywords and no close tag stays untagged -- better
no tag than a wrong one.

Taxonomy (zero-shot). Given ``Taxonomy([("billing", "invoices and payments"),
...])`` the note takes the entry whose embedded name and description is closest,
if that similarity reaches ``threshold``; no tag is coined.

The threshold is the confidence a tag needs; how pairwise precision and recall
move with it is measured by ``benchmarks/note_quality.py``.

Durable. A vocabulary lives in memory, but it is nothing the store does not hold: a
tag's centroid is the mean of its notes' vectors. Given a ``seed`` (the memory
passes its store's notes: each one's first tag and vector, oldest first), a scope's
vocabulary is rebuilt from it on first use after a restart, so a reopened memory
reuses -- and does not coin again -- the tags it would have before.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from memory.embed.base import Embedder
from memory.errors import InvalidInput

__all__ = ["TagChoice", "TagSeed", "TagVocabulary", "Taxonomy", "Tagger", "slug"]

_SLUG = re.compile(r"[^a-z0-9]+")
MAX_TAG_CHARS = 40

TagSeed = Callable[[Hashable], Iterable[tuple[str, np.ndarray]]]
"""``scope -> (tag, unit vector)`` of the scope's stored notes, oldest first."""


def slug(phrase: str) -> str:
    """A tag name from a phrase: lowercase words joined by hyphens."""
    return _SLUG.sub("-", phrase.lower()).strip("-")[:MAX_TAG_CHARS].strip("-")


class Taxonomy:
    """Tags the user chooses: names with optional descriptions.

    Args:
        entries: tag names, ``(name, description)`` pairs, or a ``{name: description}`` dict.

    Raises:
        InvalidInput: no entries, an empty name, or a name given twice.
    """

    def __init__(self, entries: Iterable[str | tuple[str, str]] | dict[str, str]) -> None:
        pairs: list[tuple[str, str]] = []
        items = entries.items() if isinstance(entries, dict) else entries
        for entry in items:
            if isinstance(entry, str):
                name, description = entry, ""
            elif isinstance(entry, tuple) and len(entry) == 2:
                name, description = entry
            else:
                raise InvalidInput(f"taxonomy entry {entry!r} is not a name or (name, description)")
            if not isinstance(name, str) or not name.strip():
                raise InvalidInput("taxonomy tag names must be non-empty strings")
            if not isinstance(description, str):
                raise InvalidInput(f"description of tag {name!r} must be a string")
            pairs.append((name.strip(), description.strip()))
        if not pairs:
            raise InvalidInput("a taxonomy needs at least one tag")
        names = [name for name, _ in pairs]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise InvalidInput(f"taxonomy names given twice: {duplicates}")
        self.entries = pairs

    @property
    def names(self) -> list[str]:
        """The tag names, in the order given."""
        return [name for name, _ in self.entries]

    def texts(self) -> list[str]:
        """What is embedded for each tag: the name, and its description when given."""
        return [f"{name}: {desc}" if desc else name for name, desc in self.entries]


@dataclass
class TagChoice:
    """The tags for one note, how confident the best one is, and why."""

    tags: list[str] = field(default_factory=list)
    confidence: float = 0.0
    coined: bool = False


class TagVocabulary:
    """One scope's tags: name -> centroid of its members' vectors (thread-safe)."""

    def __init__(self, dimension: int | None = None) -> None:
        self._lock = threading.Lock()
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._sums = np.zeros((0, dimension or 0), dtype=np.float32)
        self._centroids = np.zeros((0, dimension or 0), dtype=np.float32)
        self._counts: list[int] = []

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    @property
    def names(self) -> list[str]:
        """Every tag of the scope, oldest first."""
        return list(self._names)

    def size(self, name: str) -> int:
        """How many notes joined ``name``."""
        return self._counts[self._index[name]] if name in self._index else 0

    def closest(self, vector: np.ndarray) -> tuple[str | None, float]:
        """The tag whose centroid is most similar to ``vector`` and that similarity."""
        with self._lock:
            if not self._names:
                return None, 0.0
            scores = self._centroids[: len(self._names)] @ vector
            best = int(np.argmax(scores))
            return self._names[best], float(scores[best])

    def add(self, name: str, vector: np.ndarray) -> None:
        """Count ``vector`` as a member of ``name`` (creating the tag if new)."""
        vector = np.asarray(vector, dtype=np.float32)
        with self._lock:
            if name not in self._index:
                if self._sums.shape[1] != vector.shape[0]:
                    self._sums = np.zeros((0, vector.shape[0]), dtype=np.float32)
                    self._centroids = np.zeros((0, vector.shape[0]), dtype=np.float32)
                if len(self._names) == len(self._sums):  # grow by doubling, not per tag
                    grow = max(16, len(self._names))
                    padding = np.zeros((grow, vector.shape[0]), dtype=np.float32)
                    self._sums = np.vstack([self._sums, padding])
                    self._centroids = np.vstack([self._centroids, padding])
                self._index[name] = len(self._names)
                self._names.append(name)
                self._counts.append(0)
            row = self._index[name]
            self._sums[row] += vector
            self._counts[row] += 1
            norm = float(np.linalg.norm(self._sums[row]))
            self._centroids[row] = self._sums[row] / norm if norm else self._sums[row]

    def remove(self, name: str, vector: np.ndarray) -> None:
        """Take one member's ``vector`` out of ``name`` (the tag stays, maybe empty)."""
        with self._lock:
            row = self._index.get(name)
            if row is None:
                return
            self._sums[row] -= np.asarray(vector, dtype=np.float32)
            self._counts[row] = max(0, self._counts[row] - 1)
            norm = float(np.linalg.norm(self._sums[row]))
            self._centroids[row] = self._sums[row] / norm if norm > 1e-6 else 0.0

    def free_name(self, keywords: Sequence[str]) -> str | None:
        """A name for a new tag: the first keyword whose slug is not taken yet."""
        names = [slug(keyword) for keyword in keywords if slug(keyword)]
        for name in names:
            if name not in self._index:
                return name
        if not names:
            return None
        suffix = 2
        while f"{names[0]}-{suffix}" in self._index:
            suffix += 1
        return f"{names[0]}-{suffix}"


class Tagger:
    """Chooses a note's tag: from the scope's open vocabulary, or from a taxonomy.

    Args:
        embedder: embeds the taxonomy's entries (once); unused in open mode.
        taxonomy: fixed tags for zero-shot assignment; ``None`` for an open vocabulary.
        threshold: the similarity (to a tag's centroid, or to a taxonomy entry) a
            note needs to take that tag.
        coin: in open mode, coin a new tag from the note's keywords when no tag
            is close enough.
        seed: rebuilds a scope's vocabulary on its first use from the notes already
            stored (``TagSeed``); ``None``: start empty. Settable later (``tagger.seed``).
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        taxonomy: Taxonomy | None = None,
        threshold: float = 0.45,
        coin: bool = True,
        seed: TagSeed | None = None,
    ) -> None:
        if taxonomy is not None and embedder is None:
            raise InvalidInput("a taxonomy needs an embedder to compare notes with its entries")
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.coin = coin
        self.seed = seed
        self._taxonomy_vectors = (
            np.asarray(embedder.embed(taxonomy.texts()), dtype=np.float32)
            if taxonomy is not None and embedder is not None
            else None
        )
        self._lock = threading.Lock()
        self._vocabularies: dict[Hashable, TagVocabulary] = {}

    def vocabulary(self, scope: Hashable) -> TagVocabulary:
        """The open vocabulary of ``scope`` (on first use: from the ``seed``, or empty)."""
        with self._lock:
            known = self._vocabularies.get(scope)
        if known is not None:
            return known
        # Seeded outside the lock: the seed reads the store (under the memory's lock).
        built = TagVocabulary()
        if self.seed is not None and self.taxonomy is None:
            for name, vector in self.seed(scope):
                built.add(name, vector)
        with self._lock:
            return self._vocabularies.setdefault(scope, built)

    def choose(
        self,
        scope: Hashable,
        vector: np.ndarray | None,
        keywords: Sequence[str],
        neighbour_tags: Sequence[tuple[float, Sequence[str]]] = (),
    ) -> TagChoice:
        """The note's tag, and record it in the scope's vocabulary.

        Args:
            scope: the note's scope (vocabularies never mix across scopes).
            vector: the note's unit-length embedding.
            keywords: the note's keywords, strongest first (names a coined tag).
            neighbour_tags: ``(similarity, tags)`` of stored notes of the same
                scope; a tag a close neighbour carries but the vocabulary does not
                know (written before a restart) competes with the vocabulary's own.
        """
        if vector is None:
            return TagChoice()
        vector = np.asarray(vector, dtype=np.float32)
        if self.taxonomy is not None:
            return self._from_taxonomy(vector)
        vocabulary = self.vocabulary(scope)
        name, score = vocabulary.closest(vector)
        for similarity, tags in neighbour_tags:
            for tag in tags[:1]:
                if tag not in vocabulary and similarity > score:
                    name, score = tag, similarity
        if name is not None and score >= self.threshold:
            vocabulary.add(name, vector)
            return TagChoice([name], round(score, 4))
        if not self.coin:
            return TagChoice()
        coined = vocabulary.free_name(keywords)
        if coined is None:
            return TagChoice()
        vocabulary.add(coined, vector)
        return TagChoice([coined], 1.0, coined=True)

    def _from_taxonomy(self, vector: np.ndarray) -> TagChoice:
        assert self.taxonomy is not None and self._taxonomy_vectors is not None
        scores = self._taxonomy_vectors @ vector
        best = int(np.argmax(scores))
        if float(scores[best]) < self.threshold:
            return TagChoice()
        return TagChoice([self.taxonomy.names[best]], round(float(scores[best]), 4))

    def forget(self, scope: Hashable, name: str, vector: np.ndarray) -> None:
        """A note left tag ``name`` (it was retagged or deleted)."""
        self.vocabulary(scope).remove(name, vector)
