"""Trajectory -> procedure (success) or avoid note (failure), without an LLM.

    coerce_trajectory(value)          Trajectory or dict -> Trajectory (InvalidTrajectory)
    distill_trajectory(trajectory)    -> [procedure] | [avoid note] | []
    diagnose_failure(trajectory)      -> the causes an avoid note is built from

A successful trajectory gives one procedure: its generalised task as the *when
to use* key and its steps abstracted (searches collapsed, thoughts and no-op
actions dropped, object and destination as placeholders). A failed one gives an
avoid note only when its observations or outcome show what went wrong: an action
that did nothing, an action repeated without progress, a stage of the task never
reached, the wrong object taken or the wrong destination used. A failure with no
visible cause teaches nothing reliable and yields no note.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from memory.errors import InvalidTrajectory
from memory.model import Step, Trajectory
from memory.procedures.draft import AVOID_TAG, DistilledNote
from memory.procedures.generalise import OBJECT, RECEPTACLE, TaskIntent, parse_task, recall_key
from memory.procedures.lexicon import HOUSEHOLD, Lexicon
from memory.procedures.steps import Action, Segment, abstract_steps, normalise_steps, parse_action

__all__ = [
    "FailureCause",
    "FailureKind",
    "coerce_trajectory",
    "diagnose_failure",
    "distill_trajectory",
]

logger = logging.getLogger(__name__)

# The goal actions each family must complete, with how many times.
_STAGES: dict[str, dict[str, int]] = {
    "put": {"take": 1, "put": 1},
    "puttwo": {"take": 2, "put": 2},
    "clean": {"take": 1, "clean": 1, "put": 1},
    "heat": {"take": 1, "heat": 1, "put": 1},
    "cool": {"take": 1, "cool": 1, "put": 1},
    "examine": {"take": 1, "use": 1},
}
_REASON_KEYS = ("failure_reason", "reason", "error")


FailureKind = Literal[
    "reported", "no_effect", "loop", "missing_stage", "wrong_object", "wrong_destination"
]


class FailureCause(BaseModel):
    """One thing that went wrong, with the advice an avoid note gives for it."""

    kind: FailureKind
    detail: str
    advice: str


def coerce_trajectory(value: Trajectory | Mapping[str, Any]) -> Trajectory:
    """Accept a ``Trajectory`` or a dict of the same shape.

    Raises:
        InvalidTrajectory: the dict does not validate (no steps, no outcome, ...),
            or its text is not valid Unicode (a lone surrogate).
    """
    if isinstance(value, Trajectory):
        trajectory = value
    else:
        try:
            trajectory = Trajectory.model_validate(value)
        except ValidationError as exc:
            raise InvalidTrajectory(f"not a valid trajectory: {exc}") from exc
    texts = [trajectory.task]
    texts += [text for step in trajectory.steps for text in (step.action, step.observation)]
    texts += [step.thought for step in trajectory.steps if step.thought]
    for text in texts:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            # Chroma would refuse the distilled notes later, as a StoreError.
            raise InvalidTrajectory(f"trajectory text is not valid Unicode: {exc}") from exc
    return trajectory


def _resolve_slots(
    intent: TaskIntent, actions: list[Action], *, trust_steps: bool
) -> tuple[str | None, str | None]:
    """Object and destination classes of the task.

    For a success the steps are the ground truth (the parser only guessed from
    words); for a failure the task's words are, so a wrong object stays visible.
    """
    obj, receptacle = intent.object, intent.receptacle
    if not trust_steps:
        return obj, receptacle
    taken = [a.obj for a in actions if a.verb == "take" and a.obj]
    placed = [a.target for a in actions if a.verb == "put" and a.target]
    if taken and obj not in taken:
        obj = Counter(taken).most_common(1)[0][0]
    if placed and receptacle not in placed:
        receptacle = placed[-1]
    return obj, receptacle


def _stage(verb: str, tool: str | None) -> str:
    """A goal action in general words: "heat <object> with microwave", "use desklamp"."""
    if verb == "use":
        return f"use {tool or 'the tool'}"
    if verb == "put":
        return f"put {OBJECT} in/on {RECEPTACLE}"
    if verb in ("heat", "cool", "clean") and tool:
        return f"{verb} {OBJECT} with {tool}"
    return f"{verb} {OBJECT}"


def _render(action: Action, obj: str | None, receptacle: str | None) -> str:
    """An action with the task's object and destination as placeholders, numbers dropped."""

    def name(cls: str | None) -> str:
        if cls and cls == obj:
            return OBJECT
        if cls and cls == receptacle:
            return RECEPTACLE
        return cls or ""

    if action.verb == "take":
        return f"take {name(action.obj)} from {name(action.target)}"
    if action.verb == "put":
        return f"put {name(action.obj)} in/on {name(action.target)}"
    if action.target:
        return f"{action.verb} {name(action.obj)} with {name(action.target)}"
    if action.obj:
        return f"{action.verb} {name(action.obj)}"
    return action.raw


def _acted(steps: list[Step]) -> list[tuple[Action, Step]]:
    """The non-thought steps with their parsed actions."""
    return [
        (action, step) for step in steps if not (action := parse_action(step.action)).is_thought
    ]


def diagnose_failure(
    trajectory: Trajectory | Mapping[str, Any],
    *,
    min_repeats: int = 3,
    lexicon: Lexicon = HOUSEHOLD,
) -> list[FailureCause]:
    """What the observations and outcome of a failed attempt show went wrong.

    Args:
        trajectory: The failed attempt.
        min_repeats: How often one action must yield the same observation to count
            as "repeated without progress".
        lexicon: The domain vocabulary.

    Returns:
        The causes found, in a fixed order (the caller's reported reason, actions
        without effect, loops, missing stages, wrong object, wrong destination);
        empty when nothing is visible.
    """
    traj = coerce_trajectory(trajectory)
    intent = parse_task(traj.task, lexicon=lexicon)
    pairs = _acted(normalise_steps(traj.steps))
    obj, receptacle = _resolve_slots(intent, [a for a, _ in pairs], trust_steps=False)
    causes: list[FailureCause] = []

    for key in _REASON_KEYS:
        reason = traj.metadata.get(key)
        if isinstance(reason, str) and reason.strip():
            causes.append(
                FailureCause(
                    kind="reported",
                    detail=reason.strip(),
                    advice="address the reported reason first",
                )
            )
            break

    no_ops = Counter(
        _render(a, obj, receptacle) for a, s in pairs if lexicon.is_failure(s.observation)
    )
    for text, n in no_ops.items():
        times = f" ({n} times)" if n > 1 else ""
        causes.append(
            FailureCause(
                kind="no_effect",
                detail=f'"{text}" did nothing{times}',
                advice="check the action's wording and what it needs (object in hand, right tool)",
            )
        )

    repeats = Counter((a.raw.lower(), s.observation.strip()) for a, s in pairs)
    for (raw, _), n in repeats.items():
        if n >= min_repeats and not any(
            raw == a.raw.lower() and lexicon.is_failure(s.observation) for a, s in pairs
        ):
            causes.append(
                FailureCause(
                    kind="loop",
                    detail=f'repeated "{_render(parse_action(raw), obj, receptacle)}" {n} times '
                    "with the same result",
                    advice="stop repeating it: check a place not yet visited",
                )
            )

    done = Counter(a.verb for a, s in pairs if not lexicon.is_failure(s.observation))
    for verb, needed in _STAGES.get(intent.family, {}).items():
        if done[verb] < needed:
            stage = _stage(verb, intent.tool)
            count = f" ({done[verb]} of {needed} times)" if needed > 1 else ""
            causes.append(
                FailureCause(
                    kind="missing_stage",
                    detail=f"never got to: {stage}{count}",
                    advice=f"make sure to {stage}",
                )
            )

    if intent.object:
        taken = {
            a.obj for a, s in pairs if a.verb == "take" and not lexicon.is_failure(s.observation)
        }
        wrong = sorted(t for t in taken if t and t != intent.object)
        if wrong and intent.object not in taken:
            causes.append(
                FailureCause(
                    kind="wrong_object",
                    detail=f"took {', '.join(wrong)} instead of {intent.object}",
                    advice=f"take exactly the {OBJECT} the task names",
                )
            )
    if intent.receptacle:
        puts = {
            a.target for a, s in pairs if a.verb == "put" and not lexicon.is_failure(s.observation)
        }
        wrong = sorted(t for t in puts if t and t != intent.receptacle)
        if wrong and intent.receptacle not in puts:
            causes.append(
                FailureCause(
                    kind="wrong_destination",
                    detail=f"put it in/on {', '.join(wrong)} instead of {intent.receptacle}",
                    advice=f"go to the {RECEPTACLE} the task names before putting",
                )
            )
    return causes


def _procedure(
    traj: Trajectory,
    intent: TaskIntent,
    segments: list[Segment],
    obj: str | None,
    receptacle: str | None,
    lexicon: Lexicon,
) -> DistilledNote:
    verbs = list(dict.fromkeys(s.routine for s in segments if s.routine != "go to"))
    key = recall_key(traj.task, verbs=verbs, lexicon=lexicon)
    phrase = intent.phrase
    tools = list(dict.fromkeys(s.tool for s in segments if s.tool))
    steps = "\n".join(f"{i}. {s.text}" for i, s in enumerate(segments, 1))
    content = f"When to use: {phrase}\nSteps:\n{steps}\nLearned from: {intent.task}"
    family = intent.family
    # find/take occur in every procedure, so they would make every note share keywords.
    distinctive = [v for v in verbs if v not in ("find", "take")]
    keywords = list(dict.fromkeys(w for w in (*distinctive, *tools, obj, receptacle) if w))
    return DistilledNote(
        kind="procedure",
        name=phrase,
        content=content,
        when_to_use=key,
        context=f"How to {phrase}; distilled from trajectory {traj.id}.",
        keywords=keywords,
        tags=list(dict.fromkeys([family, *tools])),
        sources=[traj.id],
        metadata={
            "family": family,
            "task": intent.task,
            "object": obj,
            "receptacle": receptacle,
            "verbs": verbs,
            "tools": tools,
            "segments": [s.model_dump(exclude_defaults=True) for s in segments],
            "reward": traj.reward,
        },
    )


def _avoid(
    traj: Trajectory,
    intent: TaskIntent,
    segments: list[Segment],
    causes: list[FailureCause],
    lexicon: Lexicon,
) -> DistilledNote:
    key = recall_key(traj.task, lexicon=lexicon)
    wrong = "\n".join(f"- {c.detail}" for c in causes)
    advice = "\n".join(f"- {a}" for a in dict.fromkeys(c.advice for c in causes))
    attempt = "; ".join(s.text for s in segments) or "(no effective action)"
    content = (
        f"Avoid when: {intent.phrase}\nWhat went wrong:\n{wrong}\nInstead:\n{advice}\n"
        f"Failed attempt: {attempt}\nLearned from: {intent.task}"
    )
    return DistilledNote(
        kind="concept",
        name=f"avoid: {intent.phrase}",
        content=content,
        when_to_use=key,
        context=f"Pitfalls of '{intent.phrase}', from failed trajectory {traj.id}.",
        keywords=list(dict.fromkeys(w for w in (*intent.verbs, intent.object) if w)),
        tags=[AVOID_TAG, intent.family],
        sources=[traj.id],
        metadata={
            "family": intent.family,
            "task": intent.task,
            "causes": [c.model_dump() for c in causes],
            "segments": [s.model_dump(exclude_defaults=True) for s in segments],
            "reward": traj.reward,
        },
    )


def distill_trajectory(
    trajectory: Trajectory | Mapping[str, Any],
    *,
    lexicon: Lexicon = HOUSEHOLD,
) -> list[DistilledNote]:
    """Distil one trajectory into note drafts.

    Args:
        trajectory: A ``Trajectory`` or a dict of the same shape.
        lexicon: The domain vocabulary (household tasks by default).

    Returns:
        ``[procedure]`` for a success; ``[avoid note]`` for a failure whose cause
        is visible; ``[]`` for a failure that shows no cause.

    Raises:
        InvalidTrajectory: ``trajectory`` is a dict that does not validate.

    Example:
        >>> notes = distill_trajectory({"id": "t1", "task": "put a hot apple in fridge.",
        ...     "steps": [{"action": "take apple 1 from diningtable 1"},
        ...               {"action": "heat apple 1 with microwave 1"},
        ...               {"action": "put apple 1 in/on fridge 1"}], "success": True})
        >>> notes[0].when_to_use
        'heat some <object> and put it in/on <receptacle> (verbs: find, take, heat, put)'
    """
    traj = coerce_trajectory(trajectory)
    intent = parse_task(traj.task, lexicon=lexicon)
    steps = normalise_steps(traj.steps)
    actions = [parse_action(s.action) for s in steps]
    obj, receptacle = _resolve_slots(intent, actions, trust_steps=traj.succeeded)
    segments = abstract_steps(steps, obj=obj, receptacle=receptacle, lexicon=lexicon)
    if traj.succeeded:
        return [_procedure(traj, intent, segments, obj, receptacle, lexicon)]
    causes = diagnose_failure(traj, lexicon=lexicon)
    if not causes:
        logger.debug("failed trajectory %s shows no cause; no avoid note", traj.id)
        return []
    return [_avoid(traj, intent, segments, causes, lexicon)]
