"""Broad topic tags without an LLM: zero-shot by similarity to labelled descriptions.

Each tag has a short description; the note's vector is compared with the
descriptions' vectors (embedded once per mind, at its first note, so creating
a memory never loads the embedding model), and a lexical cue list backs it
up for embedders that are weak on short texts. Tags are broad labels
("hobbies", "family"), deliberately not copies of the note's keywords.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from memory.embed.base import Embedder
from memory.text.tokens import lexical_tokens

__all__ = ["TOPIC_TAGS", "TopicTagger"]

TOPIC_TAGS: dict[str, str] = {
    "family": "family life: parents, mother, father, children, kids, son, daughter, siblings",
    "relationships": "friends, partner, husband, wife, dating, marriage, friendship",
    "work": "job, career, work, boss, colleagues, office, business, promotion",
    "education": "school, college, university, studying, classes, exams, learning, degree",
    "health": "health, illness, doctor, hospital, therapy, injury, medicine, mental health",
    "fitness": "exercise, running, gym, sports, hiking, yoga, training, games, team",
    "food": "food, cooking, recipes, baking, restaurant, dinner, eating, meal",
    "travel": "travel, trip, vacation, flight, visiting another city or country, road trip",
    "hobbies": "hobbies, crafts, pottery, collecting, gardening, camping, fishing, free time",
    "art": "art, painting, drawing, sculpture, photography, creativity, design",
    "music": "music, songs, concerts, playing an instrument, guitar, piano, band, singing",
    "reading": "books, reading, novels, authors, writing, stories, poetry",
    "pets": "pets, dogs, cats, animals, adopting a pet, vet",
    "home": "home, house, apartment, moving, furniture, renovation, neighbourhood",
    "nature": "nature, outdoors, beach, mountains, forest, park, weather, sunset",
    "money": "money, finances, budget, saving, buying, shopping, bills",
    "technology": "technology, computers, software, phones, internet, apps, coding",
    "feelings": "emotions and feelings: happy, sad, stressed, anxious, proud, grateful",
    "community": "community, volunteering, activism, charity, support group, events",
    "identity": "identity, gender, transition, LGBTQ, self-acceptance, culture, beliefs",
    "celebration": "celebrations, birthday, wedding, party, holiday, anniversary, festival",
    "plans": "plans, goals, future, intentions, decisions, what someone will do next",
    "advice": "advice, encouragement, support, recommendations, tips",
    "entertainment": "movies, TV shows, video games, watching films, streaming",
    "household-task": "household task: find, take, put, clean, heat, cool objects in rooms",
}


class TopicTagger:
    """Chooses up to ``limit`` topic tags for a note vector and text."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        tags: dict[str, str] | None = None,
        limit: int = 2,
        floor: float = 0.12,
    ) -> None:
        self._tags = dict(tags or TOPIC_TAGS)
        self._names = list(self._tags)
        self._embedder = embedder
        self._vectors: np.ndarray | None = None
        self._embedding = threading.Lock()
        self._cues = [set(lexical_tokens(desc)) for desc in self._tags.values()]
        self._limit = limit
        self._floor = floor

    def choose(self, vector: np.ndarray | None, text: str) -> list[str]:
        """The best tags, strongest first (at least one whenever any cue fits)."""
        scores = np.zeros(len(self._names), dtype=np.float32)
        if vector is not None:
            scores += self._tag_vectors() @ np.asarray(vector, dtype=np.float32)
        tokens = set(lexical_tokens(text))
        scores += np.array([0.08 * len(tokens & cue) for cue in self._cues], dtype=np.float32)
        order = np.argsort(-scores)
        chosen = [self._names[i] for i in order[: self._limit] if scores[i] >= self._floor]
        return chosen or ([self._names[order[0]]] if scores[order[0]] > 0 else [])

    def _tag_vectors(self) -> np.ndarray:
        with self._embedding:
            if self._vectors is None:
                self._vectors = self._embedder.embed(list(self._tags.values()))
            return self._vectors

    def names(self) -> Sequence[str]:
        """Every tag this tagger can assign."""
        return self._names
