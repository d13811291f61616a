"""The ``zettelmem`` command: inspect, search, import, export, draw and serve a memory.

app         the command group, its error boundary and ``main``
target      the shared store / scope options and opening a store
render      tables for people, JSON for scripts
notes       add, search, show, list, update, delete
transfer    import (messages, conversations, snapshots), export
procedures  learn, recall, feedback, prune
store       stats, graph, mcp, demo
"""

from memory.cli.app import cli, main

__all__ = ["cli", "main"]
