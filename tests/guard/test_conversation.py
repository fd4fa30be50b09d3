"""Red flags across a conversation: a sign told in parts is raised, and a flag raised earlier
stays at the top of later replies."""

from __future__ import annotations

import pytest

from askpain.guard.engine import detect_in_conversation, detect_red_flags
from askpain.guard.rules import default_table


def ids(turns: list[str]) -> list[str]:
    return [f.id for f in detect_in_conversation(turns, detect_red_flags).alerts]


@pytest.mark.parametrize(
    ("turns", "flag"),
    [
        (["I've got this numbness since the shot", "it's in my groin and bum"], "cauda_equina"),
        (["my leg has been weird", "it's getting weaker every day"], "neurological_deficit"),
        (["since tuesday I've had the shivers", "and the injection spot is red and hot"], "infection"),
    ],
)
def test_a_sign_told_over_several_messages_is_raised(turns, flag):
    assert flag in ids(turns)


def test_an_earlier_flag_stays_on_top_of_later_replies_and_says_so():
    result = detect_in_conversation(["I can't pee since yesterday", "ok", "what is RFA?"], detect_red_flags)
    (flag,) = result.alerts
    assert flag.id == "cauda_equina" and flag.turn == 0
    assert flag.message.startswith(default_table().earlier_lead)


def test_the_current_message_comes_first():
    result = detect_in_conversation(["I can't pee", "my chest is crushing"], detect_red_flags)
    assert [f.id for f in result.alerts] == ["medical_emergency", "cauda_equina"]
    assert [f.turn for f in result.alerts] == [None, 0]


@pytest.mark.parametrize(
    "turns",
    [
        ["is numbness normal after the shot?", "what about physio?"],
        ["no bladder problems at all", "my leg is a bit stiff", "what else can I try"],
        ["I had a fever years ago", "anyway, does RFA work?"],
    ],
)
def test_benign_conversations_stay_calm(turns):
    assert ids(turns) == []


def test_someone_elses_sign_now_is_an_alert_for_the_helper():
    (flag,) = detect_red_flags("my mum can't pass water since her epidural yesterday").alerts
    assert flag.id == "cauda_equina" and flag.someone_else
    assert flag.message.startswith(default_table().helper_lead)


@pytest.mark.parametrize(
    "text",
    [
        "my dad had cauda equina surgery in 2010",
        "my sister has breast cancer",
        "my son is allergic to peanuts and gets hives",
    ],
)
def test_someone_elses_past_or_usual_illness_raises_nothing(text):
    assert detect_red_flags(text).alerts == ()
