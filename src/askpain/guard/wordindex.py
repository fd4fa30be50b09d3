"""Match many long alternations of word patterns in one pass, in time linear in the message.

Each rule is a regex `(?<![\\w'])(?:A|B|...)(?![\\w'])` over the canonical text with up to
hundreds of alternatives. Python's `re` tries every alternative at every word, so a 100 KB
message took over half a second. `WordIndex` gives the same matches in the same order, but
tries an alternative only where the first two words under it can begin that alternative:
each alternative's possible starts ("heads", read from the parsed regex) index it. An
alternative that is itself an alternation ("a|b") is indexed branch by branch. A combination
of concepts ("A, then B within `gap` words") is tried only where B's heads occur within reach:
per message, the index notes where each concept can start.

Example:
    index = WordIndex([WordAlternation(["can't pee", "(?:my )?groin (?:is|feels) numb"])])
    [m.group() for m in index.scan(canonical)[0]]  # as the one big regex's finditer
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
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


def _spaces(items) -> int | None:
    """The most spaces a match of parsed regex `items` can hold; None if unbounded or unknown."""
    total = 0
    for op, av in items:
        if op is _c.LITERAL:
            n = int(av == 32)
        elif op is _c.NOT_LITERAL:
            n = int(av != 32)
        elif op in _ZERO_WIDTH:
            n = 0
        elif op is _c.IN:  # a class of letters only adds no space; any other may
            n = int(
                not all(
                    o is _c.LITERAL and v != 32 or o is _c.RANGE and not v[0] <= 32 <= v[1] for o, v in av
                )
            )
        elif op in (_c.ANY, _c.CATEGORY):
            n = 1
        elif op in _GROUPS:
            n = _spaces(av[-1])
        elif op is _c.BRANCH:
            counts = [_spaces(alternative) for alternative in av[1]]
            n = None if None in counts else max(counts)
        elif op in _REPEATS:
            low, high, body = av
            n = _spaces(body)
            if n:
                n = None if high == _c.MAXREPEAT else n * high
        else:
            return None  # back references and the like: no bound
        if n is None:
            return None
        total += n
    return total


def max_spaces(pattern: str) -> int | None:
    """The most spaces, so the most word boundaries, a match of `pattern` can span ("my (?:left
    )?leg" 2); None if there is no bound ("[^.]+")."""
    return _spaces(_parse.parse(pattern))


def initials(pattern: str) -> str:
    """A lookahead for the characters a match of `pattern` can begin with ("(?=[bn])" for
    "bladder|numb"), or "" if it may begin with any. Put before the pattern it changes no match;
    it only lets the regex skip, in one step, a place where no alternative can begin."""
    found = heads(pattern)
    if "" in found:
        return ""
    return "(?=[" + "".join(re.escape(ch) for ch in sorted({h[0] for h in found})) + "])"


_NUMBERED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")  # back references, conditionals


def branches(pattern: str) -> list[str]:
    """The top-level alternatives of `pattern` ("a|b (?:c|d)" → "a", "b (?:c|d)"): tried one by
    one in order they match as the whole does, and each is indexed by its own heads. A pattern
    that numbers its groups (back references) stays whole."""
    if _NUMBERED.search(pattern):
        return [pattern]
    found, depth, begun, k, closed = [], 0, 0, 0, None
    while k < len(pattern):
        ch = pattern[k]
        if ch == "\\":
            k += 1
        elif ch == "[":  # a class: "]" right after "[" or "[^" is one of its members
            k += 2 if pattern.startswith("[^", k) else 1
            k += pattern.startswith("]", k)
            while k < len(pattern) and pattern[k] != "]":
                k += 2 if pattern[k] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            closed = closed if depth or closed is not None else k  # where the first group ends
        elif ch == "|" and depth == 0:
            found.append(pattern[begun:k])
            begun = k + 1
        k += 1
    found.append(pattern[begun:])
    if len(found) == 1:
        if pattern.startswith("(?:") and closed == len(pattern) - 1:
            return branches(pattern[3:-1])  # one group around it all: its alternatives
        return found
    try:
        for branch in found:
            re.compile(branch)
    except re.error:  # something the split above does not read (a comment): keep it whole
        return [pattern]
    return [piece for branch in found for piece in branches(branch)]


class WordAlternation:
    """The alternation of `alternatives`, as whole words. For an alternation of combinations,
    `parts` gives each alternative's concepts in order: alternative k is parts[k] joined by
    gaps of at most `gap` words, so the index skips it where a later concept is out of reach."""

    def __init__(
        self, alternatives: Sequence[str], parts: Sequence[Sequence[str]] | None = None, gap: int = 0
    ) -> None:
        self.alternatives = tuple(alternatives)
        self.parts = tuple(tuple(p) for p in parts) if parts is not None else None
        if self.parts is not None and len(self.parts) != len(self.alternatives):
            raise ValueError("WordAlternation: one tuple of parts per alternative")
        self.gap = gap
        self.regexes = tuple(re.compile(rf"(?<![\w'])(?:{a})(?![\w'])") for a in alternatives)
        self.pattern = re.compile(
            rf"(?<![\w'])(?:{'|'.join(f'(?:{a})' for a in alternatives)})(?![\w'])"
        )  # the same alternation as one regex: for checks and for short texts


class _Tier:
    """Numbers by a word: whole (`word + " "`) or begun (any prefix of it)."""

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


class _Starts:
    """Numbered patterns by the first two words they can start with (their heads)."""

    def __init__(self) -> None:
        self.anywhere: set[int] = set()
        self.first = _Tier()  # starts within the first word
        self.second: dict[str, _Tier] = {}  # after a whole first word: starts of the second

    def add(self, pattern: str, number: int) -> None:
        for head in heads(pattern):
            word, _, rest = head.partition(" ")
            if not head.strip():
                self.anywhere.add(number)
            elif not rest:
                self.first.add(head, number)
            else:
                self.second.setdefault(word, _Tier()).add(rest, number)

    def find(self, word: str, after: str | None) -> set[int]:
        """The numbers of the patterns that can start at `word` followed by `after`."""
        numbers = set(self.anywhere)
        self.first.find(word, numbers)
        second = self.second.get(word)
        if second is not None and after is not None:
            second.find(after, numbers)
        return numbers


_Needs = tuple[tuple[int, int], ...]  # (part, how many words after the first it starts at most)
# What the index keeps per pair of words: (alternation, its alternatives that can start there as
# (regex, needs)), and the parts that can start there.
_Entry = tuple[tuple[tuple[int, tuple[tuple[re.Pattern, _Needs], ...]], ...], tuple[int, ...]]


class WordIndex:
    """Several alternations matched in one pass over a canonical text's tokens."""

    def __init__(self, alternations: Sequence[WordAlternation]) -> None:
        self.alternations = tuple(alternations)
        # A combination "A ... B" can match at word t only if B can start within reach of t: the
        # words A may span, then the gap. Every part after the first is such a need.
        self._parts: dict[str, int] = {}
        self._part_starts = _Starts()
        # (alternation, regex, needs) in the order they are tried; numbered by their place.
        self._pieces: list[tuple[int, re.Pattern, _Needs]] = []
        self._starts = _Starts()
        for s, alternation in enumerate(alternations):
            for k, alternative in enumerate(alternation.alternatives):
                parts = alternation.parts[k] if alternation.parts is not None else ()
                needs = self._reach(parts, alternation.gap)  # what one branch needs, all do
                split = branches(alternative)
                pieces = (
                    [(b, re.compile(rf"(?<![\w'])(?:{b})(?![\w'])")) for b in split]
                    if len(split) > 1
                    else [(alternative, alternation.regexes[k])]
                )
                for pattern, regex in pieces:
                    self._starts.add(pattern, len(self._pieces))
                    self._pieces.append((s, regex, needs))
        self._tried: dict[tuple[str, str | None], _Entry] = {}

    def _reach(self, parts: Sequence[str], gap: int) -> _Needs:
        """(part number, how many words after the match's first word it starts at the latest)
        for each part after the first that can be located by its heads."""
        needs, reach = [], 0
        for before, part in itertools.pairwise(parts):
            spaces = max_spaces(before)
            if spaces is None:
                break  # no bound on where the rest starts
            reach += spaces + gap + 1  # the words of `before`, then the gap's spaces
            if part not in self._parts:
                self._parts[part] = len(self._parts)
                self._part_starts.add(part, self._parts[part])
            number = self._parts[part]
            if number not in self._part_starts.anywhere:
                needs.append((number, reach))
        return tuple(needs)

    def _entry(self, word: str, after: str | None) -> _Entry:
        """The alternatives (grouped by alternation, in their order) and the parts that can start
        at `word` followed by `after`."""
        key = (word, after)
        found = self._tried.get(key)
        if found is None:
            grouped: dict[int, list[tuple[re.Pattern, _Needs]]] = {}
            for n in sorted(self._starts.find(word, after)):
                s, regex, needs = self._pieces[n]
                grouped.setdefault(s, []).append((regex, needs))
            candidates = tuple((s, tuple(alternatives)) for s, alternatives in grouped.items())
            found = (candidates, tuple(sorted(self._part_starts.find(word, after))))
            if len(self._tried) > 100_000:  # a flood of new words: keep memory bounded
                self._tried.clear()
            self._tried[key] = found
        return found

    def scan(self, text: str, tokens: Sequence[str], starts: Sequence[int]) -> list[list[re.Match]]:
        """For each alternation, its non-overlapping matches left to right, exactly as
        `alternation.pattern.finditer(text)`, given the text's tokens and where each starts."""
        found: list[list[re.Match]] = [[] for _ in self.alternations]
        free_from = [0] * len(self.alternations)  # where each alternation's next match may start
        tried, entry = self._tried, self._entry
        pairs = zip(tokens, itertools.chain(itertools.islice(tokens, 1, None), (None,)), strict=False)
        entries = [tried.get(pair) or entry(*pair) for pair in pairs]
        # Where each part can start, as word numbers; only a text whose tokens hold no space
        # counts words by spaces as the reach does (a canonical text always does).
        at: list[list[int]] = [[] for _ in self._parts]
        if text.count(" ") == len(tokens) - 1:
            for t, (_, parts) in enumerate(entries):
                for part in parts:
                    at[part].append(t)
        else:
            at = [list(range(len(tokens))) for _ in self._parts]
        for t in [t for t, (candidates, _) in enumerate(entries) if candidates]:
            start = starts[t]
            for s, alternatives in entries[t][0]:
                if start < free_from[s]:
                    continue
                for regex, needs in alternatives:
                    for part, reach in needs:  # each later part must start within reach
                        where = at[part]
                        k = bisect_right(where, t)
                        if k == len(where) or where[k] > t + reach:
                            break
                    else:
                        match = regex.match(text, start)
                        if match:
                            found[s].append(match)
                            free_from[s] = match.end()
                            break
        return found
