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

SYNC_THRESHOLD = 1000
"""Records a collection takes before Chroma persists its HNSW index (Chroma's default).

Chroma keeps a collection's write log until its index is persisted, and each
write costs it in proportion to the log kept, so persisting every 100 records
cut a server's CPU per ``add`` about threefold (``benchmarks/server_calls.py
--server``). It was tried and taken back: Chroma writes the index's metadata
file (``index_metadata.pickle``) in place, and a process killed while writing it
leaves a collection that no longer opens ("Error deserializing pickle file"). The
kill-point test (``tests/reliability/test_crash_safety.py``) hit that at 100;
persisting ten times less often makes such a kill ten times rarer.
"""


def open_collections(client: Any, prefix: str) -> tuple[Any, Any, Any, Any]:
    """``(notes, tombstones, links, events)`` of ``prefix`` on ``client``, created if missing.

    Collections made with another sync threshold (100, by the release that tried
    it) get :data:`SYNC_THRESHOLD` now.
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
        _at_sync_threshold(collection)
    return notes, tombstones, links, events


def _hnsw(**settings: Any) -> dict[str, Any]:
    """A collection configuration with :data:`SYNC_THRESHOLD` and ``settings``."""
    return {"hnsw": {"sync_threshold": SYNC_THRESHOLD, **settings}}


def _at_sync_threshold(collection: Any) -> None:
    """Set an existing collection's sync threshold to :data:`SYNC_THRESHOLD`.

    A failure is logged, not raised: the store works with any threshold.
    """
    configuration = getattr(collection, "configuration", None) or {}
    found = (configuration.get("hnsw") or {}).get("sync_threshold")
    if not isinstance(found, int) or found == SYNC_THRESHOLD:
        return
    try:
        collection.modify(configuration=_hnsw())
    except Exception:  # a client or server that refuses it: the store works as before
        logger.warning("could not set %s's sync threshold", collection.name, exc_info=True)
