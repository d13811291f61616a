"""Which trajectories each step list of a merged procedure came from, and retiring one.

    lead_and_variants(metadata, sources)  -> (lead sources, [(steps, sources), ...])
    with_variant(metadata, sources, steps, new_sources)
                                          the metadata after a same-kind run is folded in
    retire_lead(metadata, sources)        the metadata with its leading steps removed and
                                          the best-supported variant leading, or None
    retired_lead(note, reason)            the same for a stored note, when pruning may
                                          retire its lead rather than delete it

A merged procedure shows one list of steps (the *lead*) and the other step lists
runs of its kind used (*variants*). Feedback on the procedure measures the lead:
it is what an agent is told to do. When the measured utility of the lead falls
below the pruning threshold and the procedure has a variant, pruning retires the
lead rather than the whole procedure: a run labelled a success by mistake that
was learned first, or a recipe that stopped working, loses its place while the
steps of the runs that still work take over, judged afresh. Provenance is kept
in the metadata (``lead_sources``, ``variant_sources``, ``retired``); a note
stored before this was recorded has no per-variant provenance and is pruned whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.model import Note
from memory.procedures.draft import AVOID_TAG, distilled_metadata

__all__ = ["lead_and_variants", "retire_lead", "retired_lead", "with_variant"]


def _strings(values: Any) -> list[str]:
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def lead_and_variants(
    metadata: dict[str, Any], sources: Sequence[str]
) -> tuple[list[str], list[tuple[list[str], list[str]]]]:
    """The sources of the leading steps, and each variant with its sources.

    Args:
        metadata: A procedure's distilled metadata.
        sources: The note's sources (the lead's, when the metadata predates
            per-variant provenance).

    Returns:
        ``(lead sources, [(variant steps, variant sources), ...])``; a variant
        whose provenance was never recorded has no sources.
    """
    lead = _strings(metadata.get("lead_sources")) if "lead_sources" in metadata else list(sources)
    variants = [v for v in metadata.get("variants", []) if isinstance(v, list)]
    recorded = metadata.get("variant_sources")
    owners = recorded if isinstance(recorded, list) else []
    paired = [
        (_strings(steps), _strings(owners[i]) if i < len(owners) else [])
        for i, steps in enumerate(variants)
    ]
    return lead, paired


def with_variant(
    metadata: dict[str, Any],
    sources: Sequence[str],
    steps: Sequence[str],
    new_sources: Sequence[str],
) -> dict[str, Any]:
    """The metadata once a same-kind run's steps are folded in.

    Steps equal to the lead's add their sources to the lead; steps equal to a
    variant's add them to that variant; other steps become a new variant.

    Args:
        metadata: The stored procedure's distilled metadata (not modified).
        sources: The stored note's sources.
        steps: The new run's step templates.
        new_sources: The new run's trajectory ids.
    """
    lead, variants = lead_and_variants(metadata, sources)
    steps = list(steps)
    if steps == _strings(metadata.get("steps")):
        lead = list(dict.fromkeys([*lead, *new_sources]))
    else:
        for index, (variant, owners) in enumerate(variants):
            if variant == steps:
                variants[index] = (variant, list(dict.fromkeys([*owners, *new_sources])))
                break
        else:
            variants.append((steps, list(new_sources)))
    return {
        **metadata,
        "lead_sources": lead,
        "variants": [v for v, _ in variants],
        "variant_sources": [s for _, s in variants],
    }


def retire_lead(
    metadata: dict[str, Any], sources: Sequence[str], *, reason: str = ""
) -> dict[str, Any] | None:
    """The metadata with the leading steps retired and a variant leading instead.

    The variant learned from the most runs leads (the earliest on a tie); the
    retired steps and their sources are kept under ``retired`` with ``reason``.

    Args:
        metadata: The procedure's distilled metadata (not modified).
        sources: The note's sources.
        reason: Why the lead is retired (kept with it).

    Returns:
        The new metadata, or ``None`` when no variant with known provenance can
        take over (the procedure is then judged as a whole).
    """
    lead, variants = lead_and_variants(metadata, sources)
    candidates = [i for i, (steps, owners) in enumerate(variants) if steps and owners]
    if not candidates:
        return None
    chosen = max(candidates, key=lambda i: (len(variants[i][1]), -i))
    steps, owners = variants.pop(chosen)
    retired = [r for r in metadata.get("retired", []) if isinstance(r, dict)]
    retired.append({"steps": _strings(metadata.get("steps")), "sources": lead, "reason": reason})
    return {
        **metadata,
        "steps": steps,
        "lead_sources": owners,
        "variants": [v for v, _ in variants],
        "variant_sources": [s for _, s in variants],
        "retired": retired,
    }


def retired_lead(note: Note, *, reason: str = "") -> dict[str, Any] | None:
    """A stored note's distilled metadata with its lead retired (:func:`retire_lead`),
    or ``None`` when pruning must judge the note as a whole: it is not a procedure
    (concepts and avoid notes have no steps to follow) or no variant can take over.
    """
    if note.kind != "procedure" or AVOID_TAG in note.tags:
        return None
    return retire_lead(distilled_metadata(note), note.sources, reason=reason)
