"""Keyword extraction with YAKE, minus what belongs in context: names, dates, fillers.

YAKE scores candidate phrases by statistical features of the text alone, so it
needs no model and is fast (about 2-3 ms per chat turn here). Speaker names and
dates are removed because the context line and metadata carry them; keeping
them would make every note of a conversation share "keywords".
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from memory.text.tokens import STOP_WORDS

__all__ = ["extract_keywords"]

_FILLERS = frozenset(
    """wow cool awesome great thanks thank hey hi hello yeah yep nope okay ok sure really totally
    amazing nice glad good lol haha hmm um uh gonna wanna gotta lot lots thing things stuff bit
    kind sort way time day pretty super definitely absolutely especially""".split()
)
_DATE_WORDS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday today yesterday tomorrow tonight week weekend month year morning evening
    night afternoon last next ago am pm""".split()
)
_NUMBERISH = re.compile(r"^[\d\s:/.,-]+(st|nd|rd|th)?$")
MAX_TEXT_CHARS = 20_000
"""Keywords of a longer text come from its start: YAKE's cost grows with the text
(about 10 s for 1 MB), and ``add`` runs it while holding the memory's lock."""

_local = threading.local()


def _extractor(max_words: int, top: int):  # type: ignore[no-untyped-def]
    # YAKE's extractor keeps state between calls; one per thread keeps it safe.
    key = (max_words, top)
    cache = getattr(_local, "extractors", None)
    if cache is None:
        cache = _local.extractors = {}
    if key not in cache:
        import yake

        cache[key] = yake.KeywordExtractor(lan="en", n=max_words, top=top, dedupLim=0.7)
    return cache[key]


def _unwanted(phrase: str, excluded: set[str]) -> bool:
    words = phrase.lower().split()
    if not words or _NUMBERISH.match(phrase):
        return True
    if any(w in excluded for w in words):
        return True
    if any(w in _DATE_WORDS for w in words):  # dates live in the context line
        return True
    meaningful = [w for w in words if w not in STOP_WORDS and w not in _FILLERS]
    if not meaningful:
        return True
    return len(phrase) < 3


def extract_keywords(
    text: str, *, exclude: Iterable[str] = (), limit: int = 5, max_words: int = 2
) -> list[str]:
    """The ``limit`` most salient lowercase key phrases of ``text``.

    Args:
        text: the note's text (without a speaker prefix); only the first
            ``MAX_TEXT_CHARS`` characters are read.
        exclude: names (speakers, people) that must not become keywords.
        limit: how many to return.
        max_words: longest phrase, in words.
    """
    excluded = {w.lower() for name in exclude for w in name.split()}
    if not text.strip():
        return []
    try:
        scored = _extractor(max_words, limit * 3).extract_keywords(text[:MAX_TEXT_CHARS])
    except Exception:  # YAKE fails on some degenerate inputs (e.g. only punctuation)
        scored = []
    keywords: list[str] = []
    seen: set[str] = set()
    for phrase, _score in scored:
        candidate = phrase.lower().strip(" .,!?;:'\"")
        if candidate in seen or _unwanted(candidate, excluded):
            continue
        # YAKE returns overlapping n-grams ("pottery class", "class yesterday"):
        # a phrase sharing a word with one already kept adds little.
        words = set(candidate.split()) - STOP_WORDS
        if any(words & set(kept.split()) for kept in keywords):
            continue
        seen.add(candidate)
        keywords.append(candidate)
        if len(keywords) == limit:
            break
    return keywords
