"""Agents that learn from their own runs: recall before, remember and learn after.

    AgentLearning   the framework-free lifecycle both adapters drive, sync and async:
                    recall(task, scope)      one delimited section, in a token budget
                    finish(run)              exchange -> notes; run -> Trajectory -> learn();
                                             the outcome -> feedback on the shown procedures
                    feedback(run_id, ok)     the outcome of a run the judge left open

A run's outcome comes from the ``judge`` (called with the :class:`AgentRun`) or,
when there is no judge or it returns ``None``, later from :meth:`AgentLearning.feedback`;
until then the run waits in a bounded in-process queue. Memory never breaks an
agent: every memory call is guarded, a failure is logged and the run goes on
without memory. The run as data (``AgentRun``, ``ToolCall``, the trajectory it
becomes) is in :mod:`integrations.agent_runs`; ``AgentRun``, ``ToolCall`` and
``Judge`` are re-exported here for judges.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any, Literal

from integrations.agent_recall import Recall, TokenCounter, default_token_counter, render_recall
from integrations.agent_runs import SOURCE, AgentRun, Judge, ToolCall, trajectory_of
from integrations.aio import call_async
from integrations.chat_notes import chat_item
from memory.model import Scope, SearchResult, Trajectory

__all__ = ["AgentLearning", "AgentRun", "Judge", "ToolCall"]

logger = logging.getLogger(__name__)


class AgentLearning:
    """Recall for an agent's runs and learning from them, over one ``AgenticMemory``.

    Args:
        memory: the ``AgenticMemory`` (only its public methods are used).
        notes_k: how many notes to search for a request (0: none).
        procedures_k: how many procedures to recall for a request (0: none).
        token_budget: the most tokens the recalled section may add to a prompt.
        token_counter: counts tokens for the budget (default: cl100k_base, else ~4 chars).
        remember_exchange: store the request and the final answer as notes.
        learn: turn runs with tool calls into trajectories and ``learn()`` them.
        judge: decides a finished run's success; ``None`` (or a judge returning
            ``None``) waits for :meth:`feedback`.
        max_action_chars: a step's action (tool name and arguments) is clipped to this.
        max_observation_chars: a tool's result is clipped to this in the step.
        max_pending: runs kept waiting for feedback; the oldest is dropped beyond it.
        credit: which shown procedures get the run's outcome: ``"top"`` (default), the
            best-ranked one, the one the agent most likely followed; ``"all"`` of them.
            Crediting every shown procedure blames (and praises) the runner-up for runs
            that followed another: in benchmarks/agent_middleware.py a procedure of a
            working kind was pruned for failures of a kind it was shown next to.
        background: do the after-run work (notes, judge, learning, feedback) in one
            worker thread, so the agent answers without waiting for the writes;
            :meth:`flush` waits for it. The judge must then be synchronous.
    """

    def __init__(
        self,
        memory: Any,
        *,
        notes_k: int = 3,
        procedures_k: int = 2,
        token_budget: int = 500,
        token_counter: TokenCounter | None = None,
        remember_exchange: bool = True,
        learn: bool = True,
        judge: Judge | None = None,
        max_action_chars: int = 300,
        max_observation_chars: int = 500,
        max_pending: int = 1_000,
        credit: Literal["top", "all"] = "top",
        background: bool = False,
    ) -> None:
        if notes_k < 0 or procedures_k < 0 or max_pending < 0:
            raise ValueError("notes_k, procedures_k and max_pending must be >= 0")
        if credit not in ("top", "all"):
            raise ValueError('credit must be "top" or "all"')
        self.credit = credit
        self.memory = memory
        self.notes_k = notes_k
        self.procedures_k = procedures_k
        self.token_budget = token_budget
        self.count_tokens = token_counter or default_token_counter()
        self.remember_exchange = remember_exchange
        self.learn = learn
        self.judge = judge
        self.max_action_chars = max_action_chars
        self.max_observation_chars = max_observation_chars
        self.max_pending = max_pending
        self._pending: OrderedDict[str, AgentRun] = OrderedDict()
        self._pending_lock = threading.Lock()
        self.background = background
        self._writer: ThreadPoolExecutor | None = None
        self._queued: list[Future[Any]] = []

    # ---- recall ------------------------------------------------------------------------------

    def recall(self, task: str, scope: Scope) -> Recall:
        """The section to show for ``task`` (empty on any memory failure, logged)."""
        if not task.strip():
            return Recall()
        ids = scope.model_dump()
        procedures: list[SearchResult] = []
        memories: list[SearchResult] = []
        try:
            if self.procedures_k:
                procedures = self.memory.recall(task, k=self.procedures_k, **ids)
            if self.notes_k:
                memories = self.memory.search(task, k=self.notes_k, kinds=["episodic"], **ids)
        except Exception:
            logger.exception("memory recall failed; the agent goes on without memory")
            return Recall()
        return self._render(procedures, memories)

    async def arecall(self, task: str, scope: Scope) -> Recall:
        """Async :meth:`recall`."""
        if not task.strip():
            return Recall()
        ids = scope.model_dump()
        procedures: list[SearchResult] = []
        memories: list[SearchResult] = []
        try:
            if self.procedures_k:
                procedures = await call_async(
                    self.memory, "recall", task, k=self.procedures_k, **ids
                )
            if self.notes_k:
                memories = await call_async(
                    self.memory, "search", task, k=self.notes_k, kinds=["episodic"], **ids
                )
        except Exception:
            logger.exception("memory recall failed; the agent goes on without memory")
            return Recall()
        return self._render(procedures, memories)

    def _render(self, procedures: list[SearchResult], memories: list[SearchResult]) -> Recall:
        try:
            return render_recall(
                procedures, memories, budget=self.token_budget, count_tokens=self.count_tokens
            )
        except Exception:
            logger.exception("rendering the recalled notes failed; nothing is shown")
            return Recall()

    # ---- after the run -----------------------------------------------------------------------

    def finish(self, run: AgentRun) -> bool | None:
        """Remember the exchange, then judge, learn and credit the run.

        Returns:
            The outcome the judge gave (``None``: the run waits for :meth:`feedback`,
            or, with ``background=True``, is being concluded in the worker).
        """
        if self.background:
            self._enqueue(run)
            return None
        return self._finish_now(run)

    def _finish_now(self, run: AgentRun) -> bool | None:
        self._remember(run)
        verdict = self._judge(run)
        if inspect.isawaitable(verdict):
            close = getattr(verdict, "close", None)
            if close is not None:
                close()  # never awaited: say so instead of leaking a coroutine warning
            logger.error("an async judge needs the async agent path; run %s left open", run.run_id)
            verdict = None
        if verdict is None:
            self._park(run)
        else:
            self._conclude(run, bool(verdict))
        return verdict

    async def afinish(self, run: AgentRun) -> bool | None:
        """Async :meth:`finish` (the judge may be sync or async, unless in background)."""
        if self.background:
            self._enqueue(run)
            return None
        await self._aremember(run)
        verdict = self._judge(run)
        if inspect.isawaitable(verdict):
            try:
                verdict = await verdict
            except Exception:
                logger.exception("the judge failed on run %s; it waits for feedback", run.run_id)
                verdict = None
        if verdict is None:
            self._park(run)
        else:
            await self._aconclude(run, bool(verdict))
        return verdict

    def _enqueue(self, run: AgentRun) -> None:
        with self._pending_lock:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="zettelmem-agent")
            self._queued = [f for f in self._queued if not f.done()]
            self._queued.append(self._writer.submit(self._finish_now, run))

    def flush(self, timeout: float | None = None) -> None:
        """Wait until the runs handed to the background worker are concluded."""
        with self._pending_lock:
            queued = list(self._queued)
        wait(queued, timeout=timeout)

    def close(self) -> None:
        """Finish the background work and stop the worker (the memory stays open)."""
        self.flush()
        with self._pending_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    def feedback(self, run_id: str, success: bool) -> bool:
        """The outcome of a run the judge left open: learn it and credit its procedures.

        Returns:
            True if the run was waiting and is now concluded; False if unknown (never
            finished here, already concluded, or dropped from the queue).
        """
        run = self._take(run_id)
        if run is None:
            return False
        self._conclude(run, success)
        return True

    async def afeedback(self, run_id: str, success: bool) -> bool:
        """Async :meth:`feedback`."""
        run = self._take(run_id)
        if run is None:
            return False
        await self._aconclude(run, success)
        return True

    @property
    def pending_runs(self) -> list[str]:
        """The ids of the runs waiting for feedback, oldest first."""
        with self._pending_lock:
            return list(self._pending)

    # ---- shared ------------------------------------------------------------------------------

    def _judge(self, run: AgentRun) -> bool | None | Awaitable[bool | None]:
        if self.judge is None:
            return None
        try:
            return self.judge(run)
        except Exception:
            logger.exception("the judge failed on run %s; it waits for feedback", run.run_id)
            return None

    def _park(self, run: AgentRun) -> None:
        if not self.max_pending or (not self.learn and not run.recall.procedure_ids):
            return
        with self._pending_lock:
            self._pending[run.run_id] = run
            while len(self._pending) > self.max_pending:
                dropped, _ = self._pending.popitem(last=False)
                logger.warning(
                    "run %s dropped: no feedback before %d newer runs", dropped, self.max_pending
                )

    def _take(self, run_id: str) -> AgentRun | None:
        with self._pending_lock:
            run = self._pending.pop(run_id, None)
        if run is None:
            logger.warning("feedback for run %s, which is not waiting for any", run_id)
        return run

    def _exchange(self, run: AgentRun) -> list[dict[str, Any]]:
        if not self.remember_exchange:
            return []
        extra = {"source": SOURCE, "agent_run": run.run_id}
        items = [
            chat_item(role, text, scope=run.scope, session=run.run_id, extra=extra)
            for role, text in (("user", run.task), ("assistant", run.answer))
        ]
        return [item for item in items if item is not None]

    def _trajectory(self, run: AgentRun, success: bool) -> Trajectory | None:
        if not self.learn:
            return None
        return trajectory_of(
            run,
            success,
            max_action_chars=self.max_action_chars,
            max_observation_chars=self.max_observation_chars,
        )

    def _remember(self, run: AgentRun) -> None:
        items = self._exchange(run)
        if not items:
            return
        try:
            self.memory.add_many(items)
        except Exception:
            logger.exception("storing run %s's exchange failed; it is not remembered", run.run_id)

    async def _aremember(self, run: AgentRun) -> None:
        items = self._exchange(run)
        if not items:
            return
        try:
            await call_async(self.memory, "add_many", items)
        except Exception:
            logger.exception("storing run %s's exchange failed; it is not remembered", run.run_id)

    def _credited(self, run: AgentRun) -> list[str]:
        shown = list(run.recall.procedure_ids)
        return shown[:1] if self.credit == "top" else shown

    def _conclude(self, run: AgentRun, success: bool) -> None:
        ids = run.scope.model_dump()
        trajectory = self._trajectory(run, success)
        credited = self._credited(run)
        if credited:
            try:
                self.memory.feedback(credited, success, **ids)
            except Exception:
                logger.exception("feedback on run %s's procedures failed", run.run_id)
        if trajectory is not None:
            try:
                self.memory.learn(trajectory, **ids)
            except Exception:
                logger.exception("learning from run %s failed; it is not learned", run.run_id)

    async def _aconclude(self, run: AgentRun, success: bool) -> None:
        ids = run.scope.model_dump()
        trajectory = self._trajectory(run, success)
        credited = self._credited(run)
        if credited:
            try:
                await call_async(self.memory, "feedback", credited, success, **ids)
            except Exception:
                logger.exception("feedback on run %s's procedures failed", run.run_id)
        if trajectory is not None:
            try:
                await call_async(self.memory, "learn", trajectory, **ids)
            except Exception:
                logger.exception("learning from run %s failed; it is not learned", run.run_id)
