"""The output of distillation: a note draft the facade stores.

    DistilledNote     kind "procedure" | "concept", content, when_to_use, recall key,
                      keywords, tags, sources, metadata, uses_concepts

Drafts carry no id and no scope: the facade owns both. ``to_note`` builds the
stored ``Note`` so the mapping of fields lives in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from memory.model import Note

__all__ = [
    "AVOID_TAG",
    "MAX_VARIANT_LINES",
    "DistilledNote",
    "distilled_metadata",
    "render_procedure",
]

AVOID_TAG = "avoid"


class DistilledNote(BaseModel):
    """A procedure or concept distilled from trajectories, not yet stored.

    Avoid notes (lessons from failures) are ``kind="concept"`` with the tag
    ``"avoid"``: a procedure promises steps to follow, an avoid note only warns,
    so keeping procedures pure lets ``recall(kinds=["procedure"])`` return
    nothing but runnable recipes. Avoid notes share their task's ``when_to_use``
    key, so they are recalled with the procedures of the same kind.
    """

    model_config = ConfigDict(frozen=True)

    kind: Literal["procedure", "concept"]
    name: str = Field(description="Stable identity: the generalised task or the concept name.")
    content: str = Field(description="The rendered note: when to use, then steps or advice.")
    when_to_use: str = Field(
        description="The recall key to index on; query the index with recall_key(new task)."
    )
    context: str = Field(default="", description="One line: what the note is and its origin.")
    keywords: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="Trajectory ids (provenance).")
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="JSON-safe distillation details (key, arguments, steps...).",
    )
    uses_concepts: list[str] = Field(
        default_factory=list, description="Names of the concepts this procedure is built from."
    )

    @property
    def is_avoid(self) -> bool:
        """Whether this is a lesson from a failure rather than something to follow."""
        return AVOID_TAG in self.tags

    def to_note(self, **fields: Any) -> Note:
        """Build the ``Note`` to store.

        Args:
            **fields: Extra ``Note`` fields the facade decides (``user_id``,
                ``agent_id``, ``run_id``, ``metadata`` overrides, ``id``...).

        Returns:
            A new ``Note``; the draft's metadata is kept under
            ``metadata["distilled"]`` so the caller's own metadata keys never clash.
        """
        metadata = dict(fields.pop("metadata", {}) or {})
        metadata.setdefault(
            "distilled",
            {**self.metadata, "name": self.name, "uses_concepts": list(self.uses_concepts)},
        )
        return Note(
            content=self.content,
            kind=self.kind,
            keywords=list(self.keywords),
            tags=list(self.tags),
            context=self.context,
            sources=list(self.sources),
            when_to_use=self.when_to_use,
            metadata=metadata,
            **fields,
        )


def distilled_metadata(note: DistilledNote | Note) -> dict[str, Any]:
    """A draft's metadata, or a stored note's ``metadata["distilled"]`` ({} when absent)."""
    if isinstance(note, DistilledNote):
        return note.metadata
    distilled = note.metadata.get("distilled")
    return distilled if isinstance(distilled, dict) else {}


MAX_VARIANT_LINES = 12
"""Step variants shown in a merged procedure's text (all are kept in its metadata)."""


def render_procedure(metadata: dict[str, Any]) -> str:
    """The text of a procedure from its distilled metadata (one place for the format).

    Reads ``phrase``, ``steps`` (folded templates), ``variants`` (lists of templates
    other trajectories of the same kind used), ``arguments`` and ``task``.
    """
    steps = [s for s in metadata.get("steps", []) if isinstance(s, str)]
    lines = [f"When to use: {metadata.get('phrase', '')}", "Steps:"]
    lines += [f"{number}. {step}" for number, step in enumerate(steps, 1)]
    seen = set(steps)
    extra: list[str] = []
    for variant in metadata.get("variants", []):
        for step in variant if isinstance(variant, list) else []:
            if isinstance(step, str) and step not in seen:
                seen.add(step)
                extra.append(step)
    if extra:
        lines.append("Variants seen: " + "; ".join(extra[:MAX_VARIANT_LINES]))
    arguments = metadata.get("arguments") or {}
    if arguments:
        named = ", ".join(f"{slot} = {literal}" for slot, literal in arguments.items())
        lines.append(f"Arguments: {named}")
    lines.append(f"Learned from: {metadata.get('task', '')}")
    return "\n".join(lines)
