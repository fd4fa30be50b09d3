"""Sentence scoring and selection: which quoted sentences answer the question.

Every sentence of the best passages is scored against the question; the best 2-4 that do not
repeat one another are quoted. Pure numpy over vectors the index already holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

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
# Tuned on evals/retrieval.yaml (bench/answer_tuning.py); see README, "Answers".
MIN_ANSWER_SCORE = 0.34  # below this the best sentence does not answer the question
# A question with a topic word the documents never use needs a stronger best sentence.
MIN_SCORE_WITH_UNKNOWN_TERM = 0.5
KEEP_WITHIN = 0.12  # further sentences must score within this of the best one
MAX_SENTENCES = 4
MIN_SENTENCES = 2
SAME_FACT = 0.80  # cosine between two sentences above which they say the same thing


class SentenceScorer:
    """Scores the sentences of retrieved passages; row k of `vectors` is the k-th sentence of
    the passages in index order (the order the index embedded them)."""

    def __init__(
        self, passages: Sequence[Passage], vectors: np.ndarray, tokens: Callable[[str], list[str]]
    ) -> None:
        self.vectors = vectors
        self._row_of: dict[tuple[str, int], int] = {}
        self._terms: list[frozenset[str]] = []
        for p in passages:
            for span, text in zip(p.sentences, p.sentence_texts(), strict=True):
                self._row_of[(p.chunk_id, span.start)] = len(self._terms)
                self._terms.append(frozenset(tokens(text)))

    def similarity(self, a: ScoredSentence, b: ScoredSentence) -> float:
        """Cosine similarity of two sentences (vectors are normalised)."""
        va = self.vectors[self._row_of[(a.passage.chunk_id, a.start)]]
        vb = self.vectors[self._row_of[(b.passage.chunk_id, b.start)]]
        return float(va @ vb)

    def score(
        self, hits: Sequence[SearchHit], terms: set[str], query_vector: np.ndarray
    ) -> list[ScoredSentence]:
        out = []
        for hit in hits:
            p = hit.passage
            for sentence, span in zip(p.sentence_texts(), p.sentences, strict=True):
                row = self._row_of[(p.chunk_id, span.start)]
                dense = float(self.vectors[row] @ query_vector[0])
                overlap = len(terms & self._terms[row]) / len(terms) if terms else 0.0
                score = (
                    WEIGHTS["sentence"] * dense
                    + WEIGHTS["passage"] * hit.dense_score
                    + WEIGHTS["overlap"] * overlap
                )
                out.append(ScoredSentence(sentence, p, span.start, score, dense, overlap))
        return out


def select_sentences(
    candidates: Sequence[ScoredSentence],
    similarity: Callable[[ScoredSentence, ScoredSentence], float],
    unknown_terms: tuple[str, ...] = (),
) -> list[ScoredSentence]:
    """The 2-4 sentences that answer best, without saying one fact twice; [] if none answers."""
    ranked = sorted(
        (c for c in candidates if not DOSE.search(c.text)),
        key=lambda c: (-c.score, c.passage.chunk_id, c.start),
    )
    floor = MIN_SCORE_WITH_UNKNOWN_TERM if unknown_terms else MIN_ANSWER_SCORE
    if not ranked or ranked[0].score < floor:
        return []
    chosen = [ranked[0]]
    for candidate in ranked[1:]:
        if len(chosen) == MAX_SENTENCES:
            break
        close_enough = candidate.score >= ranked[0].score - KEEP_WITHIN
        needed = len(chosen) < MIN_SENTENCES and candidate.score >= MIN_ANSWER_SCORE
        if (close_enough or needed) and all(similarity(candidate, c) < SAME_FACT for c in chosen):
            chosen.append(candidate)
    return chosen
