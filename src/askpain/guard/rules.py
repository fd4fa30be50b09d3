"""The red-flag rule table, compiled once: phrase patterns (data/red_flags.yaml) and
combinations of concept lexicons (data/concepts.yaml). The engine that applies it is engine.py."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources

import yaml

from askpain.guard.wordindex import WordAlternation, WordIndex, initials

RED_FLAG_IDS = (
    "cauda_equina", "neurological_deficit", "infection", "epidural_hematoma", "spinal_headache",
    "allergic_reaction", "cancer", "fracture", "self_harm", "medical_emergency",
)  # fmt: skip
URGENCIES = ("emergency", "urgent")
_MACRO = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Rule:
    id: str
    urgency: str
    title: str
    message: str
    info_message: str
    backed_by: str | None
    history_counts: bool
    others_count: bool
    others_need: re.Pattern | None  # someone else's sign counts only with these words too
    phrases: WordAlternation  # all phrase patterns of the rule
    exclude: WordAlternation  # words that make a match something else ("hay fever")
    combinations: WordAlternation | None = None  # its concept combinations
    others_need_anywhere: bool = False  # others_need anywhere in the message, not only in its sentence


@dataclass(frozen=True)
class Context:
    window: int
    terminators: frozenset[str]
    new_clause_after_and: frozenset[str]
    first_person: frozenset[str]
    negation_before: re.Pattern
    pseudo_negation: re.Pattern
    negation_after: re.Pattern
    history_before: re.Pattern
    history_after: re.Pattern
    other_person: re.Pattern
    anyone_if: re.Pattern
    anyone: frozenset[str]
    asking_before: re.Pattern
    other_person_past: re.Pattern
    other_person_over: re.Pattern
    animals: frozenset[str]
    answer_after: re.Pattern
    resolved_after: re.Pattern
    returned_after: frozenset[str]
    question_openers: frozenset[str]
    not_anchor: frozenset[str]
    history_in_sentence: re.Pattern
    next_sentence_clears: re.Pattern
    next_sentence_resolves: re.Pattern
    hypothetical_openers: re.Pattern
    report_questions: re.Pattern
    answer_affirms: re.Pattern
    if_now: frozenset[str]
    greetings: frozenset[str]
    figures_of_speech: re.Pattern


@dataclass(frozen=True, eq=False)  # hashed by identity: it keys the corrector cache on every check
class RuleTable:
    rules: tuple[Rule, ...]
    context: Context
    vocabulary: frozenset[str]
    protected: frozenset[str]  # real words near a vocabulary word: never "corrected"
    helper_lead: str = ""  # before an alert about someone else's sign, to the person helping
    earlier_lead: str = ""  # before an alert raised by an earlier message of the conversation
    # Every rule's phrases, combinations and exclusions (rule n's are 3n, 3n + 1, 3n + 2),
    # then the figures of speech, matched in one pass.
    index: WordIndex | None = None


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(3):  # macros may use macros
        pattern = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
    return pattern


def _words(patterns: list[str], macros: dict[str, str], anchored: bool = False) -> re.Pattern:
    """One regex for a list of alternatives; whole words only unless the pattern anchors itself."""
    body = "|".join(f"(?:{_expand(p, macros)})" for p in patterns)
    return re.compile(body if anchored else rf"(?<![\w'])(?:{body})(?![\w'])")


# Words that may stand between two concepts of one combination: not a negation, not "but",
# not the end of a sentence ("my groin isn't numb" and "groin. numb" are no combination).
_GAP = (
    r"(?: (?!(?:not|no|never|isn't|aren't|wasn't|weren't|doesn't|don't|didn't|won't|haven't|hasn't"
    r"|but|however|although|except)(?![a-z']))(?:[a-z0-9']+|,)){{0,{n}}} "
)


def _combination(names: list[str], lexicons: dict[str, str]) -> list[tuple[str, ...]]:
    """Every order of the concepts, as their lexicons: (a, b), (b, a)."""
    for name in names:
        if name not in lexicons:
            raise ValueError(f"concepts.yaml: combination uses unknown concept {name!r}")
    return [tuple(f"(?:{lexicons[n]})" for n in order) for order in itertools.permutations(names)]


@cache
def _initials(pattern: str) -> str:
    return initials(pattern)


def compile_concepts(data: dict, macros: dict[str, str]) -> dict[str, WordAlternation]:
    """One alternation per red-flag id of its concept combinations. A lexicon is a list of words
    or phrases (regex, canonical form); it may use the rule table's macros and other lexicons."""
    lexicons: dict[str, str] = {}
    merged = dict(macros)
    for name, words in data["lexicons"].items():
        merged[name] = lexicons[name] = "|".join(f"(?:{_expand(w, merged)})" for w in words)
    window = int(data.get("window", 6))
    gap = _GAP.format(n=window)
    out = {}
    for flag_id, combos in data["combinations"].items():
        if flag_id not in RED_FLAG_IDS:
            raise ValueError(f"concepts.yaml: {flag_id!r} is not a red-flag id of the answer schema")
        orders = [order for c in combos for order in _combination(c, lexicons)]
        # At most `window` words apart: "{a} ... {b}", "{b} ... {a}"; each concept after the gap
        # behind a look at its first letter, so the gap's backtracking skips words fast.
        alternatives = [order[0] + "".join(gap + _initials(p) + p for p in order[1:]) for order in orders]
        out[flag_id] = WordAlternation(alternatives, parts=orders, gap=window)
    return out


# Context lists read against the words right after a match, from their first word on.
_ANCHORED = frozenset(
    {"negation_after", "history_after", "answer_after", "next_sentence_clears", "next_sentence_resolves"}
)


def _context(c: dict, macros: dict[str, str]) -> Context:
    """Each context entry by the type of its field: a string of words, or a list of regexes."""
    values: dict = {"window": int(c["window"])}
    for f in fields(Context):
        if f.name in ("window", "asking_before"):
            continue
        raw = c[f.name]
        if f.type.startswith("frozenset"):
            if not isinstance(raw, str):
                raise ValueError(f"red_flags.yaml: context.{f.name} must be a string of words")
            values[f.name] = frozenset(raw.split())
        else:
            values[f.name] = _words(raw, macros, anchored=f.name in _ANCHORED)
    # Anchored at the end: the lead-in must come right before the matched words.
    values["asking_before"] = re.compile(
        rf"(?:^|(?<= ))(?:{'|'.join(c['asking_before'])})(?: (?:{c['asking_modifiers']}))?$"
    )
    return Context(**values)


def compile_table(data: dict, protected: frozenset[str], concepts: dict | None = None) -> RuleTable:
    macros = data["macros"]
    combined = compile_concepts(concepts, macros) if concepts else {}
    rules = []
    for entry in data["rules"]:
        if entry["id"] not in RED_FLAG_IDS or entry["urgency"] not in URGENCIES:
            raise ValueError(f"red-flag rule {entry['id']!r}: id or urgency is not in the answer schema")
        rules.append(
            Rule(
                id=entry["id"],
                urgency=entry["urgency"],
                title=entry["title"],
                message=" ".join(entry["message"].split()),
                info_message=" ".join(entry["info_message"].split()),
                backed_by=entry.get("backed_by"),
                history_counts=bool(entry.get("history_counts", False)),
                others_count=bool(entry.get("others_count", False)),
                others_need=re.compile(rf"(?<![\w'])(?:{entry['others_need']})(?![\w'])")
                if entry.get("others_need")
                else None,
                others_need_anywhere=entry.get("others_need_in", "sentence") == "message",
                phrases=WordAlternation([_expand(p, macros) for p in entry["patterns"]]),
                exclude=WordAlternation([_expand(p, macros) for p in entry.get("exclude") or []]),
                combinations=combined.get(entry["id"]),
            )
        )
    missing = set(RED_FLAG_IDS) - {r.id for r in rules}
    if missing:
        raise ValueError(f"red-flag rules missing for {sorted(missing)}")
    context = _context(data["context"], macros)
    helper_lead = " ".join(data.get("helper_lead", "").split())
    earlier_lead = " ".join(data.get("earlier_lead", "").split())
    vocabulary = frozenset(data["vocabulary"].split())
    figures = WordAlternation([_expand(p, macros) for p in data["context"]["figures_of_speech"]])
    index = WordIndex(
        [a for r in rules for a in (r.phrases, r.combinations or WordAlternation([]), r.exclude)] + [figures]
    )
    return RuleTable(tuple(rules), context, vocabulary, protected, helper_lead, earlier_lead, index)


@cache
def default_table() -> RuleTable:
    data_dir = resources.files("askpain.guard") / "data"
    data = yaml.safe_load((data_dir / "red_flags.yaml").read_text(encoding="utf-8"))
    concepts = yaml.safe_load((data_dir / "concepts.yaml").read_text(encoding="utf-8"))
    protected = frozenset(
        line.strip()
        for line in (data_dir / "protected_words.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return compile_table(data, protected, concepts)
