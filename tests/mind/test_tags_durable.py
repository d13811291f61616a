"""A scope's tag vocabulary survives a restart: rebuilt from the stored notes on first use."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from memory import AgenticMemory, Note
from memory.embed import HashingEmbedder
from memory.mind.tagging import Tagger, TagVocabulary
from memory.model import Scope

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SHARED = "orchid greenhouse watering"
MEMBERS = [
    f"{SHARED} {words}" for words in ("basil tomato pepper", "mint fern cactus", "lily tulip daisy")
]
# Below the tag threshold (0.45) to each member, above it to their centroid (HashingEmbedder:
# 0.39 / 0.34 / 0.43 against 0.46): only a vocabulary that remembers the tag reuses it. Its
# own first keyword ("misty garden") would name a coined tag otherwise.
PROBE = "Misty garden path early Sunday morning, quietly before breakfast: " + SHARED


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_seeded_vocabulary_is_rebuilt_once_per_scope() -> None:
    asked: list[Hashable] = []

    def seed(scope: Hashable) -> list[tuple[str, np.ndarray]]:
        asked.append(scope)
        return [("checkout-bug", _unit(1, 0.2, 0)), ("checkout-bug", _unit(1, -0.2, 0))]

    tagger = Tagger(threshold=0.9, seed=seed)
    choice = tagger.choose("s", _unit(1, 0, 0.1), ["cart"])
    assert choice.tags == ["checkout-bug"] and not choice.coined
    assert tagger.vocabulary("s").size("checkout-bug") == 3
    # a far note with the same keyword does not coin the stored name again
    assert tagger.choose("s", _unit(0, 0, 1), ["checkout bug"]).tags == ["checkout-bug-2"]
    tagger.choose("t", _unit(0, 1, 0), ["x"])
    assert asked == ["s", "t"]


def test_a_taxonomy_tagger_does_not_read_the_store() -> None:
    from memory.mind.tagging import Taxonomy

    def seed(scope: Hashable) -> list[tuple[str, np.ndarray]]:
        raise AssertionError("no vocabulary to rebuild")

    tagger = Tagger(HashingEmbedder(), taxonomy=Taxonomy(["work"]), seed=seed)
    assert isinstance(tagger.vocabulary("s"), TagVocabulary)


def _add_all(mem: AgenticMemory, texts: list[str], **scope: str) -> list[Note]:
    return [
        mem.add(text, timestamp=T0 + timedelta(minutes=i), **scope) for i, text in enumerate(texts)
    ]


def _open(path: Path) -> AgenticMemory:
    return AgenticMemory(path, embedder=HashingEmbedder())


def test_a_reopened_memory_reuses_the_tag_it_would_have_reused(tmp_path: Path) -> None:
    with _open(tmp_path / "control") as mem:
        members = _add_all(mem, MEMBERS, user_id="u")
        tag = members[0].tags[0]
        assert all(note.tags == [tag] for note in members)
        probe = mem.add(PROBE, user_id="u", timestamp=T0 + timedelta(days=1))
        assert probe.tags == [tag]  # without a restart

    with _open(tmp_path / "restarted") as mem:
        _add_all(mem, MEMBERS, user_id="u")
    with _open(tmp_path / "restarted") as mem:
        again = mem.add(PROBE, user_id="u", timestamp=T0 + timedelta(days=1))
        assert again.tags == [tag]
        assert mem._tags._tagger.vocabulary(Scope(user_id="u")).size(tag) == len(MEMBERS) + 1


def test_reopened_vocabularies_never_mix_scopes(tmp_path: Path) -> None:
    with _open(tmp_path / "store") as mem:
        _add_all(mem, MEMBERS, user_id="u")
        _add_all(mem, MEMBERS[:2], user_id="u", run_id="r1")
    with _open(tmp_path / "store") as mem:
        tagger = mem._tags._tagger
        mem.add(PROBE, user_id="v", timestamp=T0)  # another user: nothing of u's
        other = tagger.vocabulary(Scope(user_id="v"))
        assert [other.size(name) for name in other.names] == [1]
        mem.add(PROBE, user_id="u", timestamp=T0 + timedelta(days=1))
        mine = tagger.vocabulary(Scope(user_id="u"))  # u's own notes, not its run's
        assert sum(mine.size(name) for name in mine.names) == len(MEMBERS) + 1
        run = tagger.vocabulary(Scope(user_id="u", run_id="r1"))
        assert sum(run.size(name) for name in run.names) == 2
