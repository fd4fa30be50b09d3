"""The one-pass word index finds exactly what the rule regexes find, however long the message."""

from __future__ import annotations

import random

import pytest

from askpain.evals.guardsets import load_guard_split, load_rule_table
from askpain.guard.message import read_message
from askpain.guard.rules import default_table
from askpain.guard.wordindex import WordAlternation, WordIndex, heads


def _texts() -> list[str]:
    items = load_guard_split("dev") + load_rule_table()
    texts = [turn for item in items for turn in item.turns]
    words = " ".join(texts).split()
    rnd = random.Random(7)  # word salad: matches in places no one wrote on purpose
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 40))) for _ in range(500)]
    return texts


def test_the_index_finds_every_match_the_rule_regexes_find():
    """A missed match would be a missed red flag: every span, in order, for every rule."""
    table = default_table()
    differences = []
    for text in _texts():
        canon = read_message(text).canonical
        found = table.index.scan(canon.text, canon.tokens, canon.starts)
        for n, alternation in enumerate(table.index.alternations):
            expected = (
                [m.span() for m in alternation.pattern.finditer(canon.text)]
                if alternation.alternatives
                else []
            )
            if [m.span() for m in found[n]] != expected:
                differences.append((n, text))
    assert differences == []


@pytest.mark.parametrize(
    ("pattern", "text", "spans"),
    [
        ("(?:my|the)? ?groin (?:is|feels) numb", "oh my groin feels numb", [(3, 22)]),
        ("[0-9]+ mins? on the loo", "sat 40 mins on the loo", [(4, 22)]),
        ("(?<!first )night sweats", "first night sweats then night sweats", [(24, 36)]),
        ("injec[a-z]* site", "the injection site and injecton site", [(4, 18), (23, 36)]),
        ("(?=[a-z]+ pee)[a-z]+ pee", "can't pee", []),  # an apostrophe is inside the word
        ("can't pee", "i can't pee", [(2, 11)]),
    ],
)
def test_patterns_of_every_shape_match_as_the_regex_does(pattern, text, spans):
    index = WordIndex([WordAlternation([pattern])])
    canon = read_message(text).canonical
    assert [m.span() for m in index.scan(canon.text, canon.tokens, canon.starts)[0]] == spans
    assert [m.span() for m in index.alternations[0].pattern.finditer(canon.text)] == spans


def test_heads_name_the_words_an_alternative_can_start_with():
    assert heads("(?:my|the) groin") == {"my groin ", "the groin "}
    assert heads("injec[a-z]*") == {"injec", "injec "}  # begun, or the whole word
    assert heads("[a-z']+ numb") == {""}  # could start anywhere: tried at every word
