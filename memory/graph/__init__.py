"""The note graph: a force layout computed in numpy and a self-contained HTML page.

layout   force_layout(count, edges)      positions, linked notes close together
page     graph_data(notes), render_page  the page (vis-network inlined)
"""

from memory.graph.layout import force_layout
from memory.graph.page import KIND_COLOURS, graph_data, render_page

__all__ = ["KIND_COLOURS", "force_layout", "graph_data", "render_page"]
