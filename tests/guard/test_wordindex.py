"""The one-pass word index finds exactly what the rule regexes find, however long the message."""

from __future__ import annotations

import random
import re

import pytest

from askpain.evals.guardsets import load_guard_split, load_rule_table
from askpain.guard.message import read_message
from askpain.guard.rules import _GAP, default_table
from askpain.guard.wordindex import WordAlternation, WordIndex, branches, heads, initials, max_spaces


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


def test_max_spaces_bounds_the_words_a_match_spans():
    assert max_spaces("my (?:left )?leg") == 2
    assert max_spaces("(?:numb|no feeling)(?: [a-z']+){0,3}") == 4
    assert max_spaces("[a-z]+ [^.]+") is None  # no bound: a later part is never looked for


def test_branches_split_only_the_top_level_alternatives():
    assert branches("a|b (?:c|d)") == ["a", "b (?:c|d)"]
    assert branches("(?:(?:x)|(?:y|z))") == ["x", "y", "z"]  # one group around it all
    assert branches("(?:a|b) c") == ["(?:a|b) c"]
    assert branches("[|]x|y") == ["[|]x", "y"]
    assert branches(r"(a)\1|b") == [r"(a)\1|b"]  # numbered groups stay together


def test_initials_look_ahead_at_the_first_letter():
    assert initials("bladder|(?:my )?numb") == "(?=[bmn])"
    assert initials("[a-z']+ numb") == ""  # any letter: no look


# Two concepts, the second a phrase of up to three words: every distance around the gap's
# edge, negations in the gap, and the second concept's words alone.
_FIRST = "(?:groin|my (?:left )?leg)"
_SECOND = "(?:numb|no feeling(?: at all)?)"
_COMBINED = [
    "my leg numb",
    "my left leg is , so very numb",
    "my left leg one two three numb",
    "my left leg one two three four numb",
    "groin one two three numb and numb",
    "numb then groin",
    "no feeling at all in the groin",
    "no feeling at all one two three groin",  # the farthest the second concept can start
    "no feeling at all one two three four groin",
    "groin is not numb",
    "numb numb groin groin numb",
    "my left leg",
    "numb",
]


@pytest.mark.parametrize("text", _COMBINED)
def test_a_combination_is_skipped_only_where_its_next_concept_is_out_of_reach(text):
    orders = [(_FIRST, _SECOND), (_SECOND, _FIRST)]
    gap = _GAP.format(n=3)
    alternation = WordAlternation(
        [order[0] + gap + initials(order[1]) + order[1] for order in orders], parts=orders, gap=3
    )
    canon = read_message(text).canonical
    found = WordIndex([alternation]).scan(canon.text, canon.tokens, canon.starts)[0]
    assert [m.span() for m in found] == [m.span() for m in alternation.pattern.finditer(canon.text)]
    plain = re.compile(rf"(?<![\w'])(?:{'|'.join(f'(?:{o[0] + gap + o[1]})' for o in orders)})(?![\w'])")
    # The looks at first letters change nothing.
    assert [m.span() for m in found] == [m.span() for m in plain.finditer(canon.text)]
