"""The search query for a message: the patient's words plus the documents' words for them,
and the topic words of a question that the documents never use."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from askpain.guard.message import Canonical, Corrector
from askpain.types import Passage


@dataclass(frozen=True)
class QueryTerms:
    synonyms: tuple[tuple[re.Pattern, str], ...]
    generic: frozenset[str]


@cache
def default_query_terms() -> QueryTerms:
    data = yaml.safe_load(
        (resources.files("askpain.answer") / "data" / "query_terms.yaml").read_text(encoding="utf-8")
    )
    synonyms = tuple(
        (re.compile(rf"(?<![\w']){pattern}(?![\w'])"), words) for pattern, words in data["synonyms"].items()
    )
    return QueryTerms(synonyms, frozenset(data["generic"].split()))


# A short message that leans on the one before it: "how long does that last?", "what about
# the neck?". It is answered as that message and this one together.
FOLLOW_UP = re.compile(
    r"^(?:and|but|so|also|ok(?:ay)?|what about|how about|what if|same for)\b|"
    r"\b(?:it|its|it's|that|this|they|them|those|these|one)\b"
)
MAX_FOLLOW_UP_WORDS = 10


def is_follow_up(canonical: Canonical, earlier: Sequence[str]) -> bool:
    """Whether a message is a short follow-up of the patient's previous message."""
    short = len(canonical.tokens) <= MAX_FOLLOW_UP_WORDS
    return bool(earlier) and short and bool(FOLLOW_UP.search(canonical.text))


def expand_query(
    text: str, canonical: Canonical, terms: QueryTerms, spelling: Corrector | None = None
) -> str:
    """The message plus the documents' words for the patient's words: synonyms ("gel shots" ->
    hyaluronic) and spelling ("exercizes" -> exercises). Only adds words, never removes any."""
    extra = [words for pattern, words in terms.synonyms if pattern.search(canonical.text)]
    if spelling is not None:
        extra += [fixed for w in canonical.tokens if (fixed := spelling.correct(w)) != w]
    return " ".join([text, *extra])


class DocumentVocabulary:
    """The words the documents use (stemmed), and the spelling corrector towards them."""

    def __init__(
        self,
        passages: Sequence[Passage],
        terms: QueryTerms,
        tokens: Callable[[str], list[str]],
        asked: Sequence[str] = (),
    ) -> None:
        self.terms = terms
        self.tokens = tokens
        self.known = set(tokens(" ".join(f"{p.title} {p.section or ''} {p.text}" for p in passages)))
        self.known |= set(tokens(" ".join(terms.generic)))
        # The words of the bank's questions: patients' words for questions the documents answer.
        self.known |= set(tokens(" ".join(asked)))
        self.spelling = Corrector({w.lower() for p in passages for w in re.findall(r"[A-Za-z]+", p.text)})

    def _mapped(self, text: str) -> set[str]:
        """The terms of `text` that a synonym maps onto the documents' words ("shot", "physio")."""
        return {
            stem
            for pattern, _ in self.terms.synonyms
            for match in pattern.finditer(text)
            for stem in self.tokens(match.group())
        }

    def topic_terms(self, canonical: Canonical, ignore: tuple[str, ...] = ()) -> frozenset[str]:
        """The question's terms, spelling corrected, less everyday words, words a synonym maps
        onto the documents' words ("shot", "physio") and those in `ignore`."""
        corrected = canonical.corrected(self.spelling.correct)
        mapped = self._mapped(corrected.text)
        everyday = set(self.tokens(" ".join(self.terms.generic))) | set(self.tokens(" ".join(ignore)))
        return frozenset(self.tokens(corrected.text)) - everyday - mapped

    def unknown_terms(self, canonical: Canonical, ignore: tuple[str, ...] = ()) -> list[str]:
        """Topic words of a question that the documents never use, after spelling correction,
        and that no synonym maps onto the documents' words. Words in `ignore` (the red-flag
        words the guardrail already answered) do not count."""
        corrected = canonical.corrected(self.spelling.correct)
        mapped = self._mapped(corrected.text)
        ignored = set(self.tokens(" ".join(ignore)))
        return [
            t
            for t in self.tokens(corrected.text)
            if t not in self.known and t not in mapped and t not in ignored
        ]
