"""Hybrid retrieval: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank."""

from __future__ import annotations

from typing import Protocol

import faiss
import numpy as np

from askpain.retrieval.fusion import reciprocal_rank_fusion
from askpain.retrieval.lexical import LexicalIndex
from askpain.types import Passage, SearchHit

# Each method contributes its best CANDIDATES passages to the fusion; deeper ranks add
# almost nothing to 1 / (60 + rank) and would let weak matches in.
CANDIDATES = 30


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


class HybridRetriever:
    """Top passages for a question.

    Example: HybridRetriever(passages, vectors, embedder).search("what is RFA?", k=3)
    """

    def __init__(self, passages: list[Passage], vectors: faiss.Index, encoder: Encoder) -> None:
        if vectors.ntotal != len(passages):
            raise ValueError(f"{vectors.ntotal} vectors for {len(passages)} passages")
        self.passages = passages
        self._vectors = vectors
        self._encoder = encoder
        self._lexical = LexicalIndex(passages)

    def tokens(self, text: str) -> list[str]:
        """The lexical index's terms for text (stemmed, function words dropped)."""
        return self._lexical.tokens(text)

    def search(self, query: str, k: int = 5, query_vector: np.ndarray | None = None) -> list[SearchHit]:
        """Best k passages; pass query_vector (shape 1 x d) when the query is already encoded."""
        if not query.strip() or not self.passages:
            return []
        pool = min(CANDIDATES, len(self.passages))

        if query_vector is None:
            query_vector = self._encoder.encode([query])
        dense_scores, dense_ids = self._vectors.search(query_vector, pool)
        dense = {int(i): float(s) for i, s in zip(dense_ids[0], dense_scores[0], strict=True) if i >= 0}
        dense_ranking = list(dense)

        lexical_all = self._lexical.scores(query)
        # Stable sort: equal scores keep corpus order, so results never depend on chance.
        order = np.argsort(-lexical_all, kind="stable")[:pool]
        lexical_ranking = [int(i) for i in order if lexical_all[i] > 0]

        fused = reciprocal_rank_fusion([dense_ranking, lexical_ranking])
        best = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        dense_rank = {i: r for r, i in enumerate(dense_ranking, start=1)}
        lexical_rank = {i: r for r, i in enumerate(lexical_ranking, start=1)}
        return [
            SearchHit(
                passage=self.passages[i],
                fused_score=fused[i],
                dense_score=dense.get(i, 0.0),
                lexical_score=float(lexical_all[i]),
                dense_rank=dense_rank.get(i, 0),
                lexical_rank=lexical_rank.get(i, 0),
            )
            for i in best
        ]
