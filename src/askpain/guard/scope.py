"""Scope: is a message about askpain's topic, and does it need the care team to decide?

Deterministic: domain vocabulary and clinician patterns (data/scope.yaml) together with
retrieval evidence (how close the best passage is). Thresholds are tuned on
tests/guard/scope.yaml, not on single examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from askpain.guard.message import Canonical, canonicalize

# Below this cosine similarity of the best passage, a message with no domain word is
# out of scope; at or above it, the corpus plausibly speaks to it (see README, "Scope").
MIN_DENSE_WITHOUT_DOMAIN = 0.40
# An off-topic word only counts against scope while retrieval evidence is weak.
MIN_DENSE_DESPITE_OFF_TOPIC = 0.55
# A message this close to a question of the bank (corpus/questions/) is in scope whatever its
# words: the bank holds questions the documents answer ("why do they want me to work on my core").
MIN_BANK_SIMILARITY = 0.80


@dataclass(frozen=True)
class ScopeRules:
    clinician: dict[str, re.Pattern]
    domain: frozenset[str]
    weak_domain: frozenset[str]
    off_topic: frozenset[str]


@dataclass(frozen=True)
class ScopeDecision:
    status: str  # "in_scope", "out_of_scope" or "needs_clinician"
    reason: str
    matched: str = ""


@cache
def default_rules() -> ScopeRules:
    data = yaml.safe_load(
        (resources.files("askpain.guard") / "data" / "scope.yaml").read_text(encoding="utf-8")
    )
    clinician = {
        kind: re.compile(rf"(?<![\w'])(?:{'|'.join(f'(?:{p})' for p in patterns)})(?![\w'])")
        for kind, patterns in data["needs_clinician"].items()
    }
    return ScopeRules(
        clinician,
        frozenset(data["domain"].split()),
        frozenset(data["weak_domain"].split()),
        frozenset(data["off_topic"].split()),
    )


def classify_scope(
    text: str | Canonical, best_dense: float, rules: ScopeRules | None = None, best_question: float = 0.0
) -> ScopeDecision:
    """Scope of a message (its text, or its canonical form), given the cosine similarity of
    the best retrieved passage and of the closest question of the bank."""
    rules = rules or default_rules()
    canon = canonicalize(text) if isinstance(text, str) else text
    words = set(canon.tokens)
    domain = sorted(words & rules.domain)
    weak = sorted(words & rules.weak_domain)
    off_topic = sorted(words & rules.off_topic)
    asked = best_question >= MIN_BANK_SIMILARITY
    if off_topic and not domain and not asked and best_dense < MIN_DENSE_DESPITE_OFF_TOPIC:
        reason = f"off-topic word and no domain word (dense {best_dense:.2f})"
        return ScopeDecision("out_of_scope", reason, off_topic[0])
    for kind, pattern in rules.clinician.items():
        match = pattern.search(canon.text)
        if match:
            return ScopeDecision("needs_clinician", f"{kind} question", match.group())
    if not (domain or weak or asked) and best_dense < MIN_DENSE_WITHOUT_DOMAIN:
        return ScopeDecision("out_of_scope", f"no domain word and weak retrieval (dense {best_dense:.2f})")
    found = domain or weak
    if found:
        return ScopeDecision("in_scope", f"domain word {found[0]!r}")
    if asked and best_dense < MIN_DENSE_WITHOUT_DOMAIN:
        return ScopeDecision("in_scope", f"close to a bank question ({best_question:.2f})")
    return ScopeDecision("in_scope", f"retrieval ({best_dense:.2f})")
