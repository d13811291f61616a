"""The tag vocabulary evolves: tags that mean the same merge, a tag that holds two subjects splits.

Tags are coined one note at a time (:mod:`memory.mind.tagging`), so the
vocabulary drifts: two tags may end up covering one subject, and an early tag
may have gathered two. :func:`revise_tags` looks at one scope's notes and
vectors and proposes retaggings, each with its reason; the caller writes them
with history events (``AgenticMemory.revise_tags``).

* **Merge** -- two tags whose centroids are at least as similar as a note must be
  to join a tag (``threshold``): the smaller one's notes take the larger tag.
* **Split** -- a tag of at least ``min_split`` notes whose members fall into two
  groups (2-means on their vectors) whose centroids are *less* similar than
  ``threshold`` -- they would not have been joined had they arrived together --
  and each group at least two notes: the smaller group gets a tag coined from
  its most frequent keyword.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memory.mind.tagging import slug
from memory.model import Note

__all__ = ["TagRevision", "revise_tags"]


@dataclass(frozen=True)
class TagRevision:
    """Replace ``old`` by ``new`` in note ``note_id``'s tags, because ``reason``."""

    note_id: str
    old: str
    new: str
    reason: str


def _unit(vectors: np.ndarray) -> np.ndarray:
    total = vectors.sum(axis=0)
    norm = float(np.linalg.norm(total))
    return total / norm if norm else total


def _two_means(vectors: np.ndarray, rounds: int = 10) -> np.ndarray:
    """Labels 0/1 of a deterministic 2-means (seeded by the two most distant members)."""
    similarity = vectors @ vectors.T
    first, second = np.unravel_index(int(np.argmin(similarity)), similarity.shape)
    centres = vectors[[first, second]]
    labels = np.zeros(len(vectors), dtype=int)
    for _ in range(rounds):
        new_labels = np.argmax(vectors @ centres.T, axis=1)
        if np.array_equal(new_labels, labels) and _ > 0:
            break
        labels = new_labels
        for group in (0, 1):
            if np.any(labels == group):
                centres[group] = _unit(vectors[labels == group])
    return labels


def revise_tags(
    notes: Sequence[Note],
    vectors: dict[str, np.ndarray],
    *,
    threshold: float = 0.45,
    min_split: int = 4,
) -> list[TagRevision]:
    """The retaggings that merge same-meaning tags and split two-subject tags.

    Args:
        notes: every note of one scope (only their first tag is revised).
        vectors: note id -> unit vector.
        threshold: the similarity a note needs to join a tag (the tagger's).
        min_split: smallest tag considered for a split.
    """
    members: dict[str, list[Note]] = {}
    for note in notes:
        if note.tags and note.id in vectors:
            members.setdefault(note.tags[0], []).append(note)
    revisions: list[TagRevision] = []
    # Splits first: a merge judged on a two-subject centroid would be wrong.
    for tag, group in sorted(members.items()):
        if len(group) < min_split:
            continue
        matrix = np.stack([vectors[n.id] for n in group])
        labels = _two_means(matrix)
        sizes = np.bincount(labels, minlength=2)
        if sizes.min() < 2:
            continue
        between = float(_unit(matrix[labels == 0]) @ _unit(matrix[labels == 1]))
        if between >= threshold:
            continue
        minority = int(np.argmin(sizes))
        moved = [note for note, label in zip(group, labels, strict=True) if label == minority]
        taken = set(members) | {r.new for r in revisions}
        counts = Counter(slug(k) for note in moved for k in note.keywords[:2] if slug(k))
        name = next((n for n, _ in counts.most_common() if n not in taken), None)
        if name is None:
            name = next(f"{tag}-{i}" for i in range(2, 1000) if f"{tag}-{i}" not in taken)
        reason = (
            f"tag {tag!r} held two subjects (group similarity {between:.2f}); split off {name!r}"
        )
        revisions += [TagRevision(note.id, tag, name, reason) for note in moved]
        members[tag] = [note for note in group if note not in moved]
        members[name] = moved
    names = sorted(members, key=lambda t: (-len(members[t]), t))
    centroids = {t: _unit(np.stack([vectors[n.id] for n in members[t]])) for t in names}
    merged: set[str] = set()
    for position, larger in enumerate(names):
        if larger in merged:
            continue
        for smaller in names[position + 1 :]:
            if smaller in merged:
                continue
            similarity = float(centroids[larger] @ centroids[smaller])
            if similarity < threshold:
                continue
            merged.add(smaller)
            reason = f"tags {smaller!r} and {larger!r} mean the same (similarity {similarity:.2f})"
            for note in members[smaller]:
                # A note split off just now keeps its original ``old`` tag in the record.
                revisions = [r for r in revisions if r.note_id != note.id] + [
                    TagRevision(note.id, note.tags[0], larger, reason)
                ]
    return [r for r in revisions if r.old != r.new]
