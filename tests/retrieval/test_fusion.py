import pytest

from askpain.retrieval.fusion import RRF_K, reciprocal_rank_fusion


def test_agreement_beats_a_single_first_place():
    scores = reciprocal_rank_fusion([[1, 2, 3], [2, 4, 1]])
    assert max(scores, key=scores.get) == 2
    assert scores[2] == pytest.approx(1 / (RRF_K + 2) + 1 / (RRF_K + 1))


def test_item_in_one_ranking_only_still_scores():
    assert reciprocal_rank_fusion([[7], []]) == {7: pytest.approx(1 / (RRF_K + 1))}
