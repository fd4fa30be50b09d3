"""Evidence from the question bank: a patient question close to a bank question ("why didnt my
epidural work") points at the sentences that answer it, whatever words those sentences use.

Bank questions are embedded with the passages (retrieval/store.py); here the query vector is
compared with all of them, and each sentence gets the similarity of the closest bank question
that points at it (a little less where it is that question's second or third answer sentence).
Pure numpy: one matrix-vector product over the bank, then a maximum per sentence.

Example:
    bank = QuestionBank(loaded.questions, loaded.question_vectors.reconstruct_n(0, n))
    found = bank.evidence(query_vector)
    found.similarity(("chunk-3", 120)), found.question(("chunk-3", 120))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from askpain.ingest.questions import IndexedQuestion

NEAREST = 10  # the passages of this many closest bank questions are read besides the search hits
LATER_SENTENCE = 0.02  # a question's 2nd and 3rd answer sentences count a little less

Place = tuple[str, int]  # (chunk_id, start of the sentence in the document)


class Evidence:
    """The bank's evidence for every sentence, for one message."""

    def __init__(self, bank: QuestionBank, scores: np.ndarray) -> None:
        self._bank = bank
        self._scores = scores  # similarity of the message to each bank question
        best = np.full(len(bank.places), -1.0)
        for rank, (rows, places) in enumerate(bank.pointers):
            np.maximum.at(best, places, scores[rows] - LATER_SENTENCE * rank)
        self._best = best

    def similarity(self, place: Place) -> float:
        """How close the message is to the closest bank question answered by the sentence; 0.0
        when no bank question points at it."""
        k = self._bank.place_number.get(place)
        return float(self._best[k]) if k is not None else 0.0

    def question(self, place: Place) -> str:
        """That bank question ("" if none)."""
        rows = self._bank.asked_at.get(place, ())
        return self._bank.questions[max(rows, key=lambda r: (self._scores[r], -r))].question if rows else ""

    def best(self) -> float:
        """The similarity of the closest bank question."""
        return float(self._scores.max()) if len(self._scores) else 0.0

    def nearest_places(self, k: int = NEAREST) -> list[Place]:
        """The sentences the k closest bank questions point at, closest first."""
        order = np.lexsort((np.arange(len(self._scores)), -self._scores))[:k]
        return [place for r in order for place in self._bank.questions[r].sentences]


class QuestionBank:
    def __init__(self, questions: Sequence[IndexedQuestion], vectors: np.ndarray) -> None:
        if len(questions) != len(vectors):
            raise ValueError("QuestionBank: one vector per question")
        self.questions = tuple(questions)
        self.vectors = vectors
        self.places = sorted({p for q in questions for p in q.sentences})
        self.place_number = {p: k for k, p in enumerate(self.places)}
        self.asked_at: dict[Place, list[int]] = {}
        by_rank: list[tuple[list[int], list[int]]] = []
        for row, q in enumerate(self.questions):
            for rank, place in enumerate(q.sentences):
                self.asked_at.setdefault(place, []).append(row)
                while len(by_rank) <= rank:
                    by_rank.append(([], []))
                by_rank[rank][0].append(row)
                by_rank[rank][1].append(self.place_number[place])
        # Per answer-sentence rank: (question rows, sentence numbers), for one vectorised maximum.
        self.pointers = [(np.asarray(r, dtype=np.int64), np.asarray(p, dtype=np.int64)) for r, p in by_rank]

    def evidence(self, query_vector: np.ndarray) -> Evidence:
        # Inner product equals cosine similarity on normalized vectors.
        scores = self.vectors @ query_vector[0] if self.questions else np.zeros(0)
        return Evidence(self, scores)
