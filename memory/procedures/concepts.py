"""Concepts: sub-routines that recur across procedures, abstracted once and linked.

    ConceptExtraction              the concepts found and which procedure uses which
    extract_concepts(procedures)   procedures (drafts or stored notes) -> ConceptExtraction
    distill_batch(trajectories)    distil many at once: procedures, avoid notes, concepts

Three kinds of routine are recognised in a procedure's segments:

    find <object>      a search: check likely places one by one, opening closed ones
    <verb> <object>    a state change with an appliance (heat/cool/clean with ...)
    use <tool>         find a tool such as a desklamp and use it while holding the object

A routine becomes a concept when at least ``min_support`` distinct procedures use
it. Its content aggregates what all of them saw (places checked, where objects
turned up, appliances used), which is what one trajectory alone cannot tell.
Running the extraction again over a grown pool gives the same names, so the
facade can update a stored concept of the same name instead of duplicating it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from memory.model import Note, Trajectory
from memory.procedures.distill import distill_trajectory
from memory.procedures.draft import AVOID_TAG, DistilledNote
from memory.procedures.generalise import OBJECT
from memory.procedures.lexicon import HOUSEHOLD, Lexicon

__all__ = ["ConceptExtraction", "distill_batch", "extract_concepts", "procedure_key"]

_STATE_CUES = {
    "heat": "heat, hot, warm",
    "cool": "cool, cold, chill",
    "clean": "clean, wash, rinse",
    "slice": "slice, cut",
}


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


def _segments(note: DistilledNote | Note) -> list[dict[str, Any]]:
    metadata = note.metadata
    if isinstance(note, Note):
        metadata = metadata.get("distilled", metadata)
    segments = metadata.get("segments", [])
    return [s for s in segments if isinstance(s, dict)]


def _routines(segments: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(concept name, evidence) for every recognised routine in one procedure."""
    found: list[tuple[str, dict[str, Any]]] = []
    tool_search: dict[str, Any] | None = None
    for segment in segments:
        routine = segment.get("routine")
        target = segment.get("target", "")
        if routine == "find" and target == OBJECT:
            found.append((f"find {OBJECT}", segment))
        elif routine == "find" and target not in ("", "?"):
            tool_search = segment  # kept for the "use" that follows
        elif routine in _STATE_CUES and segment.get("tool"):
            found.append((f"{routine} {OBJECT}", segment))
        elif routine == "use" and segment.get("tool"):
            evidence = {**segment, "search": tool_search}
            found.append((f"use {segment['tool']}", evidence))
            tool_search = None
    return found


def _ranked(counter: Counter[str], limit: int = 8) -> str:
    return ", ".join(f"{name} ({n})" for name, n in counter.most_common(limit))


def _find_concept(evidence: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    places: Counter[str] = Counter(p for e in evidence for p in e.get("places", []))
    opened: Counter[str] = Counter(p for e in evidence for p in e.get("opened", []))
    turned_up: dict[str, list[str]] = {}
    for e in evidence:
        obj, where = e.get("object_class"), e.get("found_at")
        if obj and where and where not in turned_up.setdefault(obj, []):
            turned_up[obj].append(where)
    sightings = "; ".join(f"{o}: {', '.join(w)}" for o, w in sorted(turned_up.items()))
    opened_text = ", ".join(name for name, _ in opened.most_common()) or "none seen"
    how = (
        f"go to the likely places one by one; open closed ones ({opened_text}) and look "
        f"inside; stop at the first that holds {OBJECT} and take it. If the task needs more "
        "than one, remember where you saw the others."
    )
    lines = [f"Places checked most often: {_ranked(places)}"]
    if sightings:
        lines.append(f"Where objects turned up: {sightings}")
    return how, "\n".join(lines), ["find", "look for", "search"]


def _state_concept(verb: str, evidence: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    tools = Counter(e["tool"] for e in evidence)
    tool = tools.most_common(1)[0][0]
    how = (
        f"with {OBJECT} in hand, go to {tool} and {verb} {OBJECT} with {tool}; keep holding "
        f"it and carry on with the task."
    )
    objects = sorted({e["object_class"] for e in evidence if e.get("object_class")})
    detail = f"Appliances used: {_ranked(tools)}"
    if objects:
        detail += f"\nObjects it worked on: {', '.join(objects)}"
    return how, detail, _STATE_CUES[verb].split(", ")


def _use_concept(tool: str, evidence: list[dict[str, Any]]) -> tuple[str, str, list[str]]:
    places: Counter[str] = Counter()
    found: Counter[str] = Counter()
    for e in evidence:
        search = e.get("search") or {}
        places.update(search.get("places", []))
        if search.get("found_at"):
            found[search["found_at"]] += 1
    how = (
        f"take {OBJECT} first, then find {tool} (check the places below one by one) and "
        f"use {tool} while holding {OBJECT}."
    )
    detail = f"Places checked for {tool}: {_ranked(places) or 'none recorded'}"
    if found:
        detail += f"\n{tool} found at: {_ranked(found)}"
    return how, detail, ["look at", "examine", "under the", tool]


def extract_concepts(
    procedures: Mapping[str, DistilledNote | Note] | Iterable[DistilledNote | Note],
    *,
    min_support: int = 2,
) -> ConceptExtraction:
    """Find the sub-routines shared by at least ``min_support`` procedures.

    Args:
        procedures: Procedure drafts or stored procedure notes (their distillation
            details must be in ``metadata`` or ``metadata["distilled"]``), either
            keyed by the caller's ids or as an iterable keyed by
            :func:`procedure_key`. Avoid notes and other kinds are ignored.
        min_support: Distinct procedures a routine needs to become a concept.

    Returns:
        The concepts (``kind="concept"``, ``sources`` = union of the trajectory ids
        behind them) and which procedure uses which concept.

    Example:
        >>> from memory.procedures import distill_trajectory
        >>> extraction = extract_concepts(procedure_drafts)  # doctest: +SKIP
        >>> extraction.uses["react_heat_0"]  # doctest: +SKIP
        ['find <object>', 'heat <object>']
    """
    items = (
        list(procedures.items())
        if isinstance(procedures, Mapping)
        else [(procedure_key(p), p) for p in procedures]
    )
    evidence: dict[str, list[dict[str, Any]]] = {}
    users: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    per_procedure: dict[str, list[str]] = {}
    for key, note in items:
        if note.kind != "procedure" or AVOID_TAG in note.tags:
            continue
        names: list[str] = []
        for name, segment in _routines(_segments(note)):
            evidence.setdefault(name, []).append(segment)
            if name not in names:
                names.append(name)
                users.setdefault(name, []).append(key)
                sources.setdefault(name, [])
                sources[name].extend(s for s in note.sources if s not in sources[name])
        per_procedure[key] = names

    concepts: list[DistilledNote] = []
    for name in sorted(evidence, key=lambda n: (-len(users[n]), n)):
        if len(users[name]) < min_support:
            continue
        concepts.append(_concept(name, evidence[name], users[name], sources[name]))
    kept = {c.name for c in concepts}
    uses = {key: [n for n in names if n in kept] for key, names in per_procedure.items()}
    return ConceptExtraction(concepts=concepts, uses=uses)


def _concept(
    name: str, evidence: list[dict[str, Any]], users: list[str], sources: list[str]
) -> DistilledNote:
    verb, _, rest = name.partition(" ")
    if verb == "find":
        how, detail, cues = _find_concept(evidence)
    elif verb == "use":
        how, detail, cues = _use_concept(rest, evidence)
    else:
        how, detail, cues = _state_concept(verb, evidence)
    when = (
        f"{name} (verbs: {', '.join(dict.fromkeys(['find', verb] if verb == 'use' else [verb]))})"
    )
    content = (
        f"Concept: {name}\nWhen to use: a task needs to {name} (cues: {', '.join(cues)})\n"
        f"How: {how}\n{detail}\nUsed by {len(users)} procedures."
    )
    return DistilledNote(
        kind="concept",
        name=name,
        content=content,
        when_to_use=when,
        context=f"Reusable sub-routine '{name}', abstracted from {len(users)} procedures.",
        keywords=list(dict.fromkeys([verb, *rest.split()])),
        tags=["routine", verb],
        sources=list(sources),
        metadata={
            "concept": name,
            "description": how,
            "cues": cues,
            "parameters": [OBJECT],
            "used_by": list(users),
            "support": len(users),
        },
    )


def distill_batch(
    trajectories: Sequence[Trajectory | Mapping[str, Any]],
    *,
    min_support: int = 2,
    lexicon: Lexicon = HOUSEHOLD,
) -> list[DistilledNote]:
    """Distil several trajectories and abstract their shared concepts.

    Args:
        trajectories: Successes and failures, ``Trajectory`` or dicts.
        min_support: Distinct procedures a routine needs to become a concept.
        lexicon: The domain vocabulary.

    Returns:
        Procedures (with ``uses_concepts`` filled), then avoid notes, then concepts.
    """
    drafts = [d for t in trajectories for d in distill_trajectory(t, lexicon=lexicon)]
    procedures = [d for d in drafts if d.kind == "procedure"]
    others = [d for d in drafts if d.kind != "procedure"]
    extraction = extract_concepts(procedures, min_support=min_support)
    linked = [
        p.model_copy(update={"uses_concepts": extraction.uses.get(procedure_key(p), [])})
        for p in procedures
    ]
    return [*linked, *others, *extraction.concepts]
