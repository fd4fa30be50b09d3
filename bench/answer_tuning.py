"""Tune sentence scoring and the no-answer threshold on the dev sets (never on evals/questions.yaml).

Prints, per setting: support (a cited passage holds the expected phrase), support@1 (the
first citation does), and the share of unanswerable questions that get no_answer.
Run: .venv/bin/python bench/answer_tuning.py
"""

from __future__ import annotations

import itertools
from unittest import mock

from askpain.answer import sentences
from askpain.answer.pipeline import Askpain
from askpain.evals.questionset import contains_phrase, load_question_set
from askpain.settings import REPO_ROOT

WEIGHT_GRID = [
    {"sentence": 0.6, "passage": 0.25, "overlap": 0.15},
    {"sentence": 0.7, "passage": 0.1, "overlap": 0.2},
    {"sentence": 0.5, "passage": 0.2, "overlap": 0.3},
    {"sentence": 1.0, "passage": 0.0, "overlap": 0.0},
]
THRESHOLDS = [0.30, 0.34, 0.38]


def main() -> None:
    answerable = load_question_set(REPO_ROOT / "evals" / "retrieval.yaml")
    unanswerable = load_question_set(REPO_ROOT / "evals" / "dev_no_answer.yaml")
    askpain = Askpain.open()
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable dev questions\n")
    print(f"{'weights (sentence/passage/overlap)':36}{'min':>6}{'support':>9}{'@1':>7}{'no-ans':>8}")
    for weights, threshold in itertools.product(WEIGHT_GRID, THRESHOLDS):
        with (
            mock.patch.dict(sentences.WEIGHTS, weights),
            mock.patch.object(sentences, "MIN_ANSWER_SCORE", threshold),
        ):
            support = at1 = 0
            for item in answerable:
                answer = askpain.ask(item["question"])
                phrases = item["expect"]["support"]
                support += any(contains_phrase(c.passage.text, phrases) for c in answer.citations)
                at1 += bool(answer.citations) and contains_phrase(answer.citations[0].passage.text, phrases)
            refused = sum(askpain.ask(i["question"]).status in i["expect"]["status"] for i in unanswerable)
        label = "/".join(f"{v:.2f}" for v in weights.values())
        print(
            f"{label:36}{threshold:>6.2f}{support / len(answerable):>9.1%}"
            f"{at1 / len(answerable):>7.1%}{refused / len(unanswerable):>8.1%}"
        )


if __name__ == "__main__":
    main()
