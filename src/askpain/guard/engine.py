"""The deterministic guardrail: find red flags in a message, whatever else it says.

Matching reads the canonical form of the message (message.canonical, with typos of
red-flag words corrected); each match is then put in context, in the spirit of NegEx
and ConText: negated, historical or someone else's → not raised; asked about or
imagined → an info card; anything else, uncertainty included → an alert.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from askpain.guard.classifier import (
    MAX_UNITS,
    WHOLE_MESSAGE_MAX_CHARS,
    Encode,
    SignClassifier,
    default_classifier,
    sentence_spans,
)
from askpain.guard.hygiene import unleet
from askpain.guard.message import Canonical, Corrector, Message, read_message
from askpain.guard.rules import Rule, RuleTable, default_table
from askpain.types import Passage, RedFlag

log = logging.getLogger(__name__)

# Shown when the guardrail itself fails: never a silent answer.
FAIL_SAFE = RedFlag(
    id="medical_emergency",
    urgency="emergency",
    title="We could not check your message for warning signs",
    message=(
        "Get help now if you have new bladder or bowel trouble or numbness between your legs. "
        "Do the same if you have weakness that is getting worse or a fever, or you feel very sick. "
        "Call 911 (or your local emergency number) or go to the ER. If something else worries "
        "you, call your clinic today."
    ),
    matched="",
)


@dataclass(frozen=True)
class GuardrailResult:
    alerts: tuple[RedFlag, ...] = ()  # reported signs, emergencies first
    cards: tuple[RedFlag, ...] = ()  # conditions asked about (no alert for the same id)
    failed: bool = False
    degraded: bool = False  # the classifier could not run: rules only, plus the general warning
    trace: tuple[dict, ...] = field(default=(), compare=False)  # every match and its verdict


@lru_cache(maxsize=4)
def _corrector(table: RuleTable) -> Callable[[str], str]:
    """Reads a misspelled red-flag word as the word ("bladdr" → "bladder"), never a real word;
    and digits standing for letters too ("bl4dd3r", "p1ss"), when that gives a red-flag word."""
    corrector = Corrector(table.vocabulary, known=table.protected)

    @lru_cache(maxsize=20_000)
    def correct(word: str) -> str:
        fixed = corrector.correct(word)
        if fixed == word and _leetish(word):
            return corrector.correct(unleet(word))
        if fixed == word and word[0] in "ai" and len(word) > 5:  # "a f e v e r" -> "afever"
            rest = corrector.correct(word[1:])
            if rest in table.vocabulary:
                return rest
        return fixed

    return correct


# A line break inside a word ("blad\nder"): the guard reads the message with it joined too.
_BROKEN_WORD = re.compile(r"(?<=[^\W\d_])\r?\n(?=[^\W\d_])")


def _leetish(word: str) -> bool:
    """Letters with digits standing for letters ("bl4dd3r", "p33"), not "b12", "2nd" or "10am"."""
    digits = [ch for ch in word if ch.isdigit()]
    letters = sum(ch.isalpha() for ch in word)
    return (
        bool(digits)
        and letters >= 1
        and len(word) >= 3
        and all(d in "013457" for d in digits)
        and (letters >= 2 or word[0].isalpha())
    )


_SUBJECT = frozenset({"i", "i'm", "i've", "i'd", "i'll"})
_BARE_DENIAL = frozenset({"no", "none", "nope", "nah", "nothing", "never", "not", "at", "all", ".", "!"})


@lru_cache(maxsize=4)
def _clause_marks(table: RuleTable) -> frozenset[str]:
    """The tokens that end a clause: end marks and the context's terminators."""
    return frozenset(".!?;") | table.context.terminators


def _clause_starts(canon: Canonical, i: int, table: RuleTable) -> tuple[int, int]:
    """Index of the first token of the clause that token i sits in (at most `window` back); and
    the same where a new "I" also starts a clause (for negation: "no fever, then I can't pee").
    One walk back gives both."""
    tokens, window, marks = canon.tokens, table.context.window, _clause_marks(table)
    start = i - window if i > window else 0
    subject = None  # the nearest "I" before a clause boundary
    for k in range(i - 1, start - 1, -1):
        token = tokens[k]
        if token in marks or (
            token in ("and", "or", ",") and k + 1 < i and tokens[k + 1] in table.context.new_clause_after_and
        ):
            return k + 1, k + 1 if subject is None else subject
        if subject is None and token in _SUBJECT and k > start:
            subject = k
    return start, start if subject is None else subject


def _clause_end(canon: Canonical, j: int, table: RuleTable) -> int:
    tokens, marks = canon.tokens, _clause_marks(table)
    stop = min(len(tokens), j + table.context.window)
    for k in range(j, stop):
        if tokens[k] in marks:
            return k
    return stop


# A sentence is read at most this many tokens either side of a match, so a message with no
# full stops costs the same per match as any other (linear, not quadratic, in its length).
SENTENCE_REACH = 40


def _sentence(canon: Canonical, i: int, j: int) -> tuple[int, int]:
    """Tokens [start, end) of the sentence around tokens [i, j), its end mark included."""
    tokens = canon.tokens
    start, floor = i, max(0, i - SENTENCE_REACH)
    while start > floor and tokens[start - 1] not in ".!?":
        start -= 1
    end, ceiling = j, min(len(tokens), j + SENTENCE_REACH)
    while end < ceiling and tokens[end - 1] not in ".!?":
        end += 1
    return start, max(end, min(j, len(tokens)))


def _needs_met(rule: Rule, canon: Canonical, sentence: str, mentions: dict[str, bool]) -> bool:
    """Whether someone else's sign has one of the rule's others_need words: in its sentence, or
    (others_need_anywhere) in the message, searched once per rule and message (`mentions`)."""
    assert rule.others_need is not None  # noqa: S101 - callers check
    if not rule.others_need_anywhere:
        return rule.others_need.search(sentence) is not None
    if rule.id not in mentions:
        mentions[rule.id] = rule.others_need.search(canon.text) is not None
    return mentions[rule.id]


def _verdict(
    rule: Rule, canon: Canonical, i: int, j: int, table: RuleTable, mentions: dict[str, bool] | None = None
) -> str:
    """'reported', 'someone else now', 'asked', or why the match does not count. `mentions`
    keeps, for one message, what _needs_met found in it."""
    ctx = table.context
    tokens = canon.tokens
    clause, subject_clause = _clause_starts(canon, i, table)
    if ctx.negation_before.search(ctx.pseudo_negation.sub(" _ ", " ".join(tokens[subject_clause:i]))):
        return "negated"  # most matches in a long message are denials: decided before more joins
    after = " " + " ".join(tokens[j : _clause_end(canon, j, table)])
    if ctx.negation_after.search(after.rstrip() or " "):
        return "negated"
    before = " ".join(tokens[clause:i])
    if ctx.answer_after.search(" " + " ".join(tokens[j : j + 12])):  # "Fever? No.", "Q: hives? A: no"
        return "negated"
    s0, s1 = _sentence(canon, i, j)
    following = tokens[s1 : _sentence(canon, s1, s1 + 1)[1]] if s1 < len(tokens) else ()
    # "Chest pain on the form? I have none." But "I felt nothing down there. Nothing." says it
    # again: a bare "nothing" answers only a question.
    if (
        0 < len(following) <= 7
        and ctx.next_sentence_clears.search(" ".join(following))
        and (tokens[s1 - 1] == "?" or set(following) - _BARE_DENIAL)
        and (tokens[s1 - 1] == "?" or not rule.history_counts)  # "I cut myself. It's fine." is told
    ):
        return "negated"
    if not rule.history_counts:
        if ctx.history_before.search(before) or ctx.history_after.search(after):
            return "historical"
        earlier = " ".join(tokens[s0:i])
        past = list(ctx.history_in_sentence.finditer(earlier))
        between = earlier[past[-1].end() :].split() if past else []
        # ... unless a word of now, or a new "I" (not the one the past time opens: "years ago
        # I had"), stands between: "no fever years ago, then I can't pee" is now.
        if (
            past
            and not set(between) & (ctx.returned_after | {"now", "but"})
            and not set(between[1:]) & _SUBJECT
        ):
            return "historical"  # "Years ago I had a reaction to penicillin, my lips swelled up"
        rest = " ".join(tokens[j:s1])
        for resolved in ctx.resolved_after.finditer(rest):
            if _NOT_BEFORE.search(rest[: resolved.start()]):
                continue  # "not wearing off", "hasn't settled"
            if not _returned(rest[resolved.end() :], ctx):
                return "resolved"
            break
        # "Knee buckled on the day. It was fine by the evening." (and it did not come back)
        for nxt in _next_sentences(canon, s1, 2):
            said = " ".join(nxt)
            went = ctx.next_sentence_resolves.search(said)
            if went and not _returned(said[went.end() :], ctx):
                return "resolved"
    anyone = bool(ctx.anyone_if.search(" ".join(tokens[s0:i])))  # "If someone feels suicidal, ..."
    other = list(ctx.other_person.finditer(before))
    if (
        other
        and not anyone
        and not rule.others_count
        and not set(before[other[-1].end() :].split()) & ctx.first_person
    ):
        person, between = other[-1].group(), before[other[-1].end() :]
        sentence = " ".join(tokens[s0:s1])
        if set(person.split()) & ctx.animals:
            return "other person"
        if person.split()[-1] in ctx.anyone:
            anyone = True  # "in rare cases people can lose bladder control": a question of fact
        elif rule.history_counts and rule.others_need:
            # A past cancer is part of the sign: "mum had breast cancer years ago, and now her
            # back pain wakes her every night" needs help now.
            return "someone else now" if rule.others_need.search(sentence) else "other person"
        elif (
            ctx.other_person_past.search(between)
            or ctx.other_person_over.search(sentence)
            or (
                rule.others_need
                and not _needs_met(rule, canon, sentence, {} if mentions is None else mentions)
            )
        ):
            return "other person"
        else:
            return "someone else now"
    asked = anyone or _asked(canon, i, s0, s1, before, table)
    if asked and 0 < len(following) <= 14 and ctx.answer_affirms.search(" ".join(following)):
        return "reported"  # "Can an epidural make your privates numb? Because mine are."
    return "asked" if asked else "reported"


_NOT_BEFORE = re.compile(
    r"(?:^| )(?:not|isn't|hasn't|haven't|won't|doesn't|didn't|never|wasn't|aren't|no)(?: [a-z']+)? ?$"
)
_BACK_TO_NORMAL = re.compile(
    r"(?:normal|normally|fine|ok|okay|better|myself|properly|well|gone|clear|good|without it) (?:again|now)"
    r"|(?:not|never|hasn't|haven't|has not|have not|didn't|did not|won't|no) (?:[a-z']+ )?"
    r"(?:returned|return|come back|came back|back|again|worse|spreading)"
)


def _returned(words: str, ctx) -> bool:
    """Whether words after a resolution say the sign came back ("gone, but it's back again");
    "walking normally again", "fine now" and "has not returned" say it did not."""
    return bool(set(_BACK_TO_NORMAL.sub(" ", words).split()) & ctx.returned_after)


def _next_sentences(canon: Canonical, s1: int, n: int) -> list[tuple[str, ...]]:
    """The tokens of up to n sentences after the one that ends at token s1."""
    found, start = [], s1
    while start < len(canon.tokens) and len(found) < n:
        end = _sentence(canon, start, start + 1)[1]
        found.append(canon.tokens[start:end])
        start = end
    return found


def _asked(canon: Canonical, i: int, s0: int, s1: int, before: str, table: RuleTable) -> bool:
    """Whether the sign is asked about rather than told of."""
    ctx, tokens = table.context, canon.tokens
    if before and ctx.asking_before.search(before):  # "what is", "signs of", "what if I" ...
        return True
    if tokens[s1 - 1] != "?":
        return False
    opener = s0
    while opener < i and tokens[opener] in ctx.greetings:
        opener += 1
    sentence = " ".join(tokens[opener:s1])
    if ctx.report_questions.match(sentence):
        return False  # "is it normal that the groin goes numb?" tells of it
    if ctx.hypothetical_openers.match(sentence):
        return True  # "How would I know if the site was infected?"
    if tokens[opener] == "if" and not set(tokens[opener:s1]) & ctx.if_now:
        return True  # "If I suddenly got numb legs, what should I do?"
    # "is foot drop permanent?" asks; "is numbness in my groin a side effect?" tells of it.
    return tokens[opener] in ctx.question_openers and not set(tokens[opener:s1]) & (
        ctx.first_person | {"this", "these"}
    )


class _Spans:
    """Character spans, asked whether any overlaps [a, b): a binary search, not a scan."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans.sort()
        self.starts = [x for x, _ in spans]
        self.reach = list(itertools.accumulate((y for _, y in spans), max))  # furthest end so far

    def overlap(self, a: int, b: int) -> bool:
        n = bisect.bisect_left(self.starts, b)  # spans starting before b
        return n > 0 and self.reach[n - 1] > a


def _matches(table: RuleTable, canon: Canonical):
    """(rule, layer, match, where it is no sign) for each rule in order: its phrase patterns,
    then its concept combinations. "Where it is no sign": its exclusions and the figures of
    speech ("hay fever", "nearly wet myself laughing")."""
    streams = table.index.scan(canon.text, canon.tokens, canon.starts)
    figures = [m.span() for m in streams[-1]]
    for n, rule in enumerate(table.rules):
        phrases, concepts, exclusions = streams[3 * n : 3 * n + 3]
        if not phrases and not concepts:
            continue
        no_sign = _Spans([m.span() for m in exclusions] + figures)
        yield from ((rule, "phrase", m, no_sign) for m in phrases)
        yield from ((rule, "concept", m, no_sign) for m in concepts)


class _Findings:
    """Alerts, cards and the trace of one message, filled match by match."""

    def __init__(self, table: RuleTable) -> None:
        self.table = table
        self.alerts: dict[str, RedFlag] = {}
        self.cards: dict[str, RedFlag] = {}
        self.trace: list[dict] = []

    def add(self, rule: Rule, verdict: str, source: str, layer: str, score: float | None = None) -> None:
        if verdict in ("reported", "someone else now") and rule.id not in self.alerts:
            someone_else = verdict == "someone else now"
            message = f"{self.table.helper_lead} {rule.message}" if someone_else else rule.message
            self.alerts[rule.id] = RedFlag(
                rule.id, rule.urgency, rule.title, message, source, False, rule.backed_by,
                layer=layer, score=score, someone_else=someone_else,
            )  # fmt: skip
        elif verdict == "asked" and rule.id not in self.cards:
            self.cards[rule.id] = RedFlag(
                rule.id, rule.urgency, rule.title, rule.info_message, source, True, rule.backed_by,
                layer=layer, score=score,
            )  # fmt: skip

    def result(self, degraded: bool = False) -> GuardrailResult:
        order = {rule.id: n for n, rule in enumerate(self.table.rules)}

        def rank(flag: RedFlag) -> tuple[int, int]:
            return (flag.urgency != "emergency", order[flag.id])

        alerts = sorted(self.alerts.values(), key=rank)
        if degraded and not any(f.id == FAIL_SAFE.id for f in alerts):
            alerts.append(FAIL_SAFE)  # part of the check could not run: say so, never stay silent
        return GuardrailResult(
            alerts=tuple(alerts),
            cards=tuple(sorted((c for c in self.cards.values() if c.id not in self.alerts), key=rank)),
            degraded=degraded,
            trace=tuple(self.trace),
        )


def _scan_rules(message: Message, canon: Canonical, table: RuleTable, found: _Findings) -> None:
    text = message.text
    judged: dict[tuple[str, int, int], str] = {}
    mentions: dict[str, bool] = {}  # per rule: its others_need words anywhere in this message
    for rule, layer, match, no_sign in _matches(table, canon):
        a, b = match.span()
        if no_sign.overlap(a, b):
            found.trace.append(
                {"id": rule.id, "layer": layer, "words": match.group(), "verdict": "figure of speech"}
            )
            continue
        i, j = canon.token_range(a, b)
        if rule.id in found.alerts:  # raised already: the alert is the same whatever this says
            start, end = canon.source_spans[i][0], canon.source_spans[j - 1][1]
            found.trace.append(
                {"id": rule.id, "layer": layer, "words": text[start:end], "verdict": "raised already",
                 "start": start, "end": end}
            )  # fmt: skip
            continue
        verdict = judged.get((rule.id, i, j))
        if verdict is None:  # a phrase and a combination often match the same words
            verdict = judged[rule.id, i, j] = _verdict(rule, canon, i, j, table, mentions)
        # A combination's words may stand apart ("fever years ago after a shot"): a time
        # in the past between them puts the whole of it in the past.
        if (
            layer == "concept"
            and verdict == "reported"
            and not rule.history_counts
            and table.context.history_in_sentence.search(" ".join(canon.tokens[i:j]))
        ):
            verdict = "historical"
        start, end = canon.source_spans[i][0], canon.source_spans[j - 1][1]
        words = text[start:end]
        found.trace.append(
            {"id": rule.id, "layer": layer, "words": words, "verdict": verdict, "start": start, "end": end}
        )
        found.add(rule, verdict, words, layer)


def _units(message: Message, found: _Findings) -> list[tuple[int, int]]:
    """The sentences the classifier reads: those with a rule match first, then the others in
    order, at most MAX_UNITS; returned in message order."""
    spans = sentence_spans(message.text)
    if len(spans) <= MAX_UNITS:
        return spans
    starts = sorted(t["start"] for t in found.trace if "start" in t)
    hit = {
        k for k, (a, b) in enumerate(spans) if bisect.bisect_left(starts, a) < bisect.bisect_left(starts, b)
    }
    chosen = sorted(hit)[:MAX_UNITS]
    chosen += [k for k in range(len(spans)) if k not in hit][: MAX_UNITS - len(chosen)]
    return [spans[k] for k in sorted(chosen)]


def _anchor(canon: Canonical, start: int, end: int, table: RuleTable) -> int | None:
    """The token that stands for a sentence in the context engine: its first content word, so
    the words before it ("no", "my mum", "years ago I had") are read as its context."""
    for k in canon.within(start, end):
        if canon.tokens[k][0].isalnum() and canon.tokens[k] not in table.context.not_anchor:
            return k
    return None


def _words_within(canon: Canonical, start: int, end: int) -> str:
    """The canonical words of source characters [start, end)."""
    return " ".join(canon.tokens[k] for k in canon.within(start, end))


def _figure_of_speech(canon: Canonical, start: int, end: int, table: RuleTable) -> bool:
    """Whether the source characters [start, end) hold a figure of speech ("nearly wet myself")."""
    return bool(table.context.figures_of_speech.search(_words_within(canon, start, end)))


def _negated_anywhere(canon: Canonical, start: int, end: int, table: RuleTable) -> bool:
    """Whether a sentence holds a negation anywhere ("bruised but not red or hot"): the
    classifier reads no negation, so there it abstains and the rules, which do, decide."""
    ctx = table.context
    return bool(ctx.negation_before.search(ctx.pseudo_negation.sub(" _ ", _words_within(canon, start, end))))


def _scan_classifier(
    message: Message,
    canon: Canonical,
    table: RuleTable,
    found: _Findings,
    encode: Encode,
    clf: SignClassifier,
) -> None:
    units = _units(message, found)
    if not units:
        return
    texts = [message.text[a:b] for a, b in units]
    whole = len(units) >= 2 and len(message.text) <= WHOLE_MESSAGE_MAX_CHARS
    scores = clf.scores(encode([*texts, message.text] if whole else texts))
    rules = {rule.id: rule for rule in table.rules}
    for k, flag_id in enumerate(clf.ids):
        column = scores[: len(units), k]
        hits = {u for u in range(len(units)) if column[u] >= clf.thresholds[k]}
        if whole and scores[-1, k] >= clf.thresholds[k]:
            hits.add(int(np.argmax(column)))  # the sentence that carries most of it
        for u in sorted(hits):
            a, b = units[u]
            if any(t["id"] == flag_id and a <= t.get("start", -1) < b for t in found.trace):
                continue  # the rules read this sentence for this sign already, context included
            i = _anchor(canon, a, b, table)
            if i is None or _figure_of_speech(canon, a, b, table) or _negated_anywhere(canon, a, b, table):
                continue
            verdict = _verdict(rules[flag_id], canon, i, i + 1, table)
            score = round(float(max(column[u], scores[-1, k] if whole else 0.0)), 4)
            found.trace.append(
                {"id": flag_id, "layer": "classifier", "words": message.text[a:b], "verdict": verdict,
                 "score": score, "start": a, "end": b}
            )  # fmt: skip
            found.add(rules[flag_id], verdict, message.text[a:b], "classifier", score)


def _scan(
    message: Message,
    table: RuleTable,
    encode: Encode | None,
    classifier: SignClassifier | None,
    layers: tuple[str, ...] = ("rules", "classifier"),
) -> GuardrailResult:
    canon = message.canonical.corrected(_corrector(table))
    found = _Findings(table)
    if "rules" in layers:
        _scan_rules(message, canon, table, found)
        if _BROKEN_WORD.search(message.text):  # "blad\nder": read it joined as well
            joined = read_message(_BROKEN_WORD.sub("", message.text), max_chars=len(message.text) + 1)
            _scan_rules(joined, joined.canonical.corrected(_corrector(table)), table, found)
    if encode is None or "classifier" not in layers:
        return found.result()
    try:
        _scan_classifier(message, canon, table, found, encode, classifier or default_classifier())
    except Exception:  # the rules' findings stand; the reply also carries the general warning
        log.exception("guardrail classifier failed; rules only, with the general warning")
        return found.result(degraded=True)
    return found.result()


def detect_red_flags(
    message: Message | str,
    table: RuleTable | None = None,
    encode: Encode | None = None,
    classifier: SignClassifier | None = None,
    layers: tuple[str, ...] = ("rules", "classifier"),
) -> GuardrailResult:
    """Red flags in a whole message: the rule table, then (given `encode`, the embedding
    model's function) the classifier's second opinion. If the check itself fails, the result
    says so (failed=True) and carries the general warning, so the reply fails safe instead of
    staying silent."""
    try:
        if isinstance(message, str):
            message = read_message(message)
        return _scan(message, table or default_table(), encode, classifier, layers)
    except Exception:  # fail safe: any bug here must still show a warning, never crash or hide
        log.exception("guardrail failed; showing the general warning")
        return GuardrailResult(alerts=(FAIL_SAFE,), failed=True)


# A sign told over several messages ("I've got numbness" … "it's in my groin") is looked for in
# the last JOINED_TURNS messages read together; flags of the last EARLIER_TURNS earlier
# messages stay at the top of later replies.
JOINED_TURNS = 3
EARLIER_TURNS = 10


def _joined(turns: Sequence[str]) -> str:
    """Messages read as one: each one's end mark dropped, so a sign may span them."""
    return " and ".join(t.strip().rstrip(".!?;") for t in turns if t.strip())


def detect_in_conversation(
    turns: Sequence[str],
    detect: Callable[[str], GuardrailResult],
    table: RuleTable | None = None,
    current: GuardrailResult | None = None,
) -> GuardrailResult:
    """Red flags of the last message of a conversation (turns, oldest first), plus those told
    across the last few messages, plus those raised earlier in it (marked with their turn).
    `detect` checks one text, e.g. partial(detect_red_flags, encode=embedder.encode);
    `current` is the last message's result when the caller has it already."""
    table = table or default_table()
    current = current or detect(turns[-1])
    if current.failed or len(turns) < 2:
        return current
    alerts = {f.id: f for f in current.alerts}
    trace = list(current.trace)
    last = len(turns) - 1
    for turn in range(max(0, last - EARLIER_TURNS), last):
        window = turns[max(0, turn - JOINED_TURNS + 1) : turn + 1]
        found = [*detect(turns[turn]).alerts, *(detect(_joined(window)).alerts if len(window) > 1 else ())]
        # Read with the messages that followed it: "I had a numb bum after the epidural" then
        # "it was gone after a couple of hours" is over; "I can't pee" then "ok" is not.
        later = turns[turn : turn + JOINED_TURNS]
        still = {f.id for f in detect(_joined(later)).alerts} if len(later) > 1 else None
        for flag in found:
            if still is not None and flag.id not in still:
                trace.append(
                    {"id": flag.id, "layer": "earlier message", "turn": turn, "verdict": "resolved later"}
                )
                continue
            if flag.id not in alerts and flag is not FAIL_SAFE:
                message = f"{table.earlier_lead} {flag.message}"
                alerts[flag.id] = replace(flag, message=message, turn=turn)
                trace.append({"id": flag.id, "layer": "earlier message", "turn": turn, "verdict": "reported"})
    for flag in detect(_joined(turns[-JOINED_TURNS:])).alerts:  # told across the last messages
        if flag.id not in alerts:
            alerts[flag.id] = replace(flag, layer="conversation")
            trace.append(  # fmt: skip
                {"id": flag.id, "layer": "conversation", "words": flag.matched, "verdict": "told across"}
            )
    order = {rule.id: n for n, rule in enumerate(table.rules)}
    ranked = sorted(
        alerts.values(), key=lambda f: (f.turn is not None, f.urgency != "emergency", order.get(f.id, 99))
    )
    return replace(
        current,
        alerts=tuple(ranked),
        cards=tuple(c for c in current.cards if c.id not in alerts),
        trace=tuple(trace),
    )


def backing_passage(flag: RedFlag, passages: list[Passage]) -> Passage | None:
    """The corpus passage that backs a warning (its rule's backed_by phrase), if the corpus has one."""
    if not flag.backed_by:
        return None
    return next((p for p in passages if flag.backed_by in p.text), None)
