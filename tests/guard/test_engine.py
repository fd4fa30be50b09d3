"""The guardrail on tables of real patient wording (tests/guard/red_flags.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from askpain.guard.engine import FAIL_SAFE, backing_passage, detect_red_flags
from askpain.guard.message import MAX_MESSAGE_CHARS
from askpain.guard.rules import RED_FLAG_IDS, compile_table, default_table
from askpain.ingest.chunking import chunk_corpus
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT

TABLE = yaml.safe_load((Path(__file__).parent / "red_flags.yaml").read_text())
POSITIVES = [(rid, text) for rid, texts in TABLE["positives"].items() for text in texts]
NEAR_MISSES = TABLE["near_misses"]
ASKED = [(rid, text) for rid, texts in TABLE["asked"].items() for text in texts]
MAX_FALSE_ALARM_RATE = 0.02


def alert_ids(text: str) -> list[str]:
    return [flag.id for flag in detect_red_flags(text).alerts]


def test_tables_are_big_enough_to_mean_something():
    assert len(POSITIVES) >= 300
    assert {rid for rid, _ in POSITIVES} == set(RED_FLAG_IDS)
    assert len(NEAR_MISSES) >= 150


@pytest.mark.parametrize(("red_flag", "text"), POSITIVES)
def test_every_positive_is_raised(red_flag, text):
    assert red_flag in alert_ids(text)


@pytest.mark.parametrize("case", TABLE["multi"], ids=lambda c: c["text"][:40])
def test_each_red_flag_in_one_message_is_raised(case):
    assert set(case["expect"]) <= set(alert_ids(case["text"]))


def test_false_alarm_rate_on_near_misses(capsys):
    alarms = [(text, alert_ids(text)) for text in NEAR_MISSES if alert_ids(text)]
    rate = len(alarms) / len(NEAR_MISSES)
    with capsys.disabled():
        print(f"\nguardrail false alarms: {len(alarms)}/{len(NEAR_MISSES)} = {rate:.1%}")
    assert rate <= MAX_FALSE_ALARM_RATE, alarms


@pytest.mark.parametrize(("red_flag", "text"), ASKED)
def test_asking_about_a_condition_gives_its_card_not_an_alert(red_flag, text):
    result = detect_red_flags(text)
    assert red_flag in [card.id for card in result.cards]
    assert result.alerts == ()
    card = next(c for c in result.cards if c.id == red_flag)
    assert card.asked and card.message == next(
        r.info_message for r in default_table().rules if r.id == red_flag
    )


def test_emergencies_come_first_then_table_order():
    result = detect_red_flags("I have a fever and I can't control my bladder and I fell down the stairs")
    assert [f.id for f in result.alerts] == ["cauda_equina", "infection", "fracture"]
    assert [f.urgency for f in result.alerts] == ["emergency", "urgent", "urgent"]


def test_matched_words_are_the_patients_own():
    (flag,) = detect_red_flags("Well… I CAN’T controll my bladdr since Monday").alerts
    assert flag.matched == "CAN’T controll my bladdr"


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_red_flag_buried_in_a_message_at_the_length_cap(where):
    filler = "My back has been sore and I have questions about physical therapy. " * 740
    flag = " I can't feel the toilet paper when I wipe. "
    half = len(filler) // 2
    text = {"start": flag + filler, "middle": filler[:half] + flag + filler[half:], "end": filler + flag}[
        where
    ]
    assert 49_000 < len(text) <= MAX_MESSAGE_CHARS
    assert alert_ids(text) == ["cauda_equina"]


@pytest.mark.parametrize(
    "text",
    [
        "blad\u200bder problems",
        "I canttt controlll my bladddder",
        "bladder\u00a0problems",
        "ＢＬＡＤＤＥＲ problems",
    ],
)
def test_invisible_characters_repeats_and_wide_letters_do_not_hide_a_flag(text):
    assert alert_ids(text) == ["cauda_equina"]


def test_broken_guardrail_fails_safe(monkeypatch):
    import askpain.guard.engine as guardrail

    def explode(*args, **kwargs):
        raise RuntimeError("bug in a rule")

    monkeypatch.setattr(guardrail, "_scan", explode)
    result = detect_red_flags("what is RFA?")
    assert result.failed and result.alerts == (FAIL_SAFE,)
    assert "emergency" in FAIL_SAFE.message


def test_rule_table_has_one_rule_per_schema_id_and_rejects_others():
    schema = REPO_ROOT.parent / "shared" / "spec" / "answer.schema.json"
    if schema.exists():
        ids = json.loads(schema.read_text())["properties"]["red_flags"]["items"]["properties"]["id"]["enum"]
        assert list(RED_FLAG_IDS) == ids
    assert [r.id for r in default_table().rules] == list(RED_FLAG_IDS)
    data = yaml.safe_load((REPO_ROOT / "src" / "askpain" / "guard" / "data" / "red_flags.yaml").read_text())
    data["rules"][0]["id"] = "not_a_schema_id"
    with pytest.raises(ValueError, match="not in the answer schema"):
        compile_table(data, frozenset())


def test_emergency_messages_say_to_call_now_and_self_harm_gives_a_crisis_line():
    for rule in default_table().rules:
        if rule.urgency == "emergency":
            assert "911" in rule.message, rule.id
        else:
            assert "clinic today" in rule.message, rule.id
    self_harm = next(r for r in default_table().rules if r.id == "self_harm")
    assert "988" in self_harm.message


def _grade_level(text: str) -> float:
    """Flesch-Kincaid grade, with a rough syllable count."""
    import re

    words = re.findall(r"[A-Za-z']+", text)
    sentences = max(1, len(re.findall(r"[.!?]+", text)))
    syllables = sum(max(1, len(re.findall(r"[aeiouy]+", w.lower().rstrip("e")))) for w in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def test_patient_messages_are_plain_words():
    for rule in default_table().rules:
        # Aim: 6th grade; allow up to 8th (medical names such as "cauda equina" count high).
        assert _grade_level(rule.message) <= 8.5, (rule.id, round(_grade_level(rule.message), 1))


def test_backed_warnings_cite_a_real_corpus_passage():
    passages = chunk_corpus(load_corpus(REPO_ROOT / "corpus"), 700)
    backed = {r.id for r in default_table().rules if r.backed_by}
    assert {"cauda_equina", "neurological_deficit"} <= backed
    for text, rid in [("I wet myself", "cauda_equina"), ("my foot drags", "neurological_deficit")]:
        (flag,) = detect_red_flags(text).alerts
        passage = backing_passage(flag, passages)
        assert flag.id == rid and passage is not None and flag.backed_by in passage.text
    (fever,) = detect_red_flags("I have a fever").alerts
    assert backing_passage(fever, passages) is None
