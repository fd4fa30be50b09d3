"""Match many long alternations of word patterns in one pass, in time linear in the message.

Each rule is a regex `(?<![\\w'])(?:A|B|...)(?![\\w'])` over the canonical text with up to
hundreds of alternatives. Python's `re` tries every alternative at every word, so a 100 KB
message took over half a second. `WordIndex` gives the same matches in the same order, but
tries an alternative only where the first two words under it can begin that alternative:
each alternative's possible starts ("heads", read from the parsed regex) index it.

Example:
    index = WordIndex([WordAlternation(["can't pee", "(?:my )?groin (?:is|feels) numb"])])
    [m.group() for m in index.scan(canonical)[0]]  # as the one big regex's finditer
"""

from __future__ import annotations

import re
from collections.abc import Sequence

try:  # the regex parser moved in Python 3.11
    from re import _constants as _c
    from re import _parser as _parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _parse  # type: ignore[no-redef]

_ZERO_WIDTH = {_c.ASSERT, _c.ASSERT_NOT, _c.AT}
_GROUPS = {_c.SUBPATTERN, _c.ATOMIC_GROUP}
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}
_MAX_HEADS = 4000  # beyond this many starts, stop lengthening them (shorter is still sound)
_MAX_CLASS = 12  # a character class with more members ends a start


def _literal(open_: set[str], chars: list[str]) -> tuple[set[str], set[str]]:
    """Starts grown by one of `chars`. A space ends a start's first word; the second space ends
    the start ("my groin " is two whole words, "my gro" two words, the second one begun)."""
    grown, ended = set(), set()
    for p in open_:
        for ch in chars:
            if ch == " " and " " in p:
                ended.add(p + " ")
            else:
                grown.add(p + ch)
    return grown, ended


def _members(items) -> list[str]:
    """The characters of a class such as [uo] or [0-9]; all of Unicode if it is negated."""
    chars: list[str] = []
    for op, av in items:
        if op is _c.LITERAL:
            chars.append(chr(av))
        elif op is _c.RANGE and av[1] - av[0] < 16:
            chars.extend(chr(v) for v in range(av[0], av[1] + 1))
        else:
            return [""] * (_MAX_CLASS + 1)  # too wide to follow
    return chars


def _step(op, av, open_: set[str]) -> tuple[set[str], set[str]]:
    """(starts still growing, starts ended) after one parsed item of a regex."""
    if op is _c.LITERAL:
        return _literal(open_, [chr(av)])
    if op in _ZERO_WIDTH:
        return open_, set()  # looks, consumes nothing: every start goes on unchanged
    if op is _c.IN and len(chars := _members(av)) <= _MAX_CLASS:
        return _literal(open_, chars)
    if op in _GROUPS:
        if op is _c.SUBPATTERN and av[1] & re.IGNORECASE:
            return set(), open_
        return _sequence(av[-1], open_)
    if op is _c.BRANCH:
        grown, ended = set(), set()
        for alternative in av[1]:
            g, e = _sequence(alternative, open_)
            grown |= g
            ended |= e
        return grown, ended
    if op in _REPEATS:
        low, high, body = av
        g, e = _sequence(body, open_)
        if high != 1:  # it may repeat: what one pass gives is as far as a start is sure
            g, e = set(), e | g
        return (g | open_, e) if low == 0 else (g, e)
    return set(), open_  # anything else (wide classes, any character, back references) ends it


def _sequence(items, open_: set[str]) -> tuple[set[str], set[str]]:
    ended: set[str] = set()
    for op, av in items:
        open_, e = _step(op, av, open_)
        ended |= e
        if not open_:
            break
        if len(open_) + len(ended) > _MAX_HEADS:
            return set(), ended | open_
    return open_, ended


def heads(pattern: str) -> frozenset[str]:
    """Every literal start a match of `pattern` can have, over at most two words. A trailing
    space marks a whole word ("pee ", "my groin "); without one the word is only begun
    ("injec", "my inj"). "" means the pattern may start at any word."""
    grown, ended = _sequence(_parse.parse(pattern), {""})
    return frozenset({g + " " for g in grown} | ended)  # at the pattern's end its word ends too


class WordAlternation:
    """The alternation of `alternatives`, as whole words."""

    def __init__(self, alternatives: Sequence[str]) -> None:
        self.alternatives = tuple(alternatives)
        self.regexes = tuple(re.compile(rf"(?<![\w'])(?:{a})(?![\w'])") for a in alternatives)
        self.pattern = re.compile(
            rf"(?<![\w'])(?:{'|'.join(f'(?:{a})' for a in alternatives)})(?![\w'])"
        )  # the same alternation as one regex: for checks and for short texts


class _Tier:
    """Alternative numbers by a word: whole (`word + " "`) or begun (any prefix of it)."""

    def __init__(self) -> None:
        self.keys: dict[str, set[int]] = {}
        self.longest = 0

    def add(self, key: str, number: int) -> None:
        self.keys.setdefault(key, set()).add(number)
        self.longest = max(self.longest, len(key))

    def find(self, word: str, into: set[int]) -> None:
        keys = self.keys
        into.update(keys.get(word + " ", ()))
        for n in range(1, min(len(word), self.longest) + 1):
            into.update(keys.get(word[:n], ()))


class WordIndex:
    """Several alternations matched in one pass over a canonical text's tokens."""

    def __init__(self, alternations: Sequence[WordAlternation]) -> None:
        self.alternations = tuple(alternations)
        self._numbers = [(s, k) for s, a in enumerate(alternations) for k in range(len(a.regexes))]
        self._anywhere: set[int] = set()
        self._first = _Tier()  # starts within the first word
        self._second: dict[str, _Tier] = {}  # after a whole first word: starts of the second
        for n, (s, k) in enumerate(self._numbers):
            for head in heads(alternations[s].alternatives[k]):
                word, space, rest = head.partition(" ")
                if not head.strip():
                    self._anywhere.add(n)
                elif not rest:
                    self._first.add(head, n)
                else:
                    self._second.setdefault(word, _Tier()).add(rest, n)
        self._tried: dict[tuple[str, str | None], tuple[tuple[int, tuple[int, ...]], ...]] = {}

    def _candidates(self, word: str, after: str | None) -> tuple[tuple[int, tuple[re.Pattern, ...]], ...]:
        """(alternation, the regexes of its alternatives) that can start at `word` followed by
        `after`, in their order."""
        key = (word, after)
        found = self._tried.get(key)
        if found is None:
            numbers = set(self._anywhere)
            self._first.find(word, numbers)
            second = self._second.get(word)
            if second is not None and after is not None:
                second.find(after, numbers)
            grouped: dict[int, list[re.Pattern]] = {}
            for n in sorted(numbers):
                s, k = self._numbers[n]
                grouped.setdefault(s, []).append(self.alternations[s].regexes[k])
            found = tuple((s, tuple(regexes)) for s, regexes in grouped.items())
            if len(self._tried) > 100_000:  # a flood of new words: keep memory bounded
                self._tried.clear()
            self._tried[key] = found
        return found

    def scan(self, text: str, tokens: Sequence[str], starts: Sequence[int]) -> list[list[re.Match]]:
        """For each alternation, its non-overlapping matches left to right, exactly as
        `alternation.pattern.finditer(text)`, given the text's tokens and where each starts."""
        found: list[list[re.Match]] = [[] for _ in self.alternations]
        free_from = [0] * len(self.alternations)  # where each alternation's next match may start
        tried, last = self._tried, len(tokens) - 1
        for t, start in enumerate(starts):
            key = (tokens[t], tokens[t + 1] if t < last else None)
            candidates = tried.get(key)
            if candidates is None:
                candidates = self._candidates(*key)
            for s, regexes in candidates:
                if start < free_from[s]:
                    continue
                for regex in regexes:
                    match = regex.match(text, start)
                    if match:
                        found[s].append(match)
                        free_from[s] = match.end()
                        break
        return found
