"""Facts that supersede: a new note that updates an older one of the same scope.

"The stand-up moved to 10:15" replaces "The stand-up is at 9:30". The older note
is not deleted -- it stays retrievable, with ``superseded_by`` naming its
successor and a ``supersede`` event saying why -- but search ranks the current
fact first (:func:`current_first`).

Offline, :func:`supersessions` proposes it by an explicit rule, all parts general
rather than tuned to one data set's phrasing:

1. **Same subject** -- the older note is very similar (cosine at or above
   ``similarity``) and shares a keyword stem or a name with the new one, is
   older, said by the same speaker (when both have one), and not itself
   already superseded.
2. **A change cue** -- the new note says it changed (a verb or adverb of
   change: "moved", "switched", "no longer", "instead", "now" ...; grammar of
   change, not topic words). A restatement with another *value* alone (9:30 ->
   10:15, Priya -> Marco) is not enough: recurring events differ in values too
   ("I ran 5 km" then "I ran 10 km"; "message number 1" then "message number
   2"), so :func:`value_change` only names the swap in the reason.
3. Not a question: "Is the stand-up still at 9:30?" updates nothing.

An LLM mind may propose supersessions too; :mod:`memory.mind.apply` validates
any proposal against the candidates really shown, like evolution.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping, Sequence

from memory.mind.base import Candidate, NoteDraft, Supersession
from memory.mind.linking import entities, keyword_stems
from memory.text.dialogue import speaker_of, split_speaker
from memory.text.tokens import STOP_WORDS, lexical_tokens

__all__ = ["change_cue", "current_first", "supersessions", "value_change"]

# Verbs and adverbs that announce a change of state, in any domain.
_CHANGE = re.compile(
    r"\b(now|no longer|not any ?more|anymore|instead|switched|switch(?:ed)? to|changed?|"
    r"moved?|replaced?|rescheduled?|postponed?|delayed|brought forward|cancell?ed|"
    r"updated?|upgraded?|downgraded?|raised|lowered|increased|decreased|took over|"
    r"from now on|starting|as of|new)\b",
    re.I,
)
_NUMBER = re.compile(r"\b\d[\d:.,]*\w*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z]+\b")
_RESTATED = 0.4


def change_cue(text: str) -> str | None:
    """The word of ``text`` that announces a change, if any."""
    match = _CHANGE.search(text)
    return match.group(0).lower() if match else None


def _values(text: str) -> set[str]:
    """Numbers and times, and names: capitalised words other than grammar words.

    A capitalised word opening a sentence may be a verb ("Booked"); the
    restatement test of :func:`value_change` keeps such a word from counting
    unless the rest of the two notes agree.
    """
    body = split_speaker(text)[1]
    numbers = {number.rstrip(".,") for number in _NUMBER.findall(body)}
    names = {word.lower() for word in _NAME.findall(body) if word.lower() not in STOP_WORDS}
    return numbers | names


def value_change(old: str, new: str) -> tuple[set[str], set[str]] | None:
    """``(old values, new values)`` when ``new`` restates ``old`` with other values.

    A restatement shares most of its words (Jaccard of stems at least
    ``_RESTATED``) and swaps at least one value for another.
    """
    old_values, new_values = _values(old), _values(new)
    gone, came = old_values - new_values, new_values - old_values
    if not gone or not came:
        return None
    left, right = set(lexical_tokens(old)) - gone, set(lexical_tokens(new)) - came
    if not left or len(left & right) / len(left | right) < _RESTATED:
        return None
    return gone, came


def supersessions(
    draft: NoteDraft,
    keywords: Sequence[str],
    candidates: Sequence[Candidate],
    *,
    similarity: float = 0.6,
) -> list[Supersession]:
    """The older notes ``draft`` supersedes, by the rule in this module's docstring."""
    body = split_speaker(draft.content)[1]
    if draft.kind != "episodic" or "?" in body:
        return []
    cue = change_cue(body)
    speaker = speaker_of(draft.content, draft.metadata)
    stems = keyword_stems(keywords)
    names = entities(draft.content)
    found: list[tuple[float, Supersession]] = []
    for candidate in candidates:
        old = candidate.note
        if (
            candidate.similarity < similarity
            or old.kind != "episodic"
            or old.superseded_by is not None
            or old.timestamp > draft.timestamp
        ):
            continue
        shared = sorted(stems & keyword_stems(old.keywords)) or sorted(
            names & entities(old.content)
        )
        if not shared:
            continue
        if cue is None:
            continue
        changed = value_change(old.content, draft.content)
        other = speaker_of(old.content, old.metadata)
        if speaker and other and speaker != other:
            continue
        why = f"change cue {cue!r}"
        if changed is not None:
            why += f", {sorted(changed[0])} -> {sorted(changed[1])}"
        found.append(
            (
                candidate.similarity,
                Supersession(
                    target_id=old.id,
                    reason=(
                        f"updates it: same subject ({', '.join(shared[:3])}), "
                        f"similarity {candidate.similarity:.2f}, {why}"
                    ),
                ),
            )
        )
    found.sort(key=lambda item: -item[0])
    # An update replaces one fact: the closest qualifying note.
    return [proposal for _, proposal in found[:1]]


def current_first(
    ranked: Sequence[tuple[str, float]],
    superseded_by: Callable[[Sequence[str]], Mapping[str, str | None]],
    *,
    include_superseded: bool = True,
    max_hops: int = 4,
    relevant: Container[str] | None = None,
) -> list[tuple[str, float]]:
    """``ranked`` with every superseded note's current version placed right above it.

    Args:
        ranked: ``(note id, score)``, best first.
        superseded_by: looks up ids -> successor id (``None`` when current); ids
            it does not return (deleted, not visible) count as current.
        include_superseded: keep superseded notes (below their successor) or drop them.
        max_hops: longest chain of updates followed.
        relevant: when given, a successor is pulled up above a superseded note
            that stays only if it is one of these ids (a candidate of the query):
            an update the query is not about would push a relevant note out.

    Returns:
        The reordered ``(id, score)`` list; a successor pulled up takes the score
        of the note it replaces, so scores stay in descending order.
    """
    successor: dict[str, str | None] = dict(superseded_by([nid for nid, _ in ranked]))
    for _ in range(max_hops):
        unknown = [s for s in successor.values() if s is not None and s not in successor]
        if not unknown:
            break
        successor.update(superseded_by(unknown))

    def current(note_id: str) -> str:
        seen = {note_id}
        while (following := successor.get(note_id)) is not None and following not in seen:
            if following not in successor:
                break  # not visible: the last visible version is current
            seen.add(following)
            note_id = following
        return note_id

    placed: set[str] = set()
    result: list[tuple[str, float]] = []
    for note_id, score in ranked:
        latest = current(note_id)
        if include_superseded and relevant is not None and latest not in relevant:
            latest = note_id
        if latest != note_id and latest not in placed:
            result.append((latest, score))
            placed.add(latest)
        if note_id in placed or (latest != note_id and not include_superseded):
            continue
        result.append((note_id, score))
        placed.add(note_id)
    return result
