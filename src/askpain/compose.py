"""Compose the reply: alerts first, then 2-4 sentences quoted verbatim with [n] markers,
then the help-now note and the standing line. Pure: data in, Answer out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from askpain.guardrail import GuardrailResult
from askpain.scope import ScopeDecision
from askpain.textnorm import CleanText
from askpain.types import Answer, Citation, Passage, RedFlag, ScoredSentence

# Tuned on evals/retrieval.yaml (bench/answer_tuning.py); see README, "Answers".
MIN_ANSWER_SCORE = 0.34  # below this the best sentence does not answer the question
# A question with a topic word the documents never use needs a stronger best sentence.
MIN_SCORE_WITH_UNKNOWN_TERM = 0.5
KEEP_WITHIN = 0.12  # further sentences must score within this of the best one
MAX_SENTENCES = 4
MIN_SENTENCES = 2
SAME_FACT = 0.80  # cosine between two sentences above which they say the same thing

# A medicine amount: never shown, whatever the corpus says (and the evals' no_dose check).
DOSE = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|g|ml|cc|milligrams?|micrograms?|grams?|units?|pills?|tablets?|"
    r"capsules?|doses?|puffs?|drops?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Wording:
    help_now: str
    disclaimer: str
    answer_lead: str
    clinician: str
    no_answer: str
    out_of_scope: str
    empty: str
    long_input: str
    other_language: str
    retrieval_error: str
    alert_only: str
    guardrail_failed: str
    card_heading: str
    alert_heading: dict[str, str]
    suggestions: tuple[str, ...]
    examples: tuple[str, ...]


@cache
def default_wording() -> Wording:
    data = yaml.safe_load((resources.files("askpain") / "data" / "wording.yaml").read_text(encoding="utf-8"))
    flat = {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in data.items()}
    flat["suggestions"], flat["examples"] = tuple(data["suggestions"]), tuple(data["examples"])
    return Wording(**flat)


@dataclass(frozen=True)
class Situation:
    """Everything about one message that shapes the reply, gathered by the pipeline."""

    question: str
    cleaned: CleanText
    guard: GuardrailResult
    scope: ScopeDecision | None = None
    candidates: tuple[ScoredSentence, ...] = ()
    backing: tuple[tuple[str, Passage], ...] = ()  # red-flag id -> passage that backs it
    suggestions: tuple[str, ...] = ()
    unknown_terms: tuple[str, ...] = ()  # topic words the documents never use
    other_language: bool = False
    retrieval_failed: bool = False


def select_sentences(
    candidates: tuple[ScoredSentence, ...],
    similarity: Callable[[ScoredSentence, ScoredSentence], float],
    unknown_terms: tuple[str, ...] = (),
) -> list[ScoredSentence]:
    """The 2-4 sentences that answer best, without saying one fact twice; [] if none answers."""
    ranked = sorted(
        (c for c in candidates if not DOSE.search(c.text)),
        key=lambda c: (-c.score, c.passage.chunk_id, c.start),
    )
    floor = MIN_SCORE_WITH_UNKNOWN_TERM if unknown_terms else MIN_ANSWER_SCORE
    if not ranked or ranked[0].score < floor:
        return []
    chosen = [ranked[0]]
    for candidate in ranked[1:]:
        if len(chosen) == MAX_SENTENCES:
            break
        close_enough = candidate.score >= ranked[0].score - KEEP_WITHIN
        needed = len(chosen) < MIN_SENTENCES and candidate.score >= MIN_ANSWER_SCORE
        if (close_enough or needed) and all(similarity(candidate, c) < SAME_FACT for c in chosen):
            chosen.append(candidate)
    return chosen


def _flag_block(flag: RedFlag, wording: Wording, marker: str = "") -> str:
    """An alert (a reported sign) or an info card (a condition asked about) as a quote block."""
    icon, heading = ("ℹ️", wording.card_heading) if flag.asked else ("⚠️", wording.alert_heading[flag.urgency])
    return f"> {icon} **{heading}: {flag.title}**  \n> {flag.message}{marker}"


def _bullets(questions: tuple[str, ...]) -> str:
    return "\n".join(f"- {q}" for q in questions)


def compose_answer(
    situation: Situation,
    similarity: Callable[[ScoredSentence, ScoredSentence], float],
    wording: Wording | None = None,
) -> Answer:
    wording = wording or default_wording()
    s = situation
    citations: list[Citation] = []

    def cite(passage: Passage, score: float) -> int:
        for c in citations:
            if c.passage.chunk_id == passage.chunk_id:
                return c.n
        citations.append(Citation(len(citations) + 1, passage, score))
        return len(citations)

    notes: list[str] = []
    blocks: list[str] = []
    backing = dict(s.backing)
    flag_citations: list[tuple[str, int]] = []
    for flag in (*s.guard.alerts, *s.guard.cards):
        marker = ""
        if flag.id in backing:
            n = cite(backing[flag.id], 1.0)
            flag_citations.append((flag.id, n))
            marker = f" [{n}]"
        blocks.append(_flag_block(flag, wording, marker))
    if s.guard.failed:
        notes.append("guardrail_failed")

    status, sentences = "answered", []
    if not s.cleaned.text:
        status, body = "no_answer", f"{wording.empty}\n\n{_bullets(wording.examples)}"
        notes.append("empty")
    elif s.other_language:
        status, body = "out_of_scope", wording.other_language
        notes.append("other_language")
    elif s.retrieval_failed:
        status, body = "no_answer", wording.retrieval_error
        notes.append("retrieval_error")
    elif s.scope is not None and s.scope.status == "out_of_scope" and not s.guard.alerts:
        status, body = "out_of_scope", f"{wording.out_of_scope}\n\n{_bullets(wording.examples)}"
    else:
        chosen = select_sentences(s.candidates, similarity, s.unknown_terms)
        lines = []
        for sentence in chosen:
            n = cite(sentence.passage, sentence.score)
            sentences.append((sentence.text, n))
            lines.append(f"{sentence.text} [{n}]")
        clinician = s.scope is not None and s.scope.status == "needs_clinician"
        if clinician:
            status = "needs_clinician"
            body = wording.clinician + ("\n\n" + "\n\n".join(lines) if lines else "")
        elif lines:
            body = wording.answer_lead + "\n\n" + "\n\n".join(lines)
        elif s.guard.alerts:
            status, body = "no_answer", wording.alert_only
        else:
            status = "no_answer"
            body = f"{wording.no_answer}\n\n{_bullets(s.suggestions)}"
    if s.cleaned.truncated:
        notes.append("long_input")
        body = f"_{wording.long_input}_\n\n{body}"
    blocks.append(body)
    blocks.append(wording.help_now)
    blocks.append(wording.disclaimer)
    return Answer(
        question=s.question,
        status=status,
        answer="\n\n".join(blocks),
        citations=tuple(citations),
        red_flags=() if s.guard.failed else s.guard.alerts,
        red_flag_citations=tuple(flag_citations),
        cards=s.guard.cards,
        sentences=tuple(sentences),
        body=body,
        notes=tuple(notes),
        guardrail_failed=s.guard.failed,
    )
