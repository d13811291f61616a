"""Concepts: step sequences shared by procedures of different kinds, abstracted once.

    ConceptExtraction              the concepts found and which procedure uses which
    extract_concepts(procedures)   procedures (drafts or stored notes) -> ConceptExtraction
    distill_batch(trajectories)    distil many at once: procedures, avoid notes, concepts

A routine is a run of consecutive generalised steps (``MIN_ROUTINE`` to
``MAX_ROUTINE`` long) that acts on a task argument in at least one step. It becomes
a concept when procedures of at least ``min_support`` different kinds (different
*when to use* phrases) contain it: "to heat a thing: move it to the heater, turn
the heater on, wait" is learned because several tasks did it, whatever the domain.
Only maximal routines are kept (a shorter one used by exactly the same procedures
is part of a longer one). Running the extraction again over a grown pool gives the
same names, so the facade updates a stored concept instead of duplicating it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from memory.model import Note, Trajectory
from memory.procedures.distill import distill_trajectory
from memory.procedures.draft import AVOID_TAG, DistilledNote, distilled_metadata
from memory.procedures.merging import merge_drafts
from memory.procedures.steps import head, unfold
from memory.procedures.text import NO_HINTS, Hints, anonymous

__all__ = [
    "MAX_ROUTINE",
    "MIN_ROUTINE",
    "ConceptExtraction",
    "distill_batch",
    "extract_concepts",
    "procedure_key",
]

MIN_ROUTINE = 2
MAX_ROUTINE = 8
"""Longest run of steps considered as one routine (bounds the work per procedure)."""


class ConceptExtraction(BaseModel):
    """The result of :func:`extract_concepts`.

    ``uses`` maps each procedure key (see :func:`procedure_key`) to the names of
    the concepts it uses, in the order the procedure uses them.
    """

    concepts: list[DistilledNote] = Field(default_factory=list)
    uses: dict[str, list[str]] = Field(default_factory=dict)


def procedure_key(note: DistilledNote | Note) -> str:
    """How a procedure is identified: a stored note's id, a draft's first source."""
    if isinstance(note, Note):
        return note.id
    return note.sources[0] if note.sources else note.name


def _path(metadata: dict[str, Any]) -> list[str]:
    """The steps once each, placeholders anonymous: runs of two tasks compare equal
    whatever order their arguments were numbered in."""
    return [anonymous(p) for line in metadata.get("steps", []) for p in unfold(str(line))]


def _routines(path: list[str]) -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for size in range(MIN_ROUTINE, MAX_ROUTINE + 1):
        for start in range(len(path) - size + 1):
            run = tuple(path[start : start + size])
            if len(set(run)) > 1 and any("<arg>" in step for step in run):
                found.add(run)
    return found


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    size = len(shorter)
    return any(longer[i : i + size] == shorter for i in range(len(longer) - size + 1))


def extract_concepts(
    procedures: Mapping[str, DistilledNote | Note] | Iterable[DistilledNote | Note],
    *,
    min_support: int = 2,
) -> ConceptExtraction:
    """Find the routines shared by procedures of at least ``min_support`` kinds.

    Args:
        procedures: Procedure drafts or stored procedure notes, keyed by the
            caller's ids or as an iterable keyed by :func:`procedure_key`. Avoid
            notes and other kinds are ignored.
        min_support: Distinct kinds (*when to use* phrases) a routine needs.

    Returns:
        The concepts (``sources`` = union of the trajectory ids behind their users)
        and which procedure uses which concept.
    """
    items = (
        list(procedures.items())
        if isinstance(procedures, Mapping)
        else [(procedure_key(p), p) for p in procedures]
    )
    users: dict[tuple[str, ...], list[str]] = {}
    kinds: dict[tuple[str, ...], set[str]] = {}
    sources: dict[tuple[str, ...], list[str]] = {}
    paths: dict[str, list[str]] = {}
    phrases: dict[str, str] = {}
    for key, note in items:
        if note.kind != "procedure" or AVOID_TAG in note.tags:
            continue
        metadata = distilled_metadata(note)
        paths[key] = _path(metadata)
        phrases[key] = str(metadata.get("phrase", note.when_to_use))
        for run in _routines(paths[key]):
            users.setdefault(run, []).append(key)
            kinds.setdefault(run, set()).add(phrases[key])
            sources.setdefault(run, []).extend(note.sources)
    shared = [run for run in users if len(kinds[run]) >= min_support]
    shared.sort(key=lambda run: (-len(run), run))
    kept: list[tuple[str, ...]] = []
    for run in shared:
        if not any(_contains(k, run) and set(users[k]) == set(users[run]) for k in kept):
            kept.append(run)
    concepts = [
        _concept(run, users[run], sorted(kinds[run]), sources[run])
        for run in sorted(kept, key=lambda r: (-len(users[r]), r))
    ]
    concept_users = {c.name: set(users[tuple(c.metadata["steps"])]) for c in concepts}
    uses: dict[str, list[str]] = {}
    for key, path in paths.items():
        names = [name for name, who in concept_users.items() if key in who]
        uses[key] = sorted(names, key=functools.partial(_first_index, path))
    return ConceptExtraction(concepts=concepts, uses=uses)


def _first_index(path: list[str], name: str) -> int:
    first = name.split("; ", 1)[0]
    return path.index(first) if first in path else len(path)


def _concept(
    run: tuple[str, ...], users: list[str], kinds: list[str], sources: list[str]
) -> DistilledNote:
    name = "; ".join(run)
    parameters = ["<arg>"] if any("<arg>" in step for step in run) else []
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(run, 1))
    content = (
        f"Concept: {name}\nWhen to use: a task needs these steps (seen in: "
        f"{'; '.join(kinds[:5])})\nHow:\n{steps}\nUsed by {len(users)} procedures."
    )
    heads = list(dict.fromkeys(h for h in map(head, run) if h))
    return DistilledNote(
        kind="concept",
        name=name,
        content=content,
        when_to_use=name,
        context=f"Reusable routine shared by {len(kinds)} kinds of task.",
        keywords=heads,
        tags=["routine"],
        sources=list(dict.fromkeys(sources)),
        metadata={
            "concept": name,
            "steps": list(run),
            "heads": heads,
            "parameters": parameters,
            "used_by": list(users),
            "kinds": kinds,
            "support": len(kinds),
        },
    )


def distill_batch(
    trajectories: Sequence[Trajectory | Mapping[str, Any]],
    *,
    min_support: int = 2,
    hints: Hints = NO_HINTS,
    merge: bool = True,
) -> list[DistilledNote]:
    """Distil several trajectories, merge those of one kind, abstract shared concepts.

    Successes are distilled first so each failure is compared with them.

    Args:
        trajectories: Successes and failures, ``Trajectory`` or dicts.
        min_support: Distinct kinds a routine needs to become a concept.
        hints: Optional user vocabulary.
        merge: Merge procedures of the same kind (see :mod:`memory.procedures.merging`).

    Returns:
        Procedures (with ``uses_concepts`` filled), then avoid notes, then concepts.
    """
    from memory.procedures.distill import coerce_trajectory

    parsed = [coerce_trajectory(t) for t in trajectories]
    procedures = [d for t in parsed if t.succeeded for d in distill_trajectory(t, hints=hints)]
    if merge:
        procedures = merge_drafts(procedures)
    others = [
        d
        for t in parsed
        if not t.succeeded
        for d in distill_trajectory(t, known=procedures, hints=hints)
    ]
    extraction = extract_concepts(procedures, min_support=min_support)
    linked = [
        p.model_copy(update={"uses_concepts": extraction.uses.get(procedure_key(p), [])})
        for p in procedures
    ]
    return [*linked, *others, *extraction.concepts]
