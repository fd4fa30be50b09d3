"""The help numbers on the page: the clinic's own numbers, set through Settings, as tap-to-call
and tap-to-text links in the alert cards; the answer record and the quoted documents unchanged.
(The same in a real browser: test_patient_page.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from askpain.errors import SettingsError
from askpain.settings import REPO_ROOT, Settings
from askpain.types import Answer
from askpain.web.help_numbers import HelpNumbers
from askpain.web.render import answer_html

CRISIS = "I want to kill myself"


def tap_links(html: str) -> list[tuple[str, str]]:
    """(href, text without markup) of each tel: and sms: link, in page order."""
    link = r'<a class="askpain-(?:tel|call askpain-(?:phone|text))" href="((?:tel|sms):[^"]*)">(.*?)</a>'
    found = re.findall(link, html)
    return [(href, re.sub(r"<[^>]+>", "", text).strip()) for href, text in found]


def test_defaults_are_the_us_numbers_of_the_wording():
    settings = Settings.from_env({})
    assert (settings.emergency_number, settings.crisis_number, settings.crisis_text_number) == (
        "911",
        "988",
        "988",
    )


def test_page_shows_the_clinic_numbers_but_the_record_keeps_the_wording(askpain):
    settings = Settings.from_env(
        {
            "ASKPAIN_EMERGENCY_NUMBER": "112",
            "ASKPAIN_CRISIS_NUMBER": "116 123",
            "ASKPAIN_CRISIS_TEXT_NUMBER": "85258",
        }
    )
    answer = askpain.ask(CRISIS)
    html = answer_html(answer, 1, numbers=HelpNumbers.from_settings(settings))
    card = html.split("</div>")[0]
    assert tap_links(card) == [
        ("tel:116123", "116 123"),
        ("tel:112", "112"),
        ("tel:116123", "Call 116 123"),
        ("sms:85258", "Text 85258"),
        ("tel:112", "Call 112"),
    ]
    assert not re.search(r"\b(911|988)\b", re.sub(r"<[^>]+>", "", html))
    record = json.dumps(answer.to_record())  # the JSON answer is the wording, as it was
    assert "988" in record and "911" in record and "tel:" not in record and "116 123" not in record


def test_a_crisis_line_without_texts_gets_no_text_link(askpain):
    settings = Settings.from_env({"ASKPAIN_CRISIS_NUMBER": "116 123", "ASKPAIN_CRISIS_TEXT_NUMBER": "off"})
    html = answer_html(askpain.ask(CRISIS), 1, numbers=HelpNumbers.from_settings(settings))
    assert ("tel:116123", "Call 116 123") in tap_links(html)
    assert "sms:" not in html and "Text" not in html.split("</div>")[0]


def test_only_the_wordings_numbers_become_links_and_quotes_stay_word_for_word():
    numbers = HelpNumbers(emergency="112")
    assert numbers.link("Call 911. Room 1911, ext 911-2, 9110") == (
        'Call <a class="askpain-tel" href="tel:112">112</a>. Room 1911, ext 911-2, 9110'
    )
    quoted = Answer(
        question="q",
        status="answered",
        answer="",
        citations=(),
        red_flags=(),
        body="In the US, call 911 if you cannot move your legs. [1]",
    )
    quote = re.search(r'<p class="askpain-quote">.*?</p>', answer_html(quoted, 1, numbers=numbers)).group(0)
    assert "call 911 if you cannot" in quote and "tel:" not in quote


@pytest.mark.parametrize("value", ["nine one one", "911<script>", "+", "1", "1234567890123456", "911 ext 2"])
def test_a_number_that_cannot_be_dialled_is_refused_with_the_variable_named(value):
    with pytest.raises(SettingsError, match="ASKPAIN_EMERGENCY_NUMBER must be a phone number"):
        Settings.from_env({"ASKPAIN_EMERGENCY_NUMBER": value})


def test_the_chat_page_will_not_start_with_a_wrong_number_and_says_why():
    env = {**os.environ, "ASKPAIN_CRISIS_NUMBER": "call 988", "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "app.py")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert done.stderr.strip() == (
        "askpain: ASKPAIN_CRISIS_NUMBER must be a phone number: digits, an optional leading +, spaces "
        "or dashes between digits (e.g. 112 or 116 123), got 'call 988'"
    )


@pytest.mark.parametrize(
    ("text_number", "says"), [("85258", "Call or text 116 123."), ("off", "Call 116 123.")]
)
def test_a_clinics_own_crisis_line_is_not_called_the_us_lifeline(askpain, text_number, says):
    """The wording's "In the US, call or text 988 (Suicide & Crisis Lifeline). In other countries,
    call your local … crisis line." would put "In the US" before a UK number: the page says just
    to call (or text) the clinic's line. The record keeps the wording."""
    settings = Settings.from_env(
        {"ASKPAIN_CRISIS_NUMBER": "116 123", "ASKPAIN_CRISIS_TEXT_NUMBER": text_number}
    )
    answer = askpain.ask(CRISIS)
    shown = re.sub(r"<[^>]+>", "", answer_html(answer, 1, numbers=HelpNumbers.from_settings(settings)))
    assert says in shown
    for us_only in ("In the US", "Suicide", "Lifeline", "In other countries", "In other places"):
        assert us_only not in shown, us_only
    assert "In the US, call or text 988 (Suicide & Crisis Lifeline)." in answer.to_record()["answer"]
    # With the US numbers (the default), the wording stays as written.
    default = re.sub(r"<[^>]+>", "", answer_html(answer, 1))
    assert "In the US, call or text 988 (Suicide &amp; Crisis Lifeline)." in default
