"""Note structure in the lexical index: context by default, evolution re-indexes neighbours."""

from __future__ import annotations

import pytest

from memory import AgenticMemory, InvalidInput
from memory.embed import HashingEmbedder
from memory.model import Note
from memory.retrieve.indexed import lexical_text, validate_index_fields
from memory.text.tokens import lexical_tokens


def test_lexical_text_appends_chosen_fields() -> None:
    note = Note(content="I ran", keywords=["trail run"], tags=["knee-injury"], context="Ana, 8 May")
    assert lexical_text(note) == "I ran"
    assert lexical_text(note, ("context", "tags")) == "I ran\nAna, 8 May\nknee injury"
    procedure = Note(content="steps", kind="procedure", when_to_use="make coffee", context="x")
    assert lexical_text(procedure, ("context",)) == "make coffee"


@pytest.mark.parametrize("bad", ["context", ["content"], ("context", "vector")])
def test_unknown_index_fields_are_rejected(bad: object) -> None:
    with pytest.raises(InvalidInput):
        validate_index_fields(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        AgenticMemory(embedder=HashingEmbedder(), index_fields=bad)  # type: ignore[arg-type]


def test_a_resolved_date_is_searchable(mem: AgenticMemory) -> None:
    note = mem.add(
        "Caroline: I went to the support group yesterday",
        timestamp="1:56 pm on 8 May, 2023",
        user_id="u",
    )
    for filler in ("Melanie: the weather is lovely", "Caroline: my cat sleeps all day"):
        mem.add(filler, timestamp="2023-06-20 10:00", user_id="u")
    assert mem._search._index.search("7 may 2023", 1, scope=note.scope)[0][0] == note.id


def test_evolved_neighbours_are_re_indexed(embedder: HashingEmbedder) -> None:
    mem = AgenticMemory(embedder=embedder, link_threshold=0.3, sequence_links=False)
    first = mem.add("We talked about the pottery class and clay bowls.", user_id="u")
    mem.add("The pottery class made clay bowls again today.", user_id="u")
    evolved = mem.get(first.id)
    assert "theme" in evolved.context and evolved.context != first.context
    assert set(lexical_tokens(evolved.context)) <= set(mem._search._index._tokens[first.id])
    mem.close()
