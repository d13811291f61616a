"""The Chroma store's pure routing decisions, without Chroma."""

from __future__ import annotations

from memory.store.routing import NOTHING, USE_WHERE, exact_scan_fits, fanout
from memory.store.scope_vectors import EXACT_SCAN_MAX


def test_fanout_asks_exactly_n_when_the_scope_sees_everything() -> None:
    assert fanout(50, 10_000, 10_000) == 50
    assert fanout(50, 30, 30) == 30


def test_fanout_widens_with_the_share_the_scope_misses() -> None:
    assert fanout(50, 10_000, 5_000) == 150  # 1.5 x 50 / (1/2)
    assert fanout(8, 1_000, 250) == 48


def test_small_shares_go_to_where_and_empty_ones_to_nothing() -> None:
    assert fanout(50, 10_000, 100) == USE_WHERE  # past 8x, the filtered query is cheaper
    assert fanout(50, 10_000, 0) == NOTHING
    assert fanout(50, 0, None) == NOTHING


def test_an_unknown_share_asks_four_times_n() -> None:
    assert fanout(8, 10_000, None) == 32
    assert fanout(8, 20, None) == 20


def test_exact_scans_only_for_listable_small_scopes() -> None:
    assert exact_scan_fits(["a", "b"])
    assert not exact_scan_fits(None)
    assert not exact_scan_fits(["x"] * (EXACT_SCAN_MAX + 1))
