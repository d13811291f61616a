"""Which ranking recall trusts, decided by the scope's own record.

    RECALL_CHECKS               the metadata key a procedure keeps its checks under
    with_check(metadata, ...)   the metadata after one more check
    RankerEvidence              the checks of a scope, summed
    ranker_evidence(notes)      -> RankerEvidence
    RankerEvidence.mode         "lexical" | "dense" | "fused"

Recall has two rankings of the learned notes: the lexical one, whose word weights
are learned from the scope's procedures (:mod:`memory.procedures.recall`), and a
dense one (the embedding of the new task's statement against the embeddings of
the tasks the procedures were learned from). Which is better depends on the
scope: on development data the learned lexical ranking won by up to 0.2 top-1
where kinds of task differ by one word the embedding barely sees ("heat" /
"cool"), while a new scope with one run per kind, asked in new words, has no
statistics yet and the embedding found the kind more often.

So the scope tests both on itself. Every time a run of a kind already stored is
learned, before it is merged, both rankings are asked which procedure its task
belongs to; the procedure records which ranking named it. Recall then leads with
the ranking that was right more often, and fuses the two on
equal terms (reciprocal-rank fusion, the usual ``k`` = 60) while neither has
proven better -- including in a new scope, before any check; there, fusion ties
go to the lexical ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from memory.model import Note
from memory.procedures.draft import distilled_metadata

__all__ = ["RECALL_CHECKS", "RRF_K", "Mode", "RankerEvidence", "ranker_evidence", "with_check"]

RECALL_CHECKS = "recall_checks"
RRF_K = 60
"""The reciprocal-rank-fusion constant of Cormack et al. (2009), not tuned here."""

Mode = Literal["lexical", "dense", "fused"]


def with_check(metadata: dict[str, Any], *, lexical: bool, dense: bool) -> dict[str, Any]:
    """A procedure's distilled metadata with one more check recorded (input untouched).

    Args:
        metadata: The procedure's distilled metadata.
        lexical: Whether the lexical ranking named this procedure for the new run.
        dense: Whether the dense ranking did.
    """
    checks = metadata.get(RECALL_CHECKS)
    counts = dict(checks) if isinstance(checks, dict) else {}
    for name, hit in (("trials", True), ("lexical", lexical), ("dense", dense)):
        value = counts.get(name, 0)
        counts[name] = (value if isinstance(value, int) else 0) + int(hit)
    return {**metadata, RECALL_CHECKS: counts}


@dataclass(frozen=True)
class RankerEvidence:
    """How often each ranking named the right procedure in a scope's checks."""

    trials: int = 0
    lexical: int = 0
    dense: int = 0

    @property
    def mode(self) -> Mode:
        """The ranking recall should lead with, or ``"fused"`` while neither is ahead."""
        if self.lexical > self.dense:
            return "lexical"
        if self.dense > self.lexical:
            return "dense"
        return "fused"


def ranker_evidence(notes: Iterable[Note]) -> RankerEvidence:
    """The checks recorded on a scope's procedures, summed."""
    trials = lexical = dense = 0
    for note in notes:
        checks = distilled_metadata(note).get(RECALL_CHECKS)
        if note.kind != "procedure" or not isinstance(checks, dict):
            continue
        trials += _count(checks, "trials")
        lexical += _count(checks, "lexical")
        dense += _count(checks, "dense")
    return RankerEvidence(trials=trials, lexical=lexical, dense=dense)


def _count(checks: dict[str, Any], name: str) -> int:
    value = checks.get(name, 0)
    return value if isinstance(value, int) and value >= 0 else 0
