"""Notes as prompt text: titled sections of ``- `` entries, best first.

Every entry is one note; a note's extra lines are indented by two spaces, so an
entry always starts with ``"- "`` at the start of a line and the text can be
split back into its entries (how the LlamaIndex block truncates its own output).

    Relevant memories (most relevant first):
    - [2023-05-08] Melanie: I signed up for a pottery class!
    - (procedure) When to use: put a clean <object> in <receptacle>.
      1. find the <object> ...
"""

from __future__ import annotations

from collections.abc import Iterable

from memory.model import Note

__all__ = ["Section", "note_entry", "parse_sections", "render_sections"]

Section = tuple[str, list[str]]
"""A section: its title line and its entries (each a ``"- ..."`` string)."""


def note_entry(note: Note) -> str:
    """One note as a ``- `` entry: dated if episodic, labelled with its kind otherwise."""
    if note.kind == "episodic":
        label = f"[{note.timestamp:%Y-%m-%d}]"
    else:
        label = f"({note.kind})"
    lines = note.content.strip().splitlines() or [""]
    first, rest = lines[0], lines[1:]
    return "\n".join([f"- {label} {first}".rstrip(), *(f"  {line}" for line in rest)])


def render_sections(sections: Iterable[Section]) -> str:
    """Sections with at least one entry, separated by blank lines ("" if none)."""
    blocks = ["\n".join([title, *entries]) for title, entries in sections if entries]
    return "\n\n".join(blocks)


def parse_sections(text: str) -> list[Section]:
    """The sections of a text produced by :func:`render_sections` (its exact inverse)."""
    sections: list[Section] = []
    for line in text.split("\n"):
        if line.startswith("- "):
            if not sections:
                sections.append(("", []))
            sections[-1][1].append(line)
        elif line.startswith("  ") and sections and sections[-1][1]:
            entries = sections[-1][1]
            entries[-1] = f"{entries[-1]}\n{line}"
        elif line == "":
            continue
        else:
            sections.append((line, []))
    return sections
