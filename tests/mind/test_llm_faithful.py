"""Faithful fields: the model's keywords, tags and context must be about the new note.

Scripted replies (``tests/doubles/scripted_llm.py``) play what a small model does wrong:
copy a neighbour's sentence as the new note's context (the pottery note that got the
support-group context, issue 16), invent keywords, or leave a field empty. Each failing
field is replaced by the heuristic mind's, with no second call, and counted in
``mem.usage`` and in the note's ``create`` event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from doubles.scripted_llm import FRAMEWORKS, Script

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder
from memory.mind.base import Candidate, MindDecision, NoteDraft, Usage
from memory.mind.heuristic import HeuristicMind
from memory.mind.llm import LLMMind
from memory.mind.llm.faithful import FaithfulnessCheck, plausible_tags

USER = "faithful"
SUPPORT = "Caroline: I went to an LGBTQ support group yesterday and it was so powerful."
POTTERY = "Melanie: I signed up for a pottery class, my first bowl comes out of the kiln Friday!"
GOOD = {
    "keywords": ["pottery class", "bowl", "kiln"],
    "tags": ["hobby"],
    "context": "Melanie started a pottery class and awaits her first bowl",
    "links": [],
    "updates": [],
}


def reply(**fields: Any) -> str:
    return json.dumps({**GOOD, **fields})


@pytest.fixture(params=list(FRAMEWORKS))
def script_and_mem(request: pytest.FixtureRequest) -> Iterator[tuple[Script, AgenticMemory]]:
    """A memory whose model plays a script; the support-group note is already stored."""
    script = Script()
    memory = AgenticMemory(
        llm=FRAMEWORKS[request.param](script), embedder=HashingEmbedder(), sequence_links=False
    )
    script.push(
        json.dumps(
            {
                "keywords": ["LGBTQ support group"],
                "tags": ["community"],
                "context": "Caroline found the LGBTQ support group powerful",
                "links": [],
                "updates": [],
            }
        )
    )
    memory.add(SUPPORT, user_id=USER)
    yield script, memory
    memory.close()


def create_usage(mem: AgenticMemory, note: Note) -> dict[str, int]:
    [event] = [e for e in mem.history(note.id, user_id=USER) if e.action == "create"]
    assert event.actor == "llm"
    return event.usage


ACCEPTED_SEED = Usage(keywords_accepted=1, tags_accepted=1, context_accepted=1)


def test_a_faithful_reply_is_kept_whole(script_and_mem: tuple[Script, AgenticMemory]) -> None:
    script, mem = script_and_mem
    script.push(reply())
    note = mem.add(POTTERY, user_id=USER)
    assert note.keywords == GOOD["keywords"] and note.context == GOOD["context"]
    usage = mem.usage
    assert (usage.keywords_accepted, usage.tags_accepted, usage.context_accepted) == (2, 2, 2)
    assert usage.keywords_replaced == usage.tags_replaced == usage.context_replaced == 0


@pytest.mark.parametrize(
    "copied",
    [SUPPORT, "Caroline found the LGBTQ support group powerful"],
    ids=["neighbour-content", "neighbour-context"],
)
def test_a_context_copied_from_a_neighbour_is_replaced(
    script_and_mem: tuple[Script, AgenticMemory], copied: str
) -> None:
    script, mem = script_and_mem
    script.push(reply(context=copied))
    note = mem.add(POTTERY, user_id=USER)

    assert "support group" not in note.context
    assert note.context  # the heuristic mind's context line
    assert note.keywords == GOOD["keywords"]  # the other fields are the model's
    assert script.calls == 2  # seed + this note: no second call for the context
    assert create_usage(mem, note) == {
        "calls": 1,
        "prompt_tokens": 250,
        "completion_tokens": 40,
        "keywords_accepted": 1,
        "tags_accepted": 1,
        "context_replaced": 1,
    }
    assert mem.usage.context_replaced == 1 and mem.usage.context_accepted == 1


def test_invented_keywords_are_dropped_and_none_left_is_replaced(
    script_and_mem: tuple[Script, AgenticMemory],
) -> None:
    script, mem = script_and_mem
    script.push(reply(keywords=["pottery classes", "ceramics", "Friday", "LGBTQ"]))
    partly = mem.add(POTTERY, user_id=USER)
    assert partly.keywords == ["pottery classes", "Friday"]  # inflection kept, inventions not
    assert create_usage(mem, partly)["keywords_accepted"] == 1

    script.push(reply(keywords=["support group", "LGBTQ", "ceramics"]))
    invented = mem.add(POTTERY + " So exciting.", user_id=USER)
    usage = create_usage(mem, invented)
    assert usage["keywords_replaced"] == 1 and "keywords_accepted" not in usage
    assert invented.keywords and not {"support group", "LGBTQ"} & set(invented.keywords)
    assert mem.usage.keywords_replaced == 1


@pytest.mark.parametrize("field", ["keywords", "tags", "context"])
def test_an_empty_field_is_filled_by_the_heuristic_mind(
    script_and_mem: tuple[Script, AgenticMemory], field: str
) -> None:
    script, mem = script_and_mem
    script.push(reply(**{field: [] if field != "context" else ""}))
    note = mem.add(POTTERY, user_id=USER)
    assert getattr(note, field)
    usage = create_usage(mem, note)
    assert usage[f"{field}_replaced"] == 1
    assert sum(value for key, value in usage.items() if key.endswith("_accepted")) == 2


def test_the_tag_check_is_pluggable() -> None:
    embedder = HashingEmbedder()
    vocabulary = {"hobby", "art"}

    def scope_vocabulary(tags: list[str], draft: NoteDraft) -> list[str]:
        return [t for t in tags if t in vocabulary]

    script = Script(reply(tags=["food", "hobbies"]), reply(tags=["hobby", "food"]))
    mind = LLMMind(
        llm=FRAMEWORKS["langchain"](script),
        fallback=HeuristicMind(embedder),
        embedder=embedder,
        tag_check=scope_vocabulary,
    )
    with AgenticMemory(mind=mind, embedder=embedder) as mem:
        replaced = mem.add(POTTERY, user_id=USER)
        kept = mem.add(POTTERY + " Yay.", user_id=USER)
    assert "food" not in replaced.tags and replaced.tags  # the heuristic mind's tags
    assert kept.tags == ["hobby"]
    assert (mind.usage.tags_replaced, mind.usage.tags_accepted) == (1, 1)


# --- the check on its own ----------------------------------------------------------------

DRAFT = NoteDraft(
    content=POTTERY,
    timestamp=datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc),
    metadata={"speaker": "Melanie", "session": 3},
)
NEIGHBOUR = Candidate(
    note=Note(id="n-support", content=SUPPORT, context="Caroline, 7 May 2023: support group"),
    similarity=0.4,
)


@pytest.mark.parametrize(
    ("keyword", "grounded"),
    [
        ("pottery class", True),
        ("Pottery Classes", True),  # case and inflection
        ("potter", True),
        ("Melanie", True),  # the speaker
        ("May 2023", True),  # the note's date
        ("first bowl", True),
        ("ceramics", False),  # plausible, but not in the note
        ("support group", False),  # the neighbour's
        ("pottery workshop", False),  # one invented word is enough
        ("", False),
    ],
)
def test_keyword_grounding(keyword: str, grounded: bool) -> None:
    kept = FaithfulnessCheck().grounded_keywords([keyword], DRAFT)
    assert (kept == [keyword]) is grounded


@pytest.mark.parametrize("embedder", [None, HashingEmbedder()], ids=["words", "embedding"])
def test_context_about_the_note_or_its_neighbour(embedder: Any) -> None:
    check = FaithfulnessCheck(embedder)
    own = "Melanie signed up for a pottery class; her first bowl is in the kiln"
    assert check.context_problem(own, DRAFT, [NEIGHBOUR]) is None
    problem = check.context_problem(SUPPORT, DRAFT, [NEIGHBOUR])
    assert problem is not None and "n1" in problem
    assert check.context_problem("   ", DRAFT, [NEIGHBOUR]) == "empty"
    verbatim = check.context_problem(NEIGHBOUR.note.context.upper(), DRAFT, [NEIGHBOUR])
    assert verbatim == "copied from neighbour n1's context"
    assert check.context_problem(SUPPORT, DRAFT, []) is None  # nothing to copy from


def test_default_tags_are_short_labels() -> None:
    tags = ["hobby", "arts and crafts", "melanie tells caroline about her class", "x" * 41]
    assert plausible_tags(tags, DRAFT) == ["hobby", "arts and crafts"]


def test_review_reports_every_field() -> None:
    decision = MindDecision(keywords=["ceramics"], tags=["hobby"], context=SUPPORT)
    review = FaithfulnessCheck().review(decision, DRAFT, [NEIGHBOUR])
    assert set(review.rejected) == {"keywords", "context"}
    assert review.usage == Usage(keywords_replaced=1, tags_accepted=1, context_replaced=1)
    assert review.decision.tags == ["hobby"] and review.decision.context == ""


def test_a_broken_tag_hook_keeps_the_models_tags() -> None:
    def broken(tags: list[str], draft: NoteDraft) -> list[str]:
        raise RuntimeError("vocabulary service down")

    decision = MindDecision(keywords=["bowl"], tags=["hobby"], context="Melanie's pottery bowl")
    review = FaithfulnessCheck(tag_check=broken).review(decision, DRAFT, [NEIGHBOUR])
    assert review.rejected == {} and review.decision.tags == ["hobby"]
