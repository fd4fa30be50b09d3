"""Reciprocal rank fusion: combine rankings by position, not by incomparable raw scores."""

from __future__ import annotations

from collections.abc import Sequence

# k = 60 is the constant of Cormack, Clarke and Büttcher (SIGIR 2009): large enough that
# a passage ranked first by one method cannot drown out agreement between methods.
RRF_K = 60


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """Fused score per item: the sum over rankings of 1 / (k + rank), rank starting at 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return scores
