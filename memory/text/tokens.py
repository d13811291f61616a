"""Tokenisation for lexical search: lowercase words, English stop words out, Snowball stems.

Stemming lets "painted" in a question match "painting" in a note; stop words are
dropped because BM25 would otherwise reward notes full of "the" and "you".
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["STOP_WORDS", "lexical_tokens", "stem"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

STOP_WORDS: frozenset[str] = frozenset(
    """a about above after again against all am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll
    i'm i've if in into is isn't it it's its itself let's me more most mustn't my myself no nor
    not of off on once only or other ought our ours ourselves out over own same shan't she she'd
    she'll she's should shouldn't so some such than that that's the their theirs them themselves
    then there there's these they they'd they'll they're they've this those through to too under
    until up very was wasn't we we'd we'll we're we've were weren't what what's when when's where
    where's which while who who's whom why why's with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves s t just also yeah yes oh""".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer  # PyStemmer: C Snowball stemmer, thread-safe per call

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball (Porter 2) stem of one lowercase word."""
    return str(_stemmer().stemWord(word))


def lexical_tokens(text: str) -> list[str]:
    """Stemmed, stop-word-free tokens of ``text`` for BM25 and keyword overlap."""
    words = _WORD.findall(text.lower())
    return [stem(w.replace("'", "")) for w in words if w not in STOP_WORDS]
