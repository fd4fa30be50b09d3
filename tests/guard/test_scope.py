"""Scope decisions on a table of questions, with real retrieval evidence."""

from pathlib import Path

import pytest
import yaml

from askpain.guard.scope import classify_scope

TABLE = yaml.safe_load((Path(__file__).parent / "scope.yaml").read_text())
CASES = [(status, text) for status, texts in TABLE.items() for text in texts]


def test_table_covers_each_status():
    assert len(TABLE["in_scope"]) >= 40
    assert len(TABLE["out_of_scope"]) >= 40
    assert len(TABLE["needs_clinician"]) >= 30


@pytest.mark.parametrize(("expected", "text"), CASES)
def test_scope(retriever, expected, text):
    best = max((h.dense_score for h in retriever.search(text, k=5)), default=0.0)
    assert classify_scope(text, best).status == expected


@pytest.mark.parametrize(
    "text", ["how many mg of prednisone?", "can I take 2 pills at once", "what dosage of gabapentin"]
)
def test_dose_questions_need_the_care_team(text):
    decision = classify_scope(text, best_dense=0.5)
    assert decision.status == "needs_clinician" and decision.reason == "dose question"
