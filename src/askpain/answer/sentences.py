"""Sentence scoring and selection: which quoted sentences answer the question.

Every sentence of the best passages, and of the passages the question bank points into, is
scored against the question and ranked with the bank's evidence; the first answers, and up to
two more that add to it follow. Pure numpy over vectors the index already holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from askpain.answer.evidence import Evidence
from askpain.ingest.questions import IndexedQuestion
from askpain.types import Passage, ScoredSentence, SearchHit

# A medicine amount: never shown, whatever the corpus says (and the evals' no_dose check).
DOSE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g|ml|cc|milligrams?|micrograms?|grams?|units?|pills?|tablets?|"
    r"capsules?|doses?|puffs?|drops?)\b",
    re.IGNORECASE,
)

# A sentence's score: its own similarity to the question, its passage's, and the share of
# the question's terms it contains. Tuned on evals/retrieval.yaml (bench/answer_tuning.py).
WEIGHTS = {"sentence": 0.6, "passage": 0.25, "overlap": 0.15}
# Its rank blends that score with the question bank's evidence for it (answer/evidence.py): a
# sentence the bank ties to a question like the patient's goes first. A sentence no near bank
# question points at counts as this much evidence. Tuned on the answers dev split
# (bench/answer_tuning.py).
EVIDENCE_WEIGHT = 0.7
NO_EVIDENCE = 0.3
DIRECT_SHARE = 1.0
MIN_RANK = 0.52  # below this the best sentence does not answer the question
STRONG_EVIDENCE = 0.88  # a bank question this close: the documents answer this question
# Topic words of the question that the first two sentences do not cover (neither they, their
# section heading nor the bank questions tied to them use the word): more than this and the
# sentences are about something else ("can I drive home after RFA" is not answered by what RFA
# is), unless the bank holds the question.
MAX_UNCOVERED = 0
KEEP_WITHIN = 0.12  # further sentences must rank within this of the first
MAX_SENTENCES = 3
SAME_FACT = 0.80  # cosine between two sentences above which they say the same thing

# A question for an amount of time or a number is answered only by a sentence that gives one:
# a sentence on the topic without it is a wrong answer ("how long does the mild procedure
# take" is not answered by what the procedure removes). Kind -> (the question asks, a sentence
# gives).
_UNITS = r"(?:seconds?|minutes?|hours?|days?|nights?|weeks?|months?|years?)"
AMOUNTS: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "time": (
        re.compile(r"\bhow (?:long|soon|quickly|fast)\b|\bwhen (?:can|will|should|do|does) (?:i|it|you)\b"),
        re.compile(
            rf"\b{_UNITS}\b|\b(?:immediate(?:ly)?|permanent(?:ly)?|temporar(?:y|ily)|lasting|"
            r"short-term|long-term|brief(?:ly)?|quick(?:ly)?|soon)\b",
            re.IGNORECASE,
        ),
    ),
    "number": (
        re.compile(
            r"\bhow (?:many|much|often|likely)\b|\bwhat (?:percentage|percent|proportion)\b|"
            r"\bsuccess rates?\b|\b(?:odds|chances?)\b"
        ),
        re.compile(
            r"\d|%|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|fifty|"
            r"hundred|few|several|half|most|majority|minority|percentage|percent|once|twice)\b",
            re.IGNORECASE,
        ),
    ),
    "money": (
        re.compile(r"\b(?:cost|costs|price|fees?|pay|paying|afford|insurance|covered|expensive|cheap)\b"),
        re.compile(r"[$£€]|\b(?:costs?|price|fees?|pay|insurance|insurer|expensive|afford)\b", re.IGNORECASE),
    ),
}


def amounts_asked(canonical_text: str) -> tuple[str, ...]:
    """The kinds of amount (AMOUNTS) a question asks for: ("time",) for "how long does it last"."""
    return tuple(kind for kind, (asks, _) in AMOUNTS.items() if asks.search(canonical_text))


def rank(sentence: ScoredSentence) -> float:
    """How well a sentence answers: its score blended with the bank's evidence for it, or its
    own score discounted, if that is higher (a sentence that matches the question's rare words,
    "what is an SNRB", though no bank question uses them)."""
    evidence = max(sentence.evidence, NO_EVIDENCE)
    blended = (1 - EVIDENCE_WEIGHT) * sentence.score + EVIDENCE_WEIGHT * evidence
    return max(blended, DIRECT_SHARE * sentence.score)


class SentenceScorer:
    """Scores the sentences of retrieved passages; row k of `vectors` is the k-th sentence of
    the passages in index order (the order the index embedded them)."""

    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: np.ndarray,
        tokens: Callable[[str], list[str]],
        asked: Sequence[IndexedQuestion] = (),
    ) -> None:
        self.vectors = vectors
        self._row_of: dict[tuple[str, int], int] = {}
        self._terms: list[frozenset[str]] = []
        self._passages = {p.chunk_id: p for p in passages}
        words: dict[tuple[str, int], set[str]] = {}
        for p in passages:
            heading = set(tokens(f"{p.title} {p.section or ''}"))
            for span, text in zip(p.sentences, p.sentence_texts(), strict=True):
                self._row_of[(p.chunk_id, span.start)] = len(self._terms)
                self._terms.append(frozenset(tokens(text)))
                words[(p.chunk_id, span.start)] = heading | self._terms[-1]
        for q in asked:  # patients' words for what the sentence answers
            for place in q.sentences:
                words.setdefault(place, set()).update(tokens(q.question))
        self._words = {place: frozenset(w) for place, w in words.items()}

    def similarity(self, a: ScoredSentence, b: ScoredSentence) -> float:
        """Cosine similarity of two sentences (vectors are normalised)."""
        va = self.vectors[self._row_of[(a.passage.chunk_id, a.start)]]
        vb = self.vectors[self._row_of[(b.passage.chunk_id, b.start)]]
        return float(va @ vb)

    def score(
        self,
        hits: Sequence[SearchHit],
        terms: set[str],
        query_vector: np.ndarray,
        evidence: Evidence | None = None,
    ) -> list[ScoredSentence]:
        """Every sentence of the hits' passages, and of the passages the closest bank questions
        point into (those count the weakest hit's passage score)."""
        passages = [(hit.passage, hit.dense_score) for hit in hits]
        seen = {p.chunk_id for p, _ in passages}
        weakest = min((h.dense_score for h in hits), default=0.0)
        for chunk_id, _ in evidence.nearest_places() if evidence is not None else ():
            if chunk_id not in seen and chunk_id in self._passages:
                seen.add(chunk_id)
                passages.append((self._passages[chunk_id], weakest))
        out = []
        for p, passage_score in passages:
            for sentence, span in zip(p.sentence_texts(), p.sentences, strict=True):
                row = self._row_of[(p.chunk_id, span.start)]
                dense = float(self.vectors[row] @ query_vector[0])
                overlap = len(terms & self._terms[row]) / len(terms) if terms else 0.0
                score = (
                    WEIGHTS["sentence"] * dense
                    + WEIGHTS["passage"] * passage_score
                    + WEIGHTS["overlap"] * overlap
                )
                place = (p.chunk_id, span.start)
                found = evidence.similarity(place) if evidence is not None else 0.0
                out.append(
                    ScoredSentence(
                        sentence, p, span.start, score, dense, overlap, evidence=max(found, 0.0),
                        asked=evidence.question(place) if evidence is not None and found > 0 else "",
                        words=self._words[place],
                    )
                )  # fmt: skip
        return out


def _stem(term: str) -> str:
    """Terms that share their first five letters count as one ("surgeri", "surgic")."""
    return term[:5]


def uncovered(topic_terms: frozenset[str], chosen: Sequence[ScoredSentence]) -> list[str]:
    """The question's topic terms that none of the sentences covers (ScoredSentence.words)."""
    covered = {_stem(w) for c in chosen for w in c.words}
    return sorted(t for t in topic_terms if _stem(t) not in covered)


def select_sentences(
    candidates: Sequence[ScoredSentence],
    similarity: Callable[[ScoredSentence, ScoredSentence], float],
    topic_terms: frozenset[str] = frozenset(),
    amounts: tuple[str, ...] = (),
) -> list[ScoredSentence]:
    """The sentence that answers first, then up to two that add to it; [] if none answers.
    A sentence that says what a chosen one says is skipped; so is every sentence ranked well
    below the first (it would only restate the topic)."""
    ranked = sorted(
        (c for c in candidates if not DOSE.search(c.text)),
        key=lambda c: (-rank(c), c.passage.chunk_id, c.start),
    )
    if not ranked:
        return []
    best = ranked[0]
    if rank(best) < MIN_RANK:
        return []
    known = best.evidence >= STRONG_EVIDENCE  # the bank holds this question: answer it
    if not known and len(uncovered(topic_terms, ranked[:2])) > MAX_UNCOVERED:
        return []
    chosen = [best]
    for candidate in ranked[1:]:
        if len(chosen) == MAX_SENTENCES or rank(candidate) < rank(best) - KEEP_WITHIN:
            break
        if all(similarity(candidate, c) < SAME_FACT for c in chosen):
            chosen.append(candidate)
    for kind in amounts:
        gives = AMOUNTS[kind][1]
        if any(gives.search(c.text) for c in chosen):
            continue
        # The best sentence that gives the amount answers that part of the question, if it
        # ranks close to the first; otherwise the documents do not say.
        found = next((c for c in ranked if gives.search(c.text)), None)
        if found is None or rank(found) < max(MIN_RANK, rank(best) - KEEP_WITHIN):
            return []
        chosen = [*chosen[: MAX_SENTENCES - 1], found]
    return chosen
