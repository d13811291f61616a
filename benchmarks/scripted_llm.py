"""Scripted chat models that answer the LLM mind's note requests the way a real model would.

    NoteRequestView        what one prompt shows: the new note, its speaker and time, the aliases
    read_note_request()    chat messages -> NoteRequestView (parses the mind's own prompt)
    plausible_reply()      NoteRequestView -> a realistic reply (keywords, tags, context,
                           links to 1-2 shown aliases, an evolution of one of them)
    count_tokens()         cl100k_base through tiktoken, else about four characters a token
    Replier                a ``Replay`` engine: queued faults first, then plausible replies;
                           counted usage and per-call records
    FAULTS                 the faults a Replier can play, by name
    MODELS                 framework name -> scripted model class, built around a Replier

The reply is built from the prompt the model receives, never from the benchmark's own
data, so it exercises the real prompt -> alias -> id path. The models themselves are the
tests' doubles (``tests/doubles/scripted_llm.py``: the LangChain ``BaseChatModel`` and
LlamaIndex ``CustomLLM`` adapters, the wait / raise / concurrency mechanics), so the
benchmarks and the tests drive the mind through one implementation. They report usage
the way their framework's real integrations do (``AIMessage.usage_metadata``;
OpenAI-style ``raw["usage"]`` for LlamaIndex); here the prompt tokens are counted over
the messages sent. The doubles are imported the way the tests import them, as
``doubles.scripted_llm``: this module puts ``tests/`` on ``sys.path``, as pytest does,
so one file is one module in both.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_TESTS = str(Path(__file__).resolve().parents[1] / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from doubles.scripted_llm import FRAMEWORKS, Answer, Planned, Replay  # noqa: E402

__all__ = [
    "FAULTS",
    "MODELS",
    "CallRecord",
    "NoteRequestView",
    "Replier",
    "count_tokens",
    "plausible_reply",
    "read_note_request",
    "tokenizer_name",
]

FAULTS = (
    "ok",
    "exception",
    "timeout",
    "invalid-json",
    "truncated",
    "wrong-aliases",
    "prose",
    "empty",
)
"""What a Replier can play for one call; ``ok`` is a plausible, clean reply."""

_MESSAGE_TOKENS = 4  # role and separators per chat message (OpenAI's accounting)
_REPLY_PRIMING = 3  # every reply is primed with <|start|>assistant<|message|>

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
_ALIAS_LINE = re.compile(r"^(n\d+): (.*)$")
_FACT = re.compile(r"(keywords|tags): ([^;)]*)")
_STOPWORDS = frozenset(
    """a about after again all also am an and any are around as at back be because been
    before being best both but by can could did do does doing done don't down during each
    even ever every feel feeling felt few for from get getting go going good got great had
    has have having he hear heard her here hers hey hi him his how i i'd i'll i'm i've if in
    into is isn't it it's its just keep know last let like lot lots made make many maybe me
    mean might more most much must my myself new next nice no not now of off oh on once one
    only or other our out over really right said same saw say see seems she should so some
    something still such sure take tell than thank thanks that that's the their them then
    there these they thing things think this those though through time to today too totally
    truly um up us very want was way we week well were what what's when where which while
    who why will wish with without wow would yeah yes yet you you're you've your yours
    absolutely amazing awesome glad happy love loved lovely really wonderful day days month
    months year years week weeks weekend yesterday tomorrow tonight lately recently""".split()
)
_TOPICS: dict[str, tuple[str, ...]] = {
    "art": ("paint", "pottery", "art", "draw", "sculpt", "museum", "canvas", "photo", "mural"),
    "music": ("music", "song", "guitar", "piano", "violin", "concert", "band", "sing"),
    "family": ("kid", "child", "son", "daughter", "husband", "wife", "mom", "dad", "family"),
    "career": ("job", "work", "career", "counsel", "office", "boss", "business", "studio"),
    "education": ("school", "class", "study", "course", "degree", "learn", "teach", "book"),
    "health": ("health", "doctor", "hospital", "run", "yoga", "exercise", "sick", "therapy"),
    "travel": ("trip", "travel", "beach", "camp", "hike", "mountain", "lake", "vacation"),
    "community": ("support", "group", "charity", "volunteer", "lgbtq", "pride", "community"),
    "identity": ("transgender", "trans", "identity", "gender", "accept", "journey"),
    "pets": ("dog", "cat", "pet", "puppy", "horse"),
    "food": ("cook", "bake", "recipe", "dinner", "food", "restaurant", "cake"),
    "feelings": ("proud", "inspir", "grateful", "thankful", "stress", "scared", "excit"),
}


@lru_cache(maxsize=1)
def _encoder() -> Any:
    """cl100k_base, loaded offline from llama_index's bundled cache when none is set."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        spec = find_spec("llama_index.core")
        if spec is not None and spec.origin is not None:
            bundled = Path(spec.origin).parent / "_static" / "tiktoken_cache"
            if bundled.is_dir():
                os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    try:
        import tiktoken

        return tiktoken.get_encoding("cl100k_base")
    except Exception:  # not installed, or no cached vocabulary offline: estimate instead
        return None


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in cl100k_base (tiktoken), else ``len / 4``."""
    encoder = _encoder()
    if encoder is None:
        return max(1, round(len(text) / 4)) if text else 0
    return len(encoder.encode(text, disallowed_special=()))


def tokenizer_name() -> str:
    """Which counter ``count_tokens`` uses, for reports."""
    return "tiktoken cl100k_base" if _encoder() is not None else "len/4 estimate"


def _prompt_tokens(messages: Sequence[tuple[str, str]]) -> int:
    return sum(count_tokens(text) + _MESSAGE_TOKENS for _, text in messages) + _REPLY_PRIMING


@dataclass
class ShownNote:
    """One existing note as the prompt shows it."""

    alias: str
    content: str
    keywords: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


@dataclass
class NoteRequestView:
    """What the mind's prompt says about one new note."""

    content: str
    speaker: str | None
    when: str
    shown: list[ShownNote] = field(default_factory=list)


def read_note_request(messages: Sequence[tuple[str, str]]) -> NoteRequestView | None:
    """Parse the LLM mind's note request out of the messages sent.

    Args:
        messages: ``(role, text)`` pairs as the model received them.

    Returns:
        The view, or ``None`` when no message is a note request (e.g. query rewriting).
    """
    user = next((text for _, text in messages if text.startswith("NEW NOTE (")), None)
    if user is None:
        return None
    header, _, rest = user.partition("\n")
    content, _, existing = rest.partition("\nEXISTING NOTES:")
    speaker = re.search(r"speaker=([^;)]+)", header)
    when = re.search(r"(\d{4}-\d{2}-\d{2})", header)
    shown: list[ShownNote] = []
    for line in existing.splitlines():
        alias = _ALIAS_LINE.match(line)
        if alias:
            shown.append(ShownNote(alias=alias.group(1), content=alias.group(2)))
        elif shown and line.startswith("  ("):
            for name, values in _FACT.findall(line):
                terms = [v.strip() for v in values.split(",") if v.strip()]
                setattr(shown[-1], name, terms)
    return NoteRequestView(
        content=content.strip(),
        speaker=speaker.group(1).strip() if speaker else None,
        when=when.group(1) if when else "",
        shown=shown,
    )


def _content_words(text: str) -> list[str]:
    """Lowercase content words in order of appearance, without stopwords, no repeats."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        lower = word.lower()
        if len(lower) > 2 and lower not in _STOPWORDS:
            seen.setdefault(lower, None)
    return list(seen)


def _keywords(view: NoteRequestView) -> list[str]:
    body = _body(view.content)
    names = [w for w in _WORD.findall(body)[1:] if w[0].isupper() and w.lower() not in _STOPWORDS]
    words = sorted(_content_words(body), key=lambda w: -len(w))[:5]
    picked = [view.speaker] if view.speaker else []
    for term in [*names, *words]:
        if term.lower() not in {p.lower() for p in picked}:
            picked.append(term)
    return picked[:6]


def _tags(words: Sequence[str]) -> list[str]:
    scores = {
        tag: sum(1 for w in words for stem in stems if w.startswith(stem))
        for tag, stems in _TOPICS.items()
    }
    ranked = [tag for tag, score in sorted(scores.items(), key=lambda kv: -kv[1]) if score]
    return ranked[:2] or ["daily life"]


def _body(content: str) -> str:
    """The text after a ``Name:`` speaker prefix (names alone make no topic)."""
    head, sep, tail = content.partition(": ")
    return tail if sep and len(head.split()) <= 3 and head[:1].isupper() else content


def _overlap(words: set[str], note: ShownNote) -> set[str]:
    theirs = set(_content_words(_body(note.content))) | {k.lower() for k in note.keywords}
    return words & theirs


def plausible_reply(view: NoteRequestView) -> dict[str, Any]:
    """A reply a capable model could give: grounded in the note, linking 1-2 shown aliases.

    Args:
        view: The parsed request.

    Returns:
        A dict matching the mind's reply schema.
    """
    words = _content_words(_body(view.content))
    keywords = _keywords(view)
    tags = _tags(words)
    who = view.speaker or "The user"
    topic = " and ".join(keywords[1:3] if view.speaker else keywords[:2]) or tags[0]
    context = f"{who} on {view.when or 'an unknown day'}: talks about {topic}"
    ranked = sorted(
        ((len(_overlap(set(words), note)), index, note) for index, note in enumerate(view.shown)),
        key=lambda item: (-item[0], item[1]),
    )
    links: list[dict[str, Any]] = []
    for shared, _, note in ranked[:2]:
        if links and shared < 2:
            break
        common = sorted(_overlap(set(words), note))
        reason = f"both mention {', '.join(common[:2])}" if common else "same conversation thread"
        strength = round(min(0.95, 0.4 + 0.1 * shared), 2)
        links.append({"to": note.alias, "strength": strength, "reason": reason})
    updates: list[dict[str, Any]] = []
    if links:
        target = next(n for n in view.shown if n.alias == links[0]["to"])
        new_tags = [t for t in tags if t not in target.tags][:1]
        new_keywords = [k for k in keywords[1:] if k not in target.keywords][:1]
        if new_tags or new_keywords:
            updates.append(
                {
                    "note": target.alias,
                    "add_tags": new_tags,
                    "add_keywords": new_keywords,
                    "context": None,
                    "reason": f"now read together with {who}'s remark on {topic}",
                }
            )
    return {
        "keywords": keywords,
        "tags": tags,
        "context": context,
        "links": links,
        "updates": updates,
    }


@dataclass
class CallRecord:
    """One call the model received: what it cost and what was played."""

    fault: str
    prompt_tokens: int
    completion_tokens: int
    shown: int
    instruction_tokens: int = 0
    note_tokens: int = 0
    candidate_tokens: int = 0


class Replier(Replay):
    """Answers chat messages: queued faults first, then plausible replies.

    The waiting, raising and in-flight counting (``in_flight``, ``peak``) are ``Replay``'s;
    this class decides each call and records what it cost.

    Args:
        hang: Seconds a ``timeout`` fault sleeps before answering (the caller gives up sooner).
        delay: Seconds every call takes (to make concurrency observable).

    Example:
        ```python
        replier = Replier(hang=1.0)
        replier.queue("exception", "invalid-json")  # the next two calls fail, then clean
        model = MODELS["langchain"](replier)
        ```
    """

    def __init__(self, *, hang: float = 1.0, delay: float = 0.0) -> None:
        super().__init__()
        self.hang = hang
        self.delay = delay
        self.records: list[CallRecord] = []
        self._faults: deque[str] = deque()

    def queue(self, *faults: str) -> None:
        """Play ``faults`` on the next calls, one each, before plausible replies resume."""
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; choose from {FAULTS}")
        with self._lock:
            self._faults.extend(faults)

    @property
    def calls(self) -> int:
        """Calls received so far."""
        return len(self.records)

    def _text(self, fault: str, view: NoteRequestView | None) -> str:
        if view is None:  # a query rewrite: echo the question
            return json.dumps({"query": "memory search"})
        reply = plausible_reply(view)
        if fault == "wrong-aliases":
            reply["links"] = [
                {"to": f"n{len(view.shown) + 3}", "strength": 0.9, "reason": "invented alias"},
                {"to": "note-7f3a9c", "strength": 0.8, "reason": "an id it was never shown"},
            ]
            reply["updates"] = [{"note": "n42", "add_tags": ["ghost"], "reason": "invented"}]
        text = json.dumps(reply)
        if fault == "invalid-json":
            return repr(reply)  # a Python dict: single quotes and None
        if fault == "truncated":
            return text[: len(text) // 2]
        if fault == "prose":
            return f"Here is the structured note:\n\n{text}\n\nI linked the closest notes."
        if fault == "empty":
            return ""
        return text

    def plan(self, messages: list[tuple[str, str]]) -> Planned:
        """Decide what this call does and record it (thread-safe)."""
        with self._lock:
            fault = self._faults.popleft() if self._faults else "ok"
        view = read_note_request(messages)
        prompt = _prompt_tokens(messages)
        reply = ""  # a dropped connection returns nothing, so it costs no completion tokens
        if fault != "exception":
            reply = self._text(fault, view)
        completion = count_tokens(reply)
        delay = self.hang if fault == "timeout" else self.delay
        outcome: Answer | BaseException = (
            ConnectionError("connection reset (scripted)")
            if fault == "exception"
            else Answer(reply, prompt, completion)
        )
        record = CallRecord(fault, prompt, completion, len(view.shown) if view else 0)
        if view is not None:
            user = next(text for _, text in messages if text.startswith("NEW NOTE ("))
            note, _, existing = user.partition("\nEXISTING NOTES:")
            record.instruction_tokens = count_tokens(messages[0][1])
            record.note_tokens = count_tokens(note)
            record.candidate_tokens = count_tokens(existing)
        with self._lock:
            self.records.append(record)
        return Planned(delay, outcome)


MODELS = FRAMEWORKS
"""Framework name -> a scripted model class of that framework, called with a ``Replier``."""
