"""The note graph as one self-contained HTML page (no network needed to open it).

Nodes are notes (coloured by kind, sized by links and measured utility), edges
are links and thread steps (``follows``). The page inlines vis-network (its npm
release, dual Apache-2.0 / MIT licensed; the licence files ship next to it in
``memory/graph/static``), the precomputed layout and the notes' text; hovering a
node shows its content, keywords, tags and context, a search box highlights
matching notes and a selector shows one scope at a time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from importlib import resources
from typing import Any

from memory.graph.layout import force_layout
from memory.model import Note

__all__ = ["KIND_COLOURS", "graph_data", "render_page"]

KIND_COLOURS = {"episodic": "#4e79a7", "concept": "#f28e2b", "procedure": "#59a14f"}
HOVER_CHARS = 600
_SOURCE_MAP = re.compile(r"//# sourceMappingURL=\S+\s*$")
_SCRIPT_END = re.compile(r"</script", re.IGNORECASE)


def _scope_label(note: Note) -> str:
    parts = [f"{name}={value}" for name, value in note.scope.model_dump().items() if value]
    return " ".join(parts) or "(no scope)"


def graph_data(notes: Sequence[Note]) -> dict[str, Any]:
    """Nodes with positions and sizes, edges (links and thread), scopes, kinds."""
    index = {note.id: position for position, note in enumerate(notes)}
    edges: list[dict[str, Any]] = []
    pairs: list[tuple[int, int]] = []
    seen: set[tuple[str, str]] = set()
    for note in notes:
        if note.follows in index:
            key = (min(note.id, note.follows), max(note.id, note.follows))
            seen.add(key)
            edges.append({"from": note.follows, "to": note.id, "type": "thread"})
            pairs.append((index[note.follows], index[note.id]))
    for note in notes:
        for target, strength in note.links.items():
            key = (min(note.id, target), max(note.id, target))
            if target not in index or key in seen:
                continue
            seen.add(key)
            edges.append({"from": note.id, "to": target, "type": "link", "strength": strength})
            pairs.append((index[note.id], index[target]))
    positions = force_layout(len(notes), pairs)
    degree = [0] * len(notes)
    for a, b in pairs:
        degree[a] += 1
        degree[b] += 1
    nodes = []
    for position, note in enumerate(notes):
        ratio = note.utility_ratio
        size = 6 + 3 * math.sqrt(degree[position]) + (8 * ratio if ratio is not None else 0)
        content = note.content
        nodes.append(
            {
                "id": note.id,
                "x": round(float(positions[position][0]), 1),
                "y": round(float(positions[position][1]), 1),
                "size": round(size, 1),
                "kind": note.kind,
                "scope": _scope_label(note),
                "content": content if len(content) <= HOVER_CHARS else content[:HOVER_CHARS] + "…",
                "keywords": note.keywords,
                "tags": note.tags,
                "context": note.context,
                "links": degree[position],
                "utility": None if ratio is None else round(ratio, 3),
            }
        )
    return {
        "nodes": nodes,
        "edges": edges,
        "scopes": sorted({node["scope"] for node in nodes}),
        "colours": KIND_COLOURS,
    }


def _static(name: str) -> str:
    return (resources.files("memory.graph") / "static" / name).read_text(encoding="utf-8")


def _library_safe(text: str) -> str:
    """The library's code unable to end its ``<script>`` element early.

    Only ``</script`` ends one; the code itself has none, this is a guard.
    """
    return _SCRIPT_END.sub(r"<\\/script", text)


def _data_safe(data: Any) -> str:
    """JSON for a ``<script>`` element: every ``<`` escaped, so no text can end it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def render_page(notes: Sequence[Note], *, title: str = "Zettelmem notes") -> str:
    """The whole HTML page for these notes."""
    data = _data_safe(graph_data(notes))
    library = _SOURCE_MAP.sub("", _static("vis-network.min.js"))
    page = _static("page.html")
    safe_title = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        page.replace("__TITLE__", safe_title)
        .replace("/*__VIS_NETWORK__*/", _library_safe(library))
        .replace("/*__GRAPH_DATA__*/null", data)
    )
