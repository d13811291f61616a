"""The procedural half of :class:`~memory.facade.AgenticMemory`'s public API.

``ProceduralApi`` validates the caller's input and hands the work to the
components it declares: :class:`~memory.procedural.ProceduralMemory` (learn,
recall) and :class:`~memory.utility_ledger.UtilityLedger` (feedback, prune).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from memory.errors import InvalidInput
from memory.ingest.pipeline import IngestPipeline
from memory.model import Note, SearchResult, Trajectory
from memory.procedural import LEARNED_KINDS, ProceduralMemory
from memory.procedures import AVOID_TAG, Hints
from memory.query_cache import QueryVectors
from memory.utility_ledger import Removal, UtilityLedger
from memory.validate import validate_content, validate_k, validate_note_ids, validate_scope

__all__ = ["ProceduralApi", "render_recalled"]


def render_recalled(hits: Sequence[SearchResult], max_chars: int) -> str:
    """Recalled notes as prompt text: short, most useful first ("" for no hits)."""
    if not hits:
        return ""
    lines = ["Lessons from past tasks (most useful first):"]
    for number, hit in enumerate(hits, start=1):
        label = "avoid" if AVOID_TAG in hit.note.tags else hit.note.kind
        lines.append(f"{number}. [{label}] {hit.note.content.strip()}")
    text = "\n".join(lines)
    return text if len(text) <= max_chars else text[: max_chars - 3].rstrip() + "..."


class ProceduralApi:
    """learn, recall, recall_text, feedback and prune."""

    _procedural: ProceduralMemory
    _utility: UtilityLedger
    _ingest: IngestPipeline
    _queries: QueryVectors
    max_content_chars: int

    def learn(
        self,
        trajectory: Trajectory | dict[str, Any],
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        hints: Hints | None = None,
    ) -> list[Note]:
        """Distil a trajectory into procedure / concept notes and store them.

        A success yields a procedure keyed by *when to use* (the task generalised);
        a failure yields an "avoid" concept when the steps show what went wrong.
        Sub-routines shared by several procedures become concept notes (merged by
        name, never duplicated) linked to the procedures that use them. Learning
        the same trajectory id twice returns the notes already learned.

        With a model (``llm=``), the model writes these notes in one structured call
        made outside the memory's lock, shown the stored notes of the same task to
        compare outcomes; its concepts merge into stored ones of the same name. When
        it gives no usable reply, the offline rules distil instead. Its cost is added
        to ``usage``.

        A success of a kind already stored (same key and steps, see
        :mod:`memory.procedures.merging`) is merged into that procedure: its sources
        and step variants grow, no second note is made.

        Args:
            trajectory: a :class:`~memory.model.Trajectory` or a dict of the same shape.
            user_id: scope: the user it belongs to.
            agent_id: scope: the agent it belongs to.
            run_id: scope: the run it belongs to.
            hints: optional domain vocabulary (:class:`~memory.procedures.Hints`;
                default: the memory's ``procedure_hints``); without it everything
                is learned from the scope's own trajectories.

        Returns:
            The notes distilled from this trajectory; each lists its id in ``sources``.

        Raises:
            InvalidTrajectory: malformed trajectory (nothing stored).
        """
        scope = validate_scope(user_id, agent_id, run_id)
        return self._procedural.learn(trajectory, scope, hints)

    def recall(
        self,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] = LEARNED_KINDS,
        hints: Hints | None = None,
    ) -> list[SearchResult]:
        """Procedures and concepts for a new task, most relevant first, then most useful.

        ``task`` may be a bare task or a whole agent observation: the sentence that
        best matches the scope's *when to use* keys leads, and words the scope's
        procedures used as arguments weigh little. Notes of one key are ordered by
        measured utility; concepts come when no procedure fits.

        Args:
            task: the new task, or the agent's whole observation.
            k: how many notes to return.
            user_id: scope: the user.
            agent_id: scope: the agent.
            run_id: scope: the run.
            kinds: "procedure" and / or "concept".
            hints: optional domain vocabulary (default: the memory's ``procedure_hints``).

        Returns:
            Up to ``k`` results, most relevant first.

        Raises:
            InvalidInput: empty task, bad ``k``, scope or ``kinds``.
        """
        task = validate_content(task, max_chars=self.max_content_chars, what="task")
        k = validate_k(k)
        scope = validate_scope(user_id, agent_id, run_id)
        if not kinds or any(kind not in LEARNED_KINDS for kind in kinds):
            raise InvalidInput(f"recall kinds must be among {LEARNED_KINDS}")
        queries, embedder = self._queries, self._ingest.embedder

        def embed(texts: Sequence[str]) -> Any:
            # The raw task is encoded in the same batch: an agent that recalls for a
            # request searches its notes for that request next, and finds it cached.
            batch = list(texts) if task in texts else [*texts, task]
            return queries.embed(embedder, batch)[: len(texts)]

        return self._procedural.recall(task, k, scope, kinds, embed, hints)

    def recall_text(
        self,
        task: str,
        k: int = 3,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        max_chars: int = 1_500,
    ) -> str:
        """The recalled notes rendered for a prompt: short, most useful first.

        Args:
            task: the new task, or the agent's whole observation.
            k: how many notes.
            user_id: scope: only notes of this user.
            agent_id: scope: only notes of this agent.
            run_id: scope: only notes of this run.
            max_chars: longest text returned.

        Returns:
            The text ("" when nothing was recalled).
        """
        hits = self.recall(task, k, user_id=user_id, agent_id=agent_id, run_id=run_id)
        return render_recalled(hits, max_chars)

    def feedback(
        self,
        note_ids: Sequence[str],
        success: bool,
        *,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Note]:
        """Record that these notes were used for a task and whether it succeeded.

        Pass the notes the agent actually used (crediting every recalled note lets
        misleading notes ride on good ones: see benchmarks/utility_simulation.py).

        Args:
            note_ids: the notes the agent used.
            success: whether the task succeeded.
            user_id: scope: the user the notes belong to.
            agent_id: scope: the agent the notes belong to.
            run_id: scope: the run the notes belong to.

        Returns:
            The notes with their updated utility.

        Raises:
            NotFound: an id is unknown in this scope (nothing recorded).
        """
        ids = validate_note_ids(note_ids)
        if not isinstance(success, bool):
            raise InvalidInput("success must be a bool")
        scope = validate_scope(user_id, agent_id, run_id)
        return self._utility.feedback(ids, success, scope)

    def prune(
        self,
        *,
        min_uses: int | None = None,
        min_ratio: float | None = None,
        merge_duplicates: bool = True,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> list[Removal]:
        """Remove notes whose measured utility is too low, and merge near-duplicates.

        A note is removed when it was reported (``feedback``) at least
        ``min_uses`` times and its success ratio is below ``min_ratio`` (defaults
        5 and 0.5); pinned notes never are. Near-duplicate procedures / concepts
        of one scope are merged into the most useful one, which keeps the union
        of their sources and their summed statistics. Every removal is a history
        event.

        Args:
            min_uses: reports needed before a note is judged (default: the
                memory's ``prune_min_uses``).
            min_ratio: success ratio below which a judged note is removed
                (default: the memory's ``prune_min_ratio``).
            merge_duplicates: merge near-duplicate procedures / concepts.
            user_id: only notes of this user.
            agent_id: only notes of this agent.
            run_id: only notes of this run.

        Returns:
            What was removed, with the reason.
        """
        scope = validate_scope(user_id, agent_id, run_id)
        return self._utility.prune(
            scope, min_uses=min_uses, min_ratio=min_ratio, merge_duplicates=merge_duplicates
        )
