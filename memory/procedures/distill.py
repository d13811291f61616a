"""Trajectory -> procedure (success) or avoid note (failure), without an LLM.

    coerce_trajectory(value)                Trajectory or dict -> Trajectory (InvalidTrajectory)
    distill_trajectory(t, known=...)        -> [procedure] | [avoid note] | []
    diagnose_failure(t, known=...)          -> the causes an avoid note is built from

A successful trajectory gives one procedure: the task generalised by alignment
with its actions (:func:`~memory.procedures.generalise.task_key`) as the *when to
use* key, and every action generalised the same way as its steps. A failed one
gives an avoid note when something is visible: the caller's reported reason, an
action repeated with the same result, and above all the step where it left the
path of the closest successful procedure already known (``known``). A failure
with no visible cause teaches nothing reliable and yields no note.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from memory.errors import InvalidTrajectory
from memory.model import Note, Trajectory
from memory.procedures.draft import AVOID_TAG, DistilledNote, distilled_metadata, render_procedure
from memory.procedures.generalise import TaskKey, task_key
from memory.procedures.merging import closest_procedure, step_set
from memory.procedures.steps import StepLine, fold, is_thought, step_lines, unfold
from memory.procedures.text import NO_HINTS, Hints, anonymous, instance_words, stem, words

__all__ = [
    "MAX_STEPS",
    "MAX_TEXT_CHARS",
    "FailureCause",
    "FailureKind",
    "coerce_trajectory",
    "diagnose_failure",
    "distill_trajectory",
    "procedure_metadata",
    "when_to_use",
]

logger = logging.getLogger(__name__)

MAX_STEPS = 2_000
"""Steps a trajectory may have (longer ones are logs, not attempts at one task)."""
MAX_TEXT_CHARS = 50_000
"""Characters one task, action, observation or thought may have."""
MAX_OBSERVED = 300
"""Most frequent observation words kept per procedure (what the environment says,
as opposed to what tasks say; recall reads it to find the task in an observation)."""
_REASON_KEYS = ("failure_reason", "reason", "error")

FailureKind = Literal["reported", "loop", "diverged", "stopped_early"]


class FailureCause(BaseModel):
    """One thing that went wrong, with the advice an avoid note gives for it."""

    kind: FailureKind
    detail: str
    advice: str


def _check_text(what: str, text: str) -> None:
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidTrajectory(
            f"{what} has {len(text)} characters, more than {MAX_TEXT_CHARS}; "
            "store the essential part (or a summary) instead"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Chroma would refuse the distilled notes later, as a StoreError.
        raise InvalidTrajectory(f"{what} is not valid Unicode: {exc}") from exc


def coerce_trajectory(value: Trajectory | Mapping[str, Any]) -> Trajectory:
    """Accept a ``Trajectory`` or a dict of the same shape, within size limits.

    Raises:
        InvalidTrajectory: the value does not validate (no steps, no outcome, an
            action that is not a string, ...), has more than ``MAX_STEPS`` steps or a
            text longer than ``MAX_TEXT_CHARS``, or is not valid Unicode.
    """
    if isinstance(value, Trajectory):
        trajectory = value
    elif isinstance(value, Mapping):
        try:
            trajectory = Trajectory.model_validate(dict(value))
        except ValidationError as exc:
            raise InvalidTrajectory(f"not a valid trajectory: {exc}") from exc
    else:
        raise InvalidTrajectory(
            f"a trajectory must be a Trajectory or a dict, not {type(value).__name__}"
        )
    if len(trajectory.steps) > MAX_STEPS:
        raise InvalidTrajectory(
            f"trajectory has {len(trajectory.steps)} steps, more than {MAX_STEPS}"
        )
    _check_text("the task", trajectory.task)
    for number, step in enumerate(trajectory.steps, 1):
        _check_text(f"step {number}'s action", step.action)
        _check_text(f"step {number}'s observation", step.observation)
        if step.thought:
            _check_text(f"step {number}'s thought", step.thought)
    return trajectory


def _actions(trajectory: Trajectory) -> list[str]:
    return [s.action for s in trajectory.steps if not is_thought(s)]


def _generalised(trajectory: Trajectory, hints: Hints) -> tuple[TaskKey, list[StepLine], int]:
    key = task_key(trajectory.task, _actions(trajectory), hints=hints)
    texts = [trajectory.task, *(s.observation for s in trajectory.steps)]
    lines, thoughts = step_lines(trajectory.steps, key.arguments, instance_words(texts))
    return key, lines, thoughts


def _metadata(
    trajectory: Trajectory, key: TaskKey, lines: list[StepLine], thoughts: int
) -> dict[str, Any]:
    steps = fold([line.template for line in lines])
    seen = Counter(
        stem(w)
        for step in trajectory.steps
        for w in words(step.observation)
        if len(w) > 1 and not w.isdigit()
    )
    observed = sorted(
        w for w, _ in sorted(seen.items(), key=lambda i: (-i[1], i[0]))[:MAX_OBSERVED]
    )
    return {
        "task": key.task,
        "phrase": key.phrase,
        "skill": key.skill,
        "arguments": dict(key.arguments),
        "steps": steps,
        "heads": list(dict.fromkeys(line.head for line in lines if line.head)),
        "actions": len(lines),
        "thoughts": thoughts,
        "observed": observed,
        "reward": trajectory.reward,
    }


def procedure_metadata(trajectory: Trajectory, hints: Hints = NO_HINTS) -> dict[str, Any]:
    """The distilled metadata of any trajectory (key, arguments, steps, heads...)."""
    key, lines, thoughts = _generalised(trajectory, hints)
    return _metadata(trajectory, key, lines, thoughts)


def when_to_use(phrase: str, heads: list[str]) -> str:
    """The indexed key: the generalised task, then the leading words of its steps."""
    return f"{phrase} (steps: {', '.join(heads)})" if heads else phrase


def _loops(lines: list[StepLine], min_repeats: int) -> list[FailureCause]:
    repeats = Counter((line.template, line.observation.strip()) for line in lines)
    return [
        FailureCause(
            kind="loop",
            detail=f'repeated "{template}" {n} times with the same result',
            advice="stop repeating it; try a step the successful procedure takes next",
        )
        for (template, _), n in repeats.items()
        if n >= min_repeats
    ]


def _divergence(lines: list[StepLine], path: list[str], procedure: str) -> FailureCause | None:
    """Where the failed steps left ``path`` (the closest success's steps), or stopped short."""
    plain = [anonymous(step) for step in path]
    on_path = set(plain)
    progress = 0  # index in path of the next step the success would take
    for number, line in enumerate(lines, 1):
        step = anonymous(line.template)
        if step in on_path:
            if step not in plain[progress:]:
                continue  # a step repeated from earlier on the path
            ahead = plain.index(step, progress)
            if ahead > progress and step not in plain[:progress]:
                return FailureCause(
                    kind="diverged",
                    detail=f'left the path of "{procedure}" at step {number}: '
                    f'"{line.template}" before "{path[progress]}"',
                    advice=f'do "{path[progress]}" first',
                )
            progress = ahead + 1
            continue
        expected = path[progress] if progress < len(path) else "(nothing: it was done)"
        return FailureCause(
            kind="diverged",
            detail=f'left the path of "{procedure}" at step {number}: "{line.template}" '
            f'where it does "{expected}"',
            advice=f'at that point, "{expected}"',
        )
    if progress < len(path):
        return FailureCause(
            kind="stopped_early",
            detail=f'stopped after step {len(lines)}; "{procedure}" goes on with '
            f'"{path[progress]}"',
            advice=f'continue with "{path[progress]}" and the steps after it',
        )
    return None


def diagnose_failure(
    trajectory: Trajectory | Mapping[str, Any],
    *,
    known: Iterable[DistilledNote | Note] = (),
    min_repeats: int = 3,
    hints: Hints = NO_HINTS,
) -> list[FailureCause]:
    """What a failed attempt shows went wrong.

    Args:
        trajectory: The failed attempt.
        known: Procedures already learned (drafts or stored notes); the closest
            one's steps are the path the failure is compared with.
        min_repeats: How often one step must give the same observation to count
            as a loop.
        hints: Optional user vocabulary.

    Returns:
        The causes found (reported reason, loops, divergence); empty when none shows.
    """
    traj = coerce_trajectory(trajectory)
    key, lines, thoughts = _generalised(traj, hints)
    causes: list[FailureCause] = []
    for name in _REASON_KEYS:
        reason = traj.metadata.get(name)
        if isinstance(reason, str) and reason.strip():
            causes.append(
                FailureCause(
                    kind="reported", detail=reason.strip(), advice="address the reported reason"
                )
            )
            break
    causes += _loops(lines, min_repeats)
    metadata = _metadata(traj, key, lines, thoughts)
    closest, _ = closest_procedure(metadata, known)
    if closest is not None:
        other = distilled_metadata(closest)
        path = [part for line in other.get("steps", []) for part in unfold(str(line))]
        shared = step_set(other) & {anonymous(line.template) for line in lines}
        if path and shared:  # with no step in common there is no path to leave
            found = _divergence(lines, path, str(other.get("phrase", closest.content[:60])))
            if found is not None:
                causes.append(found)
    return causes


def _procedure(traj: Trajectory, metadata: dict[str, Any]) -> DistilledNote:
    phrase = metadata["phrase"]
    return DistilledNote(
        kind="procedure",
        name=phrase,
        content=render_procedure(metadata),
        when_to_use=when_to_use(phrase, metadata["heads"]),
        context=f"How to {phrase}; distilled from trajectory {traj.id}.",
        keywords=list(dict.fromkeys([*metadata["skill"], *metadata["heads"]])),
        tags=["procedure"],
        sources=[traj.id],
        metadata=metadata,
    )


def _avoid(traj: Trajectory, metadata: dict[str, Any], causes: list[FailureCause]) -> DistilledNote:
    phrase = metadata["phrase"]
    wrong = "\n".join(f"- {c.detail}" for c in causes)
    advice = "\n".join(f"- {a}" for a in dict.fromkeys(c.advice for c in causes))
    attempt = "; ".join(metadata["steps"]) or "(no action)"
    content = (
        f"Avoid when: {phrase}\nWhat went wrong:\n{wrong}\nInstead:\n{advice}\n"
        f"Failed attempt: {attempt}\nLearned from: {metadata['task']}"
    )
    return DistilledNote(
        kind="concept",
        name=f"avoid: {phrase}",
        content=content,
        when_to_use=when_to_use(phrase, metadata["heads"]),
        context=f"Pitfalls of '{phrase}', from failed trajectory {traj.id}.",
        keywords=list(dict.fromkeys(metadata["skill"])),
        tags=[AVOID_TAG],
        sources=[traj.id],
        metadata={**metadata, "causes": [c.model_dump() for c in causes]},
    )


def distill_trajectory(
    trajectory: Trajectory | Mapping[str, Any],
    *,
    known: Iterable[DistilledNote | Note] = (),
    hints: Hints = NO_HINTS,
) -> list[DistilledNote]:
    """Distil one trajectory into note drafts.

    Args:
        trajectory: A ``Trajectory`` or a dict of the same shape.
        known: Procedures already learned in the scope; a failure is compared
            with the closest of them.
        hints: Optional user vocabulary (``Hints()``, the default, costs nothing).

    Returns:
        ``[procedure]`` for a success; ``[avoid note]`` for a failure whose cause
        is visible; ``[]`` for a failure that shows no cause.

    Raises:
        InvalidTrajectory: the trajectory does not validate or is too large.

    Example:
        >>> notes = distill_trajectory({"id": "t1", "task": "fix the build of parser",
        ...     "steps": [{"action": "make parser"}, {"action": "vim parser/Makefile"},
        ...               {"action": "make parser"}], "success": True})
        >>> notes[0].when_to_use
        'fix the build of <arg1> (steps: make, vim)'
    """
    traj = coerce_trajectory(trajectory)
    key, lines, thoughts = _generalised(traj, hints)
    metadata = _metadata(traj, key, lines, thoughts)
    if traj.succeeded:
        return [_procedure(traj, metadata)]
    causes = diagnose_failure(traj, known=known, hints=hints)
    if not causes:
        logger.debug("failed trajectory %s shows no cause; no avoid note", traj.id)
        return []
    return [_avoid(traj, metadata, causes)]
