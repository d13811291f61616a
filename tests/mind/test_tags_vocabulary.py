"""Open-vocabulary tags per scope, and a user's taxonomy for zero-shot tags."""

from __future__ import annotations

import numpy as np
import pytest

from memory import AgenticMemory, InvalidInput
from memory.embed import HashingEmbedder
from memory.mind.heuristic import HeuristicMind
from memory.mind.tagging import Tagger, Taxonomy, slug


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_close_note_reuses_the_tag_a_far_one_coins_its_own() -> None:
    tagger = Tagger(threshold=0.8)
    first = tagger.choose("s", _unit(1, 0, 0), ["checkout bug"])
    assert first.tags == ["checkout-bug"] and first.coined
    near = tagger.choose("s", _unit(1, 0.1, 0), ["gift card"])
    assert near.tags == ["checkout-bug"] and not near.coined
    far = tagger.choose("s", _unit(0, 0, 1), ["peanut allergy"])
    assert far.tags == ["peanut-allergy"]
    assert tagger.vocabulary("s").size("checkout-bug") == 2


def test_no_keywords_and_nothing_close_means_no_tag() -> None:
    tagger = Tagger(threshold=0.8)
    assert tagger.choose("s", _unit(1, 0), []).tags == []
    assert Tagger(threshold=0.8, coin=False).choose("s", _unit(1, 0), ["x"]).tags == []


def test_vocabularies_never_cross_scopes() -> None:
    tagger = Tagger(threshold=0.8)
    tagger.choose("a", _unit(1, 0), ["checkout bug"])
    other = tagger.choose("b", _unit(1, 0), ["cart"])
    assert other.tags == ["cart"] and "checkout-bug" not in tagger.vocabulary("b")


def test_a_neighbours_tag_unknown_to_the_vocabulary_is_reused() -> None:
    # After a restart the vocabulary is empty, but stored neighbours keep their tags.
    tagger = Tagger(threshold=0.8)
    choice = tagger.choose("s", _unit(1, 0), ["cart"], [(0.9, ["checkout-bug"])])
    assert choice.tags == ["checkout-bug"]


def test_a_coined_name_never_clashes() -> None:
    tagger = Tagger(threshold=0.99)
    tagger.choose("s", _unit(1, 0), ["deploy"])
    assert tagger.choose("s", _unit(0, 1), ["deploy"]).tags == ["deploy-2"]
    assert slug("  Gift Card!! ") == "gift-card"


@pytest.mark.parametrize(
    "entries",
    [[], [""], ["  "], ["work", "work"], [("a", "x"), ("a", "y")], [("a",)], [3]],
)
def test_bad_taxonomies_are_rejected(entries: list) -> None:
    with pytest.raises(InvalidInput):
        Taxonomy(entries)


def test_a_taxonomy_tags_zero_shot_and_abstains_when_unsure(embedder: HashingEmbedder) -> None:
    taxonomy = Taxonomy({"billing": "invoice payment card refund", "garden": "tomato plants soil"})
    mind = HeuristicMind(embedder, taxonomy=taxonomy, tag_threshold=0.2)
    mem = AgenticMemory(embedder=embedder, mind=mind)
    paid = mem.add("The invoice payment failed and the card refund is late", user_id="u")
    assert paid.tags == ["billing"]
    assert mem.add("Quantum chromodynamics lecture notes", user_id="u").tags == []
    mem.close()


def test_open_tags_group_a_topic_in_the_memory(embedder: HashingEmbedder) -> None:
    mem = AgenticMemory(embedder=embedder, sequence_links=False)
    texts = [
        "The checkout bug: payment fails with a gift card in the cart",
        "Checkout bug again: gift card payment fails in the cart",
        "Tomato seedlings need more sun on the balcony",
    ]
    notes = [mem.add(text, user_id="u") for text in texts]
    assert notes[0].tags == notes[1].tags and notes[0].tags
    assert notes[2].tags != notes[0].tags
    mem.close()
