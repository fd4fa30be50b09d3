"""The red-flag rule table (data/red_flags.yaml), compiled once. The engine is guardrail.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

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
    pattern: re.Pattern  # all patterns of the rule as one alternation
    exclude: re.Pattern | None


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
    asking_before: re.Pattern


@dataclass(frozen=True)
class RuleTable:
    rules: tuple[Rule, ...]
    context: Context
    vocabulary: frozenset[str]
    protected: frozenset[str]  # real words near a vocabulary word: never "corrected"


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(3):  # macros may use macros
        pattern = _MACRO.sub(lambda m: macros[m.group(1)], pattern)
    return pattern


def _words(patterns: list[str], macros: dict[str, str], anchored: bool = False) -> re.Pattern:
    """One regex for a list of alternatives; whole words only unless the pattern anchors itself."""
    body = "|".join(f"(?:{_expand(p, macros)})" for p in patterns)
    return re.compile(body if anchored else rf"(?<![\w'])(?:{body})(?![\w'])")


def compile_table(data: dict, protected: frozenset[str]) -> RuleTable:
    macros = data["macros"]
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
                pattern=_words(entry["patterns"], macros),
                exclude=_words(entry["exclude"], macros) if entry.get("exclude") else None,
            )
        )
    missing = set(RED_FLAG_IDS) - {r.id for r in rules}
    if missing:
        raise ValueError(f"red-flag rules missing for {sorted(missing)}")
    c = data["context"]
    context = Context(
        window=int(c["window"]),
        terminators=frozenset(c["terminators"].split()),
        new_clause_after_and=frozenset(c["new_clause_after_and"].split()),
        first_person=frozenset(c["first_person"].split()),
        negation_before=_words(c["negation_before"], macros),
        pseudo_negation=_words(c["pseudo_negation"], macros),
        negation_after=_words(c["negation_after"], macros, anchored=True),
        history_before=_words(c["history_before"], macros),
        history_after=_words(c["history_after"], macros, anchored=True),
        other_person=_words(c["other_person"], macros),
        # Anchored at the end: the lead-in must come right before the matched words.
        asking_before=re.compile(
            rf"(?:^|(?<= ))(?:{'|'.join(c['asking_before'])})(?: (?:{c['asking_modifiers']}))?$"
        ),
    )
    return RuleTable(tuple(rules), context, frozenset(data["vocabulary"].split()), protected)


@cache
def default_table() -> RuleTable:
    data_dir = resources.files("askpain.guard") / "data"
    data = yaml.safe_load((data_dir / "red_flags.yaml").read_text(encoding="utf-8"))
    protected = frozenset(
        line.strip()
        for line in (data_dir / "protected_words.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    return compile_table(data, protected)
