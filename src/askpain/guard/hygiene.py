"""Text hygiene at the door: what a patient types, made plain before anything reads it.

Markup (HTML, CSS, Markdown) is taken out, every invisible and default-ignorable code point
removed, look-alike letters from other scripts inside a Latin word read as the Latin letter
(the skeletons of Unicode TR39, data from the confusable-homoglyphs package), and letters
spaced out one by one joined ("b l a d d e r"). So "<b>blаdder</b>" with a Cyrillic "а", or
"c a n ' t  p e e", reads as what the patient meant. Every step is linear in the text.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from functools import cache
from importlib import resources

import regex

_KEEP_CONTROLS = {"\n", "\t"}
# Unicode's Default_Ignorable_Code_Point (U+034F, U+115F, U+3164, U+FFA0, U+17B4, variation
# selectors, tags...), plus the blank braille pattern U+2800, which renders as a space.
_IGNORABLE = regex.compile(r"[\p{Default_Ignorable_Code_Point}\u2800]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_STYLE_OR_SCRIPT = re.compile(r"<(style|script)\b[^>]{0,500}>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]{0,500}>")
_MD_IMAGE = re.compile(r"!\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
_MD_LINK = re.compile(r"\[([^\]\n]{0,300})\]\([^)\n]{0,1000}\)")
_MD_MARKS = re.compile(r"\*{1,3}|~~|`+|^\s{0,3}(?:#{1,6}|>+)\s*", re.MULTILINE)
# Four or more single letters, each followed by one separator: "b l a d d e r", "p.e.e.i.n.g".
_SPACED = re.compile(r"(?<![\w'])(?:[^\W\d_]['’]?[ .\-_*·]){3,}[^\W\d_](?![\w'])")
_WORD = re.compile(r"[^\W\d_]+")
_SEPARATORS = " .-_*·"
_SEPARATOR = re.compile(r"[ .\-_*·]")


def safe_text(raw: str | bytes) -> str:
    """Text that can always be shown, logged and serialised: invalid UTF-8 and lone surrogates
    (which no JSON encoder accepts) become U+FFFD."""
    if isinstance(raw, bytes):
        return raw.decode("utf-8", errors="replace")
    return _SURROGATE.sub("\ufffd", raw)


def strip_invisible(text: str) -> str:
    """NFKC, and no control, format, private-use or default-ignorable characters (they could
    split "blad\u200bder" or hide in "blad\u034fder")."""
    text = _IGNORABLE.sub("", unicodedata.normalize("NFKC", text))
    return "".join(
        ch for ch in text if ch in _KEEP_CONTROLS or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def strip_markup(text: str) -> str:
    """HTML tags, style and script blocks, comments and entities, and Markdown marks out: the
    words stay ("<b>can't pee</b>" -> "can't pee", "![x](http://...)" -> "x")."""
    if "<" in text:
        text = _STYLE_OR_SCRIPT.sub(" ", text)
        text = _COMMENT.sub(" ", text)
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    if "[" in text:
        text = _MD_IMAGE.sub(r"\1", text)
        text = _MD_LINK.sub(r"\1", text)
    return _MD_MARKS.sub("", text)


@cache
def _latin_lookalikes() -> dict[str, str]:
    """Character -> the Latin letter it is confusable with (Unicode TR39 confusables)."""
    data = json.loads((resources.files("confusable_homoglyphs") / "confusables.json").read_text("utf-8"))
    table = {}
    for char, entry in data.items():
        if len(char) != 1 or char.isascii():
            continue
        letters = sorted(h["c"] for h in entry if len(h["c"]) == 1 and h["c"].isascii())
        letters = [c for c in letters if c.isalpha()]
        if letters:
            table[char] = letters[0].lower() if char.islower() else letters[0]
    return table


def latin_skeleton(text: str) -> str:
    """Look-alike letters read as the Latin letters they imitate: inside words that mix scripts
    ("blаdder" with a Cyrillic "а"), and in every word of a mostly Latin message ("by а car").
    A message mostly in another script is left alone."""
    if text.isascii():
        return text
    table = _latin_lookalikes()

    letters = [ch for ch in text if ch.isalpha()]
    mostly_latin = sum(ch.isascii() for ch in letters) * 2 >= len(letters)

    def fix(match: re.Match) -> str:
        word = match.group()
        if word.isascii() or not (mostly_latin or any(ch.isascii() for ch in word)):
            return word
        return "".join(table.get(ch, ch) for ch in word)

    return _WORD.sub(fix, text)


def join_spaced_letters(text: str) -> str:
    """Four or more single letters, one separator each, joined: "b l a d d e r" -> "bladder".
    A capital "I" opening a long run is the pronoun: "I s l i p p e d" -> "I slipped"."""

    def join(match: re.Match) -> str:
        run = match.group()
        if run[0] == "I" and run[1] in _SEPARATORS and len(run) >= 9:
            return "I " + _SEPARATOR.sub("", run[2:])
        return _SEPARATOR.sub("", run)

    return _SPACED.sub(join, text)


def letter_symbols(text: str) -> str:
    """Symbols standing for letters inside words: "$uicide", "k!ll", "bl@dder"."""
    return _LETTER_SYMBOL.sub(lambda m: m.group().translate(LEET), text)


def clean(raw: str | bytes) -> str:
    """All of the above, in order; the result is what every stage reads."""
    text = strip_invisible(safe_text(raw))
    text = letter_symbols(join_spaced_letters(latin_skeleton(strip_markup(text))))
    return text.replace("\ufffd", " ").strip()


# Digits and symbols that stand for letters ("bl4dd3r", "p1ss", "$uicide"); applied only to
# words that mix them with letters, and kept only when the result is a red-flag word.
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)


_LETTER_SYMBOL = re.compile(r"[@$](?=[A-Za-z]{2})|(?<=[A-Za-z])[@$!](?=[A-Za-z])")


def unleet(word: str) -> str:
    return word.translate(LEET)
