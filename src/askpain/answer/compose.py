"""Compose the reply: alerts first, then the chosen sentences quoted verbatim with [n] markers,
then the help-now note and the standing line. Pure: data in, Answer out."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from askpain.guard.engine import GuardrailResult
from askpain.guard.message import Message
from askpain.guard.scope import ScopeDecision
from askpain.types import Answer, Citation, Passage, RedFlag, ScoredSentence


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
    too_long: str
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
    data = yaml.safe_load(
        (resources.files("askpain.answer") / "data" / "wording.yaml").read_text(encoding="utf-8")
    )
    flat = {k: " ".join(v.split()) if isinstance(v, str) else v for k, v in data.items()}
    flat["suggestions"], flat["examples"] = tuple(data["suggestions"]), tuple(data["examples"])
    return Wording(**flat)


@dataclass(frozen=True)
class Situation:
    """Everything about one message that shapes the reply, gathered by the pipeline."""

    message: Message
    guard: GuardrailResult
    scope: ScopeDecision | None = None
    chosen: tuple[ScoredSentence, ...] = ()  # the sentences that answer, best first
    backing: tuple[tuple[str, Passage], ...] = ()  # red-flag id -> passage that backs it
    suggestions: tuple[str, ...] = ()
    other_language: bool = False
    retrieval_failed: bool = False


def _flag_block(flag: RedFlag, wording: Wording, marker: str = "") -> str:
    """An alert (a reported sign) or an info card (a condition asked about) as a quote block."""
    icon, heading = ("ℹ️", wording.card_heading) if flag.asked else ("⚠️", wording.alert_heading[flag.urgency])
    return f"> {icon} **{heading}: {flag.title}**  \n> {flag.message}{marker}"


def _bullets(questions: tuple[str, ...]) -> str:
    return "\n".join(f"- {q}" for q in questions)


def compose_answer(situation: Situation, wording: Wording | None = None) -> Answer:
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
    if not s.message.text:
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
        lines = []
        for sentence in s.chosen:
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
    if s.message.capped:
        notes.append("too_long")
        body = f"_{wording.too_long}_\n\n{body}"
    elif s.message.truncated:
        notes.append("long_input")
        body = f"_{wording.long_input}_\n\n{body}"
    blocks.append(body)
    blocks.append(wording.help_now)
    blocks.append(wording.disclaimer)
    return Answer(
        question=s.message.raw,
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
