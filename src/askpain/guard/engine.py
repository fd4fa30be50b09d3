"""The deterministic guardrail: find red flags in a message, whatever else it says.

Matching reads the canonical form of the message (message.canonical, with typos of
red-flag words corrected); each match is then put in context, in the spirit of NegEx
and ConText: negated, historical or someone else's → not raised; asked about or
imagined → an info card; anything else, uncertainty included → an alert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache

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
        "If you have new bladder or bowel trouble, numbness between your legs, weakness that "
        "is getting worse, a fever, or you feel very unwell, get help now: call 911 (or your "
        "local emergency number) or go to the emergency department. For anything else that "
        "worries you, call your clinic today."
    ),
    matched="",
)


@dataclass(frozen=True)
class GuardrailResult:
    alerts: tuple[RedFlag, ...] = ()  # reported signs, emergencies first
    cards: tuple[RedFlag, ...] = ()  # conditions asked about (no alert for the same id)
    failed: bool = False
    trace: tuple[dict, ...] = field(default=(), compare=False)  # every match and its verdict


@lru_cache(maxsize=4)
def _corrector(table: RuleTable) -> Corrector:
    """Reads a misspelled red-flag word as the word ("bladdr" → "bladder"), never a real word."""
    return Corrector(table.vocabulary, known=table.protected)


def _clause_start(canon: Canonical, i: int, table: RuleTable) -> int:
    """Index of the first token of the clause that token i sits in (at most `window` back)."""
    ctx = table.context
    start = max(0, i - ctx.window)
    for k in range(i - 1, start - 1, -1):
        token = canon.tokens[k]
        if token in ".!?;" or token in ctx.terminators:
            return k + 1
        following = canon.tokens[k + 1] if k + 1 < i else ""
        if token in ("and", "or", ",") and following in ctx.new_clause_after_and:
            return k + 1
    return start


def _clause_end(canon: Canonical, j: int, table: RuleTable) -> int:
    ctx = table.context
    stop = min(len(canon.tokens), j + ctx.window)
    for k in range(j, stop):
        token = canon.tokens[k]
        if token in ".!?;" or token in ctx.terminators:
            return k
    return stop


def _verdict(rule: Rule, canon: Canonical, i: int, j: int, table: RuleTable) -> str:
    """'reported', 'asked', or why the match does not count."""
    ctx = table.context
    before = " ".join(canon.tokens[_clause_start(canon, i, table) : i])
    after = " " + " ".join(canon.tokens[j : _clause_end(canon, j, table)])
    unhedged = ctx.pseudo_negation.sub(" _ ", before)
    if ctx.negation_before.search(unhedged) or ctx.negation_after.search(after.rstrip() or " "):
        return "negated"
    if not rule.history_counts and (ctx.history_before.search(before) or ctx.history_after.search(after)):
        return "historical"
    other = list(ctx.other_person.finditer(before))
    if other and not rule.others_count and not set(before[other[-1].end() :].split()) & ctx.first_person:
        return "other person"
    if before and ctx.asking_before.search(before):  # "what is", "signs of", "what if I" ...
        return "asked"
    return "reported"


def _scan(message: Message, table: RuleTable) -> GuardrailResult:
    text = message.text
    canon = message.canonical.corrected(_corrector(table).correct)
    alerts: dict[str, RedFlag] = {}
    cards: dict[str, RedFlag] = {}
    trace = []
    for rule in table.rules:
        excluded = [m.span() for m in rule.exclude.finditer(canon.text)] if rule.exclude else []
        for match in rule.pattern.finditer(canon.text):
            a, b = match.span()
            if any(x < b and a < y for x, y in excluded):
                trace.append({"id": rule.id, "words": match.group(), "verdict": "figure of speech"})
                continue
            i, j = canon.token_range(a, b)
            verdict = _verdict(rule, canon, i, j, table)
            start, end = canon.source_spans[i][0], canon.source_spans[j - 1][1]
            source = text[start:end]
            trace.append({"id": rule.id, "words": source, "verdict": verdict, "start": start, "end": end})
            if verdict == "reported" and rule.id not in alerts:
                alerts[rule.id] = RedFlag(
                    rule.id, rule.urgency, rule.title, rule.message, source, False, rule.backed_by
                )
            elif verdict == "asked" and rule.id not in cards:
                cards[rule.id] = RedFlag(
                    rule.id, rule.urgency, rule.title, rule.info_message, source, True, rule.backed_by
                )
    order = {rule.id: n for n, rule in enumerate(table.rules)}

    def rank(flag: RedFlag) -> tuple[int, int]:
        return (flag.urgency != "emergency", order[flag.id])

    return GuardrailResult(
        alerts=tuple(sorted(alerts.values(), key=rank)),
        cards=tuple(sorted((c for c in cards.values() if c.id not in alerts), key=rank)),
        trace=tuple(trace),
    )


def detect_red_flags(message: Message | str, table: RuleTable | None = None) -> GuardrailResult:
    """Red flags in a whole message. If the check itself fails, the result says so (failed=True)
    and carries the general warning, so the reply fails safe instead of staying silent."""
    try:
        if isinstance(message, str):
            message = read_message(message)
        return _scan(message, table or default_table())
    except Exception:  # fail safe: any bug here must still show a warning, never crash or hide
        log.exception("guardrail failed; showing the general warning")
        return GuardrailResult(alerts=(FAIL_SAFE,), failed=True)


def backing_passage(flag: RedFlag, passages: list[Passage]) -> Passage | None:
    """The corpus passage that backs a warning (its rule's backed_by phrase), if the corpus has one."""
    if not flag.backed_by:
        return None
    return next((p for p in passages if flag.backed_by in p.text), None)
