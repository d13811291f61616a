"""Speaker prefixes need evidence: "Bug:" and "Reminder:" are labels, not people."""

from __future__ import annotations

from memory import AgenticMemory
from memory.text.dialogue import SpeakerEvidence, speaker_of, speaks


def test_labels_are_not_speakers() -> None:
    assert speaker_of("Bug: checkout fails for EU cards", {}) is None
    assert speaker_of("Reminder: renew the TLS certificate before Friday", {}) is None
    assert speaker_of("Melanie: I signed up for a pottery class", {}) == "Melanie"


def test_metadata_speaker_wins() -> None:
    assert speaker_of("Bug: checkout fails", {"speaker": "Ana"}) == "Ana"


def test_a_recurring_prefix_is_a_speaker_unless_used_in_lower_case() -> None:
    evidence = SpeakerEvidence()
    for text in ("Caroline: Sounds fun!", "Caroline: Great."):
        evidence.observe(text)
    assert speaker_of("Caroline: See you then.", {}, evidence) == "Caroline"
    evidence.observe("Note: the bug in checkout is back")
    # Speech alone would make "Bug" a speaker; lower-case use in the scope vetoes it.
    assert speaks("I cannot log in")
    assert speaker_of("Bug: I cannot log in", {}, evidence) is None


def test_the_heuristic_mind_keeps_labels_in_keywords(mem: AgenticMemory) -> None:
    note = mem.add("Bug: checkout crashes when the cart holds a gift card", user_id="dev")
    assert not note.context.startswith("Bug,")
    said = mem.add("Melanie: I finally painted the lake at sunrise", user_id="dev")
    assert said.context.startswith("Melanie,")


def test_speaker_evidence_stays_in_its_scope(mem: AgenticMemory) -> None:
    mem.add("Note: the bug in checkout is back", user_id="a")
    other = mem.add("Bug: I cannot log in", user_id="b")
    assert other.context.startswith("Bug,")
    same = mem.add("Bug: I cannot log in", user_id="a")
    assert not same.context.startswith("Bug,")
