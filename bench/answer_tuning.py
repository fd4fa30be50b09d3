"""Tune how sentences are ranked and when askpain declines, on the answers dev split only
(evals/answers/dev/; never on evals/answers/check/, which is frozen).

Each dev question goes through the real pipeline once; the arguments of select_sentences are
kept, and every setting of the grid re-runs only the selection. Prints, per setting: the
answer among the first two quoted sentences, answerable questions with no answering sentence,
answerable questions refused, and unanswerable questions declined without quoting.
Run: .venv/bin/python bench/answer_tuning.py
"""

from __future__ import annotations

import itertools
from unittest import mock

from askpain.answer import pipeline, sentences
from askpain.answer.pipeline import Askpain
from askpain.evals.questionset import contains_phrase, load_question_set
from askpain.settings import REPO_ROOT

DEV = REPO_ROOT / "evals" / "answers" / "dev"
GRID = {
    "EVIDENCE_WEIGHT": [0.5, 0.6, 0.7],
    "NO_EVIDENCE": [0.3, 0.5],
    "DIRECT_SHARE": [0.0, 0.8, 0.9, 1.0],
    "MIN_RANK": [0.36, 0.40, 0.44, 0.48, 0.52],
    "STRONG_EVIDENCE": [0.80, 0.85, 0.88, 0.90, 0.95],
    "MAX_UNCOVERED": [0, 1],
    "KEEP_WITHIN": [0.08, 0.12],
}


def selections(askpain: Askpain, items: list[dict]) -> list[tuple]:
    """(item, the arguments select_sentences got) for every item, through the real pipeline."""
    kept: list[tuple] = []

    def keep(*args):
        kept.append(args)
        return sentences.select_sentences(*args)

    out = []
    with mock.patch.object(pipeline, "select_sentences", keep):
        for item in items:
            kept.clear()
            askpain.ask(item["question"])
            out.append((item, kept[0] if kept else None))
    return out


def score(selected: list[tuple]) -> tuple[float, float, float, float]:
    first_two = none = refused = answerable = declined = unanswerable = 0
    for item, args in selected:
        chosen = [c.text for c in sentences.select_sentences(*args)] if args else []
        if item["category"] == "answerable":
            answerable += 1
            hits = [k for k, text in enumerate(chosen) if contains_phrase(text, item["expect"]["support"])]
            first_two += bool(hits) and hits[0] < 2
            none += not hits
            refused += not chosen
        elif item["category"] == "unanswerable":
            unanswerable += 1
            declined += not chosen
    return first_two / answerable, none / answerable, refused / answerable, declined / unanswerable


def main() -> None:
    items = [i for f in sorted(DEV.glob("*.yaml")) for i in load_question_set(f)]
    askpain = Askpain.open()
    selected = selections(askpain, items)
    print(f"{len(items)} dev questions\n")
    names = list(GRID)
    rows = []
    for values in itertools.product(*GRID.values()):
        with mock.patch.multiple(sentences, **dict(zip(names, values, strict=True))):
            rows.append((values, score(selected)))
    current = tuple(getattr(sentences, n) for n in names)
    # Best first by first-two + declined (both targets), then fewest with no answering sentence.
    rows.sort(key=lambda r: (-(r[1][0] + r[1][3]), r[1][1]))
    header = f"{'first two':>10}{'none':>7}{'refused':>9}{'declined':>10}"
    print("  ".join(f"{n.lower():>12.12}" for n in names), header)
    for values, (first_two, none, refused, declined) in rows[:15] + [r for r in rows if r[0] == current]:
        mark = "  <- current" if values == current else ""
        print(
            "  ".join(f"{v:>12.2f}" for v in values),
            f"{first_two:>10.1%}{none:>7.1%}{refused:>9.1%}{declined:>10.1%}{mark}",
        )


if __name__ == "__main__":
    main()
