"""The graph page's pieces: the force layout and the page's data and escaping."""

from __future__ import annotations

import json
import re

import numpy as np

from memory.graph import force_layout, graph_data, render_page
from memory.model import Note


def test_layout_puts_linked_nodes_closer_than_unlinked_ones() -> None:
    edges = [(i - 1, i) for i in range(300) if i % 30]  # ten chains of thirty
    positions = force_layout(300, edges)
    assert positions.shape == (300, 2) and np.isfinite(positions).all()
    linked = np.linalg.norm(
        positions[[a for a, _ in edges]] - positions[[b for _, b in edges]], axis=1
    )
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, 300, size=(2000, 2))
    unlinked = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    assert np.median(linked) * 3 < np.median(unlinked)
    assert np.array_equal(positions, force_layout(300, edges))  # same input, same picture


def test_layout_of_tiny_graphs() -> None:
    assert force_layout(0, []).shape == (0, 2)
    assert force_layout(1, []).tolist() == [[0.0, 0.0]]
    two = force_layout(2, [(0, 1)])
    assert np.linalg.norm(two[0] - two[1]) > 0


def test_graph_data_has_one_edge_per_link_or_thread_step() -> None:
    first = Note(content="a", user_id="u")
    second = Note(content="b", user_id="u", follows=first.id, links={first.id: 0.5})
    third = Note(content="c", user_id="u", links={first.id: 0.8})
    first.links = {second.id: 0.5, third.id: 0.8}
    data = graph_data([first, second, third])
    edges = {(e["from"], e["to"], e["type"]) for e in data["edges"]}
    assert edges == {(first.id, second.id, "thread"), (first.id, third.id, "link")}
    sizes = {n["id"]: n["size"] for n in data["nodes"]}
    assert sizes[first.id] > sizes[second.id]  # more links, bigger node
    used = Note(content="d", kind="procedure", retrieved_count=4, success_count=4)
    unused = Note(content="e", kind="procedure")
    sized = {n["id"]: n["size"] for n in graph_data([used, unused])["nodes"]}
    assert sized[used.id] > sized[unused.id]  # measured utility, bigger node


def test_note_text_cannot_break_out_of_the_page() -> None:
    hostile = Note(content="</script><script>alert(1)</script><!-- & \u2028", tags=["<b>"])
    page = render_page([hostile], title="<i>mine</i>")
    assert "<script>alert(1)" not in page
    assert "<title>&lt;i&gt;mine&lt;/i&gt;</title>" in page
    inlined = re.search(r"const GRAPH = (\{.*?\});\n", page, re.S).group(1)
    assert "<" not in inlined  # every "<" of the notes' text is escaped
    data = json.loads(inlined)
    assert data["nodes"][0]["content"] == hostile.content and data["nodes"][0]["tags"] == ["<b>"]
    assert page.count("</script>") == 2  # the library's element and the page's own
