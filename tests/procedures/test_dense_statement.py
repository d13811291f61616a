"""The sentence-embedding view of the statement finder."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from domains_data import trajectory

from memory import AgenticMemory
from memory.embed import HashingEmbedder
from memory.procedures.dense_statement import candidate_parts, part_similarity
from memory.procedures.statement import weigh_parts

KEYS = [["help", "get", "back", "into", "their", "account"], ["buy", "and", "check", "out"]]


def _weigh(parts: list[list[str]], similarity: list[float] | None) -> tuple[int, list[float]]:
    return weigh_parts(
        parts,
        keys=KEYS,
        idf=lambda w: 1.0 if w in {"and", "out"} else 2.0,
        weight=lambda w: 1.0,
        task_vocabulary={w for key in KEYS for w in key},
        similarity=similarity,
    )


def test_the_embedding_view_overrules_a_header_that_uses_a_stored_tasks_words() -> None:
    parts = [
        ["account", "help", "back", "into"],  # a site's header
        ["buy", "running", "shoes", "check", "out"],  # the task, partly in words of its own
    ]
    at, _ = _weigh(parts, None)
    assert at == 0  # the words alone pick the header
    at, weights = _weigh(parts, [0.2, 0.9])
    assert at == 1
    assert weights[1] == 1.0
    assert 0.0 <= weights[0] < 1.0


def test_without_a_usable_embedding_view_the_words_decide() -> None:
    parts = [["help", "back", "into", "account"], ["buy", "shoes"]]
    words_only = _weigh(parts, None)
    assert _weigh(parts, [0.0, 0.0]) == words_only  # nothing stored to compare with
    assert _weigh(parts, [0.5]) == words_only  # not one value per part


def test_only_an_observation_with_parts_to_choose_between_is_embedded() -> None:
    assert candidate_parts("Buy two running shoes.", ()) == {}
    assert candidate_parts("Buy two running shoes. Size 11; in black.", ()) == {}  # one line
    observation = "Shop - Home\n[Account] [Help]\nBuy two running shoes."
    assert candidate_parts(observation, {0, 1}) == {}  # one part left: nothing to choose
    assert candidate_parts(observation, {0}) == {1: "[Account] [Help]", 2: "Buy two running shoes."}


def test_part_similarity_embeds_each_distinct_part_once_in_one_batch() -> None:
    calls: list[list[str]] = []

    def embed(texts: Any) -> np.ndarray:
        calls.append(list(texts))
        return np.eye(len(texts), 4, dtype=np.float32)

    similarity, vectors = part_similarity(
        {0: "header", 2: "the task", 3: "header"},
        embed,
        lambda rows: [0.1 * (i + 1) for i in range(len(rows))],
    )
    assert calls == [["header", "the task"]]
    assert similarity == pytest.approx({0: 0.1, 2: 0.2, 3: 0.1})
    assert set(vectors) == {"header", "the task"}
    assert vectors["the task"].shape == (1, 4)
    assert part_similarity({}, embed, lambda rows: []) == ({}, {})


def test_recall_of_an_observation_embeds_its_parts_and_reuses_the_statements_vector() -> None:
    embedded: list[list[str]] = []
    embedder = HashingEmbedder()

    class Counting:
        dim = embedder.dim

        def embed(self, texts: Any) -> Any:
            embedded.append(list(texts))
            return embedder.embed(texts)

    mem = AgenticMemory(embedder=Counting())
    for number, (task, actions) in enumerate(
        [
            ("Buy a red kettle and check out.", ["search[red kettle]", "click[Buy now]"]),
            (
                "Help ana@mail.com get back into their account.",
                ["click[Forgot]", "type[ana@mail.com]"],
            ),
            ("Buy a blue lamp and check out.", ["search[blue lamp]", "click[Buy now]"]),
        ]
    ):
        mem.learn(trajectory(f"run{number}", task, [(a, "ok") for a in actions]), user_id="shopper")
    embedded.clear()
    hits = mem.recall("Buy a green mug and check out.", user_id="shopper", k=1)
    assert hits and embedded == [["Buy a green mug and check out."]]  # a bare task: one encode
    embedded.clear()
    # (A text embedded before is served from the query cache, so this task is new.)
    observation = "Shop - Home\n[Search box] [Account] [Help]\nBuy a brown teapot and check out."
    hits = mem.recall(observation, user_id="shopper", k=1)
    assert hits[0].note.metadata["distilled"]["task"].startswith("Buy a")
    # One batch of the parts (the facade adds the raw observation, to cache it for a
    # search that follows); the statement's own vector serves the dense ranking.
    assert len(embedded) == 1
    assert embedded[0][:3] == [
        "Shop - Home",
        "[Search box] [Account] [Help]",
        "Buy a brown teapot and check out.",
    ]
    mem.close()


def test_a_checked_stored_task_is_read_from_its_words_and_embedded_once() -> None:
    from memory.procedures import build_profile
    from memory.procedures.dense_statement import query_and_vector

    calls: list[list[str]] = []

    def embed(texts: Any) -> np.ndarray:
        calls.append(list(texts))
        return np.ones((len(texts), 4), dtype=np.float32)

    text = "Shop - Home\nBuy a brown teapot and check out."
    query, vector = query_and_vector(text, build_profile([]), (), embed, None)
    assert calls == [[query.passage]]  # no part-by-part embedding without the view
    assert vector.shape == (1, 4)


def test_when_no_part_uses_a_keys_words_the_embedding_alone_finds_the_statement() -> None:
    parts = [["shop", "home"], ["search", "box"], ["purchase", "trail", "shoes"]]
    assert _weigh(parts, None) == (0, [1.0, 1.0, 1.0])  # the words cannot tell
    assert _weigh(parts, [0.3, 0.35, 0.7]) == (2, [1.0, 1.0, 1.0])


def test_part_lines_maps_each_part_to_its_line() -> None:
    from memory.procedures.text import part_lines, segments

    text = "Shop - Home\n\nYour task is to: buy a mug. Then check out."
    assert segments(text) == ["Shop - Home", "Your task is to", "buy a mug.", "Then check out."]
    assert part_lines(text) == [0, 2, 2, 2]
