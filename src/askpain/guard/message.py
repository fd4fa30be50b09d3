"""A patient's message, read once at the door: cleaned text, the part answered, and a
canonical form (lower-case tokens with offsets) that every later stage reuses.

Example:
    message = read_message("I CANT controll my bladdr!!")
    message.canonical.text  # "i can't controll my bladdr ! !"
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import add, itemgetter

from askpain.guard.hygiene import clean, safe_text

# Answer from at most this much of a message; red flags are looked for in all of it.
ANSWER_PREFIX_CHARS = 2000
# Read at most this much of a message at all (Settings.max_message_chars sets it per install).
MAX_MESSAGE_CHARS = 50_000

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[.!?;,:]")
_LONG_RUN = re.compile(r"(.)\1{2,}")
_CONTRACTIONS = {
    "cant": "can't", "cannot": "can't", "dont": "don't", "didnt": "didn't", "doesnt": "doesn't",
    "havent": "haven't", "hasnt": "hasn't", "hadnt": "hadn't", "isnt": "isn't", "arent": "aren't",
    "wasnt": "wasn't", "werent": "weren't", "wont": "won't", "couldnt": "couldn't",
    "shouldnt": "shouldn't", "wouldnt": "wouldn't", "im": "i'm", "ive": "i've", "iam": "i'm",
    "whats": "what's", "thats": "that's", "its": "it's", "cnat": "can't", "caint": "can't",
    "carnt": "can't", "dnt": "don't", "didn": "didn't",
}  # fmt: skip
# Emphasis on short words: "nooo" is "no" ("noo" is no word to correct by spelling).
_SHORT = {"no": "no", "not": "not", "nope": "nope", "never": "never", "yes": "yes"}
# "'s" is a contraction on these; on any other word it is a possessive or "has"/"is"
# and is dropped, so "bladder's been acting up" reads "bladder been acting up".
_KEEP_APOSTROPHE_S = {
    "it's",
    "what's",
    "that's",
    "there's",
    "he's",
    "she's",
    "let's",
    "who's",
    "here's",
    "where's",
}


@dataclass(frozen=True)
class Canonical:
    """Words and punctuation of a message as space-separated lower-case tokens, with each
    token's place in the canonical string and in the original text."""

    text: str  # the tokens, one space between
    tokens: tuple[str, ...]
    source_spans: tuple[tuple[int, int], ...]

    @cached_property
    def starts(self) -> list[int]:
        """Where each token starts in `text`."""
        if not self.tokens:
            return []
        return list(itertools.accumulate(map((1).__add__, map(len, self.tokens[:-1])), initial=0))

    @cached_property
    def _ends(self) -> list[int]:
        return list(map(add, self.starts, map(len, self.tokens)))

    @cached_property
    def canon_spans(self) -> tuple[tuple[int, int], ...]:
        """Where each token starts and ends in `text`."""
        return tuple(zip(self.starts, self._ends, strict=True))

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Tokens [i, j) covered by canonical characters [start, end); a binary search, so
        matching stays linear in the message however many matches it has."""
        return bisect.bisect_right(self._ends, start), bisect.bisect_left(self.starts, end)

    def within(self, start: int, end: int) -> range:
        """Indexes of the tokens that lie inside source characters [start, end)."""
        first = bisect.bisect_left([a for a, _ in self.source_spans], start)
        last = bisect.bisect_right(self._source_ends, end)
        return range(first, max(first, last))

    @cached_property
    def _source_ends(self) -> list[int]:
        return list(map(itemgetter(1), self.source_spans))

    def corrected(self, correct: Callable[[str], str]) -> Canonical:
        """The same tokens with `correct` applied to each word (as canonicalize(text, correct))."""
        fixed = {t: correct(t) if t[0].isalnum() else t for t in set(self.tokens)}  # each word once
        if all(t == f for t, f in fixed.items()):
            return self  # nothing corrected: the same text, offsets and all
        tokens = tuple(map(fixed.__getitem__, self.tokens))
        return Canonical(" ".join(tokens), tokens, self.source_spans)

    def prefix(self, chars: int) -> Canonical:
        """The tokens of the first `chars` characters of the source text."""
        n = bisect.bisect_right([b for _, b in self.source_spans], chars)
        tokens = self.tokens[:n]
        return Canonical(" ".join(tokens), tokens, self.source_spans[:n])


@dataclass(frozen=True)
class Message:
    """One patient message, normalised once and passed down: guard, scope, retrieval, compose."""

    raw: str  # as received
    text: str  # made plain at the door (guard.hygiene.clean): no markup, no invisible characters
    answer_text: str  # the part answered (a bounded prefix)
    truncated: bool
    canonical: Canonical  # of `text`, words as typed (no spelling correction)
    capped: bool = False  # longer than the cap: only its first part was read at all

    @cached_property
    def answer_canonical(self) -> Canonical:
        return self.canonical.prefix(len(self.answer_text)) if self.truncated else self.canonical


def read_message(raw: str | bytes, max_chars: int = MAX_MESSAGE_CHARS) -> Message:
    """Normalize a patient's message (guard.hygiene.clean), cut to `max_chars` first so that
    no message costs more than a bounded time; the red-flag check reads all that is kept."""
    raw = safe_text(raw)
    capped = len(raw) > max_chars
    text = clean(raw[:max_chars] if capped else raw)
    truncated = len(text) > ANSWER_PREFIX_CHARS
    answer_text = text[:ANSWER_PREFIX_CHARS].rsplit(" ", 1)[0] if truncated else text
    return Message(raw, text, answer_text, truncated, canonicalize(text), capped)


def dedupe(word: str) -> str:
    """Every run of a repeated letter made single: "canttt" -> "cant"."""
    return "".join(c for i, c in enumerate(word) if i == 0 or c != word[i - 1])


def canonicalize(text: str, correct: Callable[[str], str] = lambda w: w) -> Canonical:
    tokens: list[str] = []
    source_spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(text):
        word = match.group().casefold().replace("’", "'")
        if word[0].isalnum():
            word = _LONG_RUN.sub(r"\1\1", word)  # "sooo numbbb" -> "soo numbb"
            single = dedupe(word)
            word = _CONTRACTIONS.get(word) or _CONTRACTIONS.get(single) or _SHORT.get(single, word)
            if word.endswith("'s") and word not in _KEEP_APOSTROPHE_S:
                word = word[:-2]
            word = correct(word)
        tokens.append(word)
        source_spans.append(match.span())
    return Canonical(" ".join(tokens), tuple(tokens), tuple(source_spans))


class Corrector:
    """Spelling correction towards a vocabulary: a word of 5+ letters that is neither in the
    vocabulary nor a known word, and is one edit (two for 8+ letters) from a vocabulary
    word with the same first letter, is read as that word. Ties go to the alphabetically
    first word, so the result is deterministic."""

    def __init__(self, vocabulary: Iterable[str], known: Iterable[str] = ()) -> None:
        self._vocabulary = frozenset(vocabulary)
        self._known = self._vocabulary | frozenset(known)
        self._by_initial: dict[str, list[str]] = {}
        for word in sorted(self._vocabulary):
            self._by_initial.setdefault(word[0], []).append(word)
        self.correct = lru_cache(maxsize=20_000)(self._correct)

    def _correct(self, word: str) -> str:
        if len(word) < 5 or word in self._known or not word.isalpha():
            return word
        single = dedupe(word)
        if single in self._vocabulary:
            return single
        limit = 1 if len(word) < 8 else 2
        best = min(
            ((edit_distance(word, v, limit), v) for v in self._by_initial.get(word[0], ())),
            default=(limit + 1, word),
        )
        return best[1] if best[0] <= limit else word


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap counts as one edit); limit + 1 when above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


# Function words that tell languages apart in a short message.
_ENGLISH = frozenset(
    "the a an and or is are was were i my me you it this that what why how when where can do does "
    "did not no have has had will would should could to of in on for with after before about".split()
)
_OTHER = frozenset(
    "el la los las que de del y en por para es una un con sin pero mi mis me duele dolor inyección "
    "le les et est une des pas mon ma mes je dans avec pour sur der die das und ist nicht ich mein "
    "meine mit für il lo che non sono della per uma um não com os as meu minha".split()
)


def is_probably_english(text: str) -> bool:
    """False when a message is clearly in another language or script (then askpain says it
    answers in English only); short or mixed messages count as English."""
    letters = [ch for ch in text if ch.isalpha()]
    if letters and sum(ch.isascii() or "\u00c0" <= ch <= "\u024f" for ch in letters) / len(letters) < 0.5:
        return False  # mostly another script (Cyrillic, Arabic, CJK ...)
    words = re.findall(r"[^\W\d_]+", text.casefold())
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER for w in words)
    return not (other >= 2 and other > english)
