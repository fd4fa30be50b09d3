"""The shipped eval set through the real pipeline, gated by evals/thresholds.yaml."""

import yaml

from askpain.evals.evaluate import below_thresholds, evaluate, summarize
from askpain.evals.questionset import load_question_set
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT


def test_eval_set_meets_the_gates(askpain, capsys):
    items = load_question_set(REPO_ROOT / "evals" / "questions.yaml")
    assert len(items) >= 200
    results = evaluate(items, lambda q: askpain.ask(q).to_record())
    summary = summarize(results, {d.doc_id: d.text for d in load_corpus(REPO_ROOT / "corpus")})
    with capsys.disabled():
        print(
            "\neval set: "
            + ", ".join(
                f"{k} {summary[k]:.3f}"
                for k in ("overall", "support", "support_at_1", "red_flag_sensitivity", "false_alarm_rate")
            )
        )
    thresholds = yaml.safe_load((REPO_ROOT / "evals" / "thresholds.yaml").read_text())
    failed = [r["id"] for r in results if not all(r["checks"].values())]
    assert below_thresholds(summary, thresholds) == [], failed
