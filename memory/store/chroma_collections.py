"""The four collections of a Chroma store, created or opened with the settings they need.

open_collections()  notes, tombstones, links, events of one prefix
SYNC_THRESHOLD      how often Chroma persists a collection's index (and frees its log)
"""

from __future__ import annotations

import logging
from typing import Any

from memory.store.chroma_layout import LAYOUT

__all__ = ["SYNC_THRESHOLD", "open_collections"]

logger = logging.getLogger(__name__)

SYNC_THRESHOLD = 100
"""Records a collection takes before Chroma persists its HNSW index (Chroma's default: 1000).

Chroma keeps a collection's write log until its index is persisted, and each
write costs it in proportion to the log kept: with the default, one ``add``
through a server cost the server about 117 ms of CPU after 200 notes (23-28 ms
per write call), with 100 about 32 ms (``benchmarks/server_calls.py --server``).
Persisting more often rewrites the index file more often (a note's vector and
graph, about 1.6 KB, every 100 writes), which cost less than the log kept at
5,000 notes too.
"""


def open_collections(client: Any, prefix: str) -> tuple[Any, Any, Any, Any]:
    """``(notes, tombstones, links, events)`` of ``prefix`` on ``client``, created if missing.

    Collections made before :data:`SYNC_THRESHOLD` was set get it now.
    """
    notes = client.get_or_create_collection(
        f"{prefix}_notes",
        embedding_function=None,
        configuration=_hnsw(space="cosine", ef_search=128),
    )
    tombstones = client.get_or_create_collection(
        f"{prefix}_tombstones", embedding_function=None, configuration=_hnsw()
    )
    links = client.get_or_create_collection(
        f"{prefix}_links", embedding_function=None, configuration=_hnsw()
    )
    # The layout version lives on the events collection (set when it is created).
    events = client.get_or_create_collection(
        f"{prefix}_events",
        embedding_function=None,
        metadata={"layout": LAYOUT},
        configuration=_hnsw(),
    )
    for collection in (notes, tombstones, links, events):
        _persist_often(collection)
    return notes, tombstones, links, events


def _hnsw(**settings: Any) -> dict[str, Any]:
    """A collection configuration with :data:`SYNC_THRESHOLD` and ``settings``."""
    return {"hnsw": {"sync_threshold": SYNC_THRESHOLD, **settings}}


def _persist_often(collection: Any) -> None:
    """Lower an existing collection's sync threshold to :data:`SYNC_THRESHOLD`.

    A failure only costs speed, so it is logged, not raised.
    """
    configuration = getattr(collection, "configuration", None) or {}
    found = (configuration.get("hnsw") or {}).get("sync_threshold")
    if not isinstance(found, int) or found <= SYNC_THRESHOLD:
        return
    try:
        collection.modify(configuration=_hnsw())
    except Exception:  # a client or server that refuses it: the store works as before
        logger.warning("could not lower %s's sync threshold", collection.name, exc_info=True)
