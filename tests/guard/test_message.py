import pytest

from askpain.guard.message import ANSWER_PREFIX_CHARS, canonicalize, edit_distance, read_message


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  what is RFA?  ", "what is RFA?"),
        ("what\x00 is\x07 RFA", "what is RFA"),
        ("blad\u200bder", "bladder"),
        ("ＲＦＡ", "RFA"),
        (b"what is \xff RFA", "what is   RFA"),
        ("line one\nline two", "line one\nline two"),
    ],
)
def test_read_message(raw, clean):
    assert read_message(raw).text == clean


def test_long_message_is_answered_on_a_bounded_prefix_but_kept_whole():
    cleaned = read_message("word " * 10_000)
    assert cleaned.truncated and len(cleaned.answer_text) <= ANSWER_PREFIX_CHARS
    assert len(cleaned.text) > 40_000


def test_canonical_form_and_offsets_back_to_the_source():
    text = "I CAN’T controll my bladdr!!"
    canon = canonicalize(text, lambda w: {"controll": "control", "bladdr": "bladder"}.get(w, w))
    assert canon.text == "i can't control my bladder ! !"
    i, j = canon.token_range(canon.text.index("can't"), canon.text.index(" !"))
    assert text[canon.source_spans[i][0] : canon.source_spans[j - 1][1]] == "CAN’T controll my bladdr"


@pytest.mark.parametrize(
    ("a", "b", "d"), [("bladder", "bladdr", 1), ("fever", "fevre", 1), ("abc", "xyz", 3)]
)
def test_edit_distance(a, b, d):
    assert edit_distance(a, b, limit=3) == d
