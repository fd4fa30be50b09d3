"""The frozen check split (evals/guard/check/, written blind, never tuned on) through the whole
guardrail, rules and classifier, with the real model: a regression gate at the figures the
README reports (evals/guard/gates.yaml). bench/guardrail.py prints the full table."""

from __future__ import annotations

import logging

import pytest
import yaml

from askpain.evals.guardsets import GUARD_SETS, load_guard_split
from askpain.guard.engine import detect_in_conversation, detect_red_flags
from askpain.guard.rules import RED_FLAG_IDS

GATES = yaml.safe_load((GUARD_SETS / "gates.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def results(embedder):
    logging.disable(logging.WARNING)
    try:
        items = load_guard_split("check")
        out = []
        for item in items:

            def detect(text: str):
                return detect_red_flags(text, encode=embedder.encode)

            result = detect_in_conversation(list(item.turns), detect)
            out.append((item, {f.id for f in result.alerts}))
        return out
    finally:
        logging.disable(logging.NOTSET)


def test_red_flags_raised_on_the_check_split(results, capsys):
    singles = [(i, got) for i, got in results if len(i.turns) == 1 and i.flags]
    hits = {k: 0 for k in RED_FLAG_IDS}
    totals = {k: 0 for k in RED_FLAG_IDS}
    for item, got in singles:
        for flag_id in item.flags:
            totals[flag_id] += 1
            hits[flag_id] += flag_id in got
    recall = sum(hits.values()) / sum(totals.values())
    with capsys.disabled():
        print(f"\ncheck split: red flags raised {sum(hits.values())}/{sum(totals.values())} = {recall:.1%}")
        for flag_id in RED_FLAG_IDS:
            print(f"  {flag_id:22} {hits[flag_id]}/{totals[flag_id]}")
    assert recall >= GATES["min_recall"]
    for flag_id in RED_FLAG_IDS:
        assert hits[flag_id] / totals[flag_id] >= GATES["min_recall_per_id"], flag_id


def test_false_alarms_on_the_check_split(results, capsys):
    near = [(i, got) for i, got in results if len(i.turns) == 1 and not i.flags]
    alarms = [(i.text, sorted(got)) for i, got in near if got]
    rate = len(alarms) / len(near)
    with capsys.disabled():
        print(f"\ncheck split: false alarms {len(alarms)}/{len(near)} = {rate:.1%}")
    assert rate <= GATES["max_false_alarm"], alarms[:10]


def test_signs_told_over_several_messages(results):
    talks = [(i, got) for i, got in results if len(i.turns) > 1 and i.flags]
    raised = sum(set(i.flags) <= got for i, got in talks)
    assert raised / len(talks) >= GATES["min_conversation_recall"]
