"""Text hygiene at the door: evasions of the guardrail's words, applied to every positive of the
rule table, must not hide the red flag; and markup or odd bytes never break a reply."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from askpain.guard.engine import detect_red_flags
from askpain.guard.hygiene import clean, join_spaced_letters, latin_skeleton, safe_text, strip_markup

TABLE = yaml.safe_load((Path(__file__).parent / "red_flags.yaml").read_text())
POSITIVES = [(flag_id, text) for flag_id, texts in TABLE["positives"].items() for text in texts]

CYRILLIC = str.maketrans({"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у"})
LEET = str.maketrans({"a": "4", "e": "3", "o": "0", "s": "5", "t": "7"})
# Invisible characters that are not Unicode format characters (seen getting through before).
INVISIBLE = ["\u034f", "\u115f", "\u1160", "\u3164", "\uffa0", "\u2800", "\u17b4", "\u200b", "\u2060"]


def _key_word(text: str) -> str:
    """The longest word of a message: the one an evasion would disguise."""
    return max(re.findall(r"[A-Za-z]{4,}", text) or [text], key=len)


def _evade(text: str, how: str) -> str:
    word = _key_word(text)
    middle = len(word) // 2
    disguised = {
        "spaced": " ".join(word),
        "leet": word[0] + word[1:].translate(LEET),
        "cyrillic": word[0] + word[1:].translate(CYRILLIC),
        "newline": word[:middle] + "\n" + word[middle:],
        **{f"U+{ord(ch):04X}": word[:middle] + ch + word[middle:] for ch in INVISIBLE},
    }
    if how == "html":
        return f"<p><b>{text}</b></p>"
    if how == "markdown":
        return f"**{text}** ![x](http://127.0.0.1:9/x.png)"
    return text.replace(word, disguised[how], 1)


EVASIONS = [
    "spaced",
    "leet",
    "cyrillic",
    "newline",
    "html",
    "markdown",
    *[f"U+{ord(c):04X}" for c in INVISIBLE],
]


@pytest.mark.parametrize("how", EVASIONS)
def test_evasions_do_not_hide_red_flags(how, capsys):
    missed = []
    for flag_id, text in POSITIVES:
        if flag_id not in {f.id for f in detect_red_flags(_evade(text, how)).alerts}:
            missed.append(_evade(text, how))
    with capsys.disabled():
        print(f"\n{how}: {len(POSITIVES) - len(missed)}/{len(POSITIVES)} raised")
    # Spelled-out letters run into a neighbouring "a" or "i" ("a f e v e r" reads "afever"),
    # and digits for letters can make a word the typo rules cannot restore; every other
    # evasion must change nothing.
    allowed = {"leet": 0.02, "spaced": 0.03}.get(how, 0.0)
    assert len(missed) <= allowed * len(POSITIVES), missed[:10]


def test_style_block_is_not_read_as_negation():
    result = detect_red_flags("<style>*{display:none}</style> my throat is swelling")
    assert [f.id for f in result.alerts] == ["allergic_reaction"]


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("<b>can't</b> pee", "can't pee"),
        ("![chart](http://x/y.png) numb", "chart numb"),
        ("[link](http://x) text", "link text"),
        ("pain &lt; 5 &amp; better", "pain < 5 & better"),
        ("pain < 5", "pain < 5"),
    ],
)
def test_markup_is_taken_out_and_words_stay(raw, plain):
    assert " ".join(strip_markup(raw).split()) == plain


def test_lookalike_letters_only_inside_mixed_words():
    assert latin_skeleton("blаdder") == "bladder"  # Cyrillic а inside a Latin word
    assert latin_skeleton("мочевой пузырь") == "мочевой пузырь"  # Russian stays Russian


def test_spaced_letters_are_joined_but_short_runs_are_not():
    assert join_spaced_letters("my b l a d d e r") == "my bladder"
    assert join_spaced_letters("I a m ok") == "I a m ok"


@pytest.mark.parametrize("raw", ["I can't control my bladder \udcff", b"I can't control my bladder \xff"])
def test_lone_surrogates_and_bad_bytes_become_replacement_characters(raw):
    text = safe_text(raw)
    text.encode("utf-8")  # never raises
    assert [f.id for f in detect_red_flags(clean(raw)).alerts] == ["cauda_equina"]
