"""Fixed patient wording reads at grade 6 or below, and no alert heading repeats itself.

Fixed wording is every sentence askpain shows that is not quoted from the corpus: the red-flag
titles and messages (red_flags.yaml), answer/data/wording.yaml, the guardrail's FAIL_SAFE and the
chat page's own text (web/patient.py).
Grade is Flesch-Kincaid (textstat), on the text as the patient sees it (Markdown stripped).
"""

from __future__ import annotations

import html
import re
from importlib import resources

import pytest
import textstat
import yaml

from askpain.answer.compose import Situation, compose_answer, default_wording
from askpain.guard.engine import FAIL_SAFE, GuardrailResult
from askpain.guard.message import read_message
from askpain.guard.rules import default_table
from askpain.types import RedFlag
from askpain.web import patient
from askpain.web.render import answer_html

MAX_GRADE = 6.0
WORDING = default_wording()
RULES = default_table().rules


def plain(text: str) -> str:
    """The text as read: **bold** and _italic_ markers dropped, whitespace collapsed."""
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", text)
    text = re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)
    return " ".join(text.split())


def _strings(value, name: str):
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{name}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _strings(item, f"{name}[{n}]")
    else:
        raise TypeError(f"{name}: unexpected {type(value).__name__} in wording.yaml")


def fixed_texts() -> list[tuple[str, str]]:
    texts = [
        (f"red_flags.{rule.id}.{field}", getattr(rule, field))
        for rule in RULES
        for field in ("title", "message", "info_message")
    ]
    raw = yaml.safe_load((resources.files("askpain.answer") / "data" / "wording.yaml").read_text("utf-8"))
    # A one-word label has no grade of its own ("EMERGENCY" alone scores 32): the alert
    # headings are graded as read, at the top of their cards (test_every_card_reads_at_grade_6).
    texts += [(n, t) for n, t in _strings(raw, "wording") if not n.startswith("wording.alert_heading.")]
    texts += [("FAIL_SAFE.title", FAIL_SAFE.title), ("FAIL_SAFE.message", FAIL_SAFE.message)]
    table = default_table()
    texts += [("red_flags.helper_lead", table.helper_lead), ("red_flags.earlier_lead", table.earlier_lead)]
    # The chat page's own text, as shown (its HTML tags and the "# askpain" title dropped).
    texts += [
        (f"page.{name}", html.unescape(re.sub(r"<[^>]+>", " ", text)).removeprefix("# askpain"))
        for name, text in ((n, getattr(patient, n)) for n in ("LEAD", "INTRO", "SORRY", "PRINT_HEADING"))
    ]
    return texts


def flags() -> list[RedFlag]:
    """Every card the patient can see: each rule as an alert and as an info card, and FAIL_SAFE."""
    alerts = [RedFlag(r.id, r.urgency, r.title, r.message, "", False) for r in RULES]
    cards = [RedFlag(r.id, r.urgency, r.title, r.info_message, "", True) for r in RULES]
    return [*alerts, *cards, FAIL_SAFE]


def flag_name(flag: RedFlag) -> str:
    return "FAIL_SAFE" if flag is FAIL_SAFE else f"{flag.id}.{'card' if flag.asked else 'alert'}"


def grade(text: str) -> float:
    return textstat.flesch_kincaid_grade(plain(text))


@pytest.mark.parametrize(("name", "text"), fixed_texts(), ids=[n for n, _ in fixed_texts()])
def test_fixed_text_reads_at_grade_6(name, text):
    assert plain(text), name
    assert grade(text) <= MAX_GRADE, f"{name}: grade {grade(text):.1f} > {MAX_GRADE}: {plain(text)}"


@pytest.mark.parametrize("flag", flags(), ids=flag_name)
def test_every_card_reads_at_grade_6(flag):
    heading = WORDING.card_heading if flag.asked else WORDING.alert_heading[flag.urgency]
    card = f"{heading}: {flag.title}. {flag.message}"
    assert grade(card) <= MAX_GRADE, f"{flag_name(flag)}: grade {grade(card):.1f} > {MAX_GRADE}: {card}"


# Small words a heading and its title may share ("Good to know: ... reaction to a shot").
_FUNCTION_WORDS = frozenset("a an the to of in on at for or and is be you your".split())


def repeated_words(heading: str) -> set[str]:
    """Words of the heading's label ("EMERGENCY") that its title repeats ("Possible emergency")."""
    label, title = heading.split(": ", 1)

    def words(text: str) -> set[str]:
        return {w for w in re.findall(r"[a-z]+", text.lower()) if w not in _FUNCTION_WORDS}

    # Same word, or the same stem: "urgent"/"urgently", "emergency"/"emergencies".
    return {
        w
        for w in words(label)
        for t in words(title)
        if w == t or (min(len(w), len(t)) >= 5 and w[:5] == t[:5])
    }


def rendered_headings(flag: RedFlag) -> list[str]:
    """The card's heading as the patient sees it, in the Markdown answer and on the web page."""
    failed = flag is FAIL_SAFE
    guard = GuardrailResult(
        alerts=() if flag.asked else (flag,), cards=(flag,) if flag.asked else (), failed=failed
    )
    answer = compose_answer(Situation(message=read_message("hello"), guard=guard))
    markdown = re.findall(r"^> \S+ \*\*(.+?)\*\*", answer.answer, flags=re.M)
    page = re.findall(r'class="askpain-card-title">.*?<strong>(.+?)</strong>', answer_html(answer, 0))
    return markdown + [html.unescape(h) for h in page]


def test_the_repeat_check_catches_the_old_titles():
    assert repeated_words("EMERGENCY: Possible emergency — pressure on the nerves") == {"emergency"}
    assert repeated_words("URGENT: Urgent — possible infection") == {"urgent"}
    assert repeated_words("EMERGENCY: Pressure on the nerves at the base of your spine") == set()


@pytest.mark.parametrize("flag", flags(), ids=flag_name)
def test_no_heading_repeats_itself(flag):
    headings = rendered_headings(flag)
    assert len(headings) == 2, headings  # one in the Markdown answer, one on the page
    for heading in headings:
        assert heading.endswith(f": {flag.title}"), heading
        assert not repeated_words(heading), f"{heading!r} repeats {sorted(repeated_words(heading))}"
