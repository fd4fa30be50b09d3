"""Run a question set through the answer pipeline and measure it (../shared/spec/question-set.md).

Checks are pure functions of an answer record; the summary adds the figures a clinic
lead gates on (red-flag sensitivity, false alarms, support@1, verbatim quoting, latency) and
the answers' own: the answer among the first two quoted sentences, answers that quote no
answering sentence, and unanswerable questions declined without quoting anything.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable

from askpain.answer.sentences import DOSE
from askpain.evals.questionset import contains_phrase

_SENTENCE_LINE = re.compile(r"^(?!>)(.+?) \[(\d+)\]$", re.MULTILINE)


def _cited(record: dict, sources: list[str] | None) -> list[dict]:
    return [c for c in record["citations"] if not sources or c["doc_id"] in sources]


CHECKS: dict[str, Callable[[dict, object, dict], bool]] = {
    "status": lambda r, want, e: r["status"] in want,
    "sources": lambda r, want, e: any(c["doc_id"] in want for c in r["citations"]),
    "support": lambda r, want, e: any(
        contains_phrase(c["passage"], want) for c in _cited(r, e.get("sources"))
    ),
    "red_flags": lambda r, want, e: any(f["id"] in want for f in r["red_flags"]),
    "no_red_flags": lambda r, want, e: not r["red_flags"] if want else True,
    "no_dose": lambda r, want, e: not DOSE.search(r["answer"]) if want else True,
    "must_not_say": lambda r, want, e: not contains_phrase(r["answer"], want),
}


def check_record(record: dict, expect: dict) -> dict[str, bool]:
    """Each expect field's verdict for one answer record."""
    return {name: bool(CHECKS[name](record, want, expect)) for name, want in expect.items()}


def answer_sentences(record: dict) -> list[tuple[str, int]]:
    """The quoted sentences of an answer ("sentence [n]" lines), with their citation numbers."""
    return [(m.group(1), int(m.group(2))) for m in _SENTENCE_LINE.finditer(record["answer"])]


def category(item: dict) -> str:
    """A label for reports: explicit `category`, "adversarial" for ids starting "adv-", else read
    off the expectations."""
    if item.get("category"):
        return str(item["category"])
    if str(item["id"]).startswith("adv-"):
        return "adversarial"
    expect = item["expect"]
    statuses = expect.get("status") or []
    if expect.get("red_flags"):
        return "red flag"
    if expect.get("no_red_flags") and not expect.get("support"):
        return "near miss"
    if "out_of_scope" in statuses:
        return "out of scope"
    if "needs_clinician" in statuses:
        return "needs clinician"
    if expect.get("support") or expect.get("sources"):
        return "answerable"
    return "other"


def _rate(values: Iterable[bool]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def _percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarize(results: list[dict], corpus_texts: dict[str, str]) -> dict:
    """Figures for a run: results are answer records with `id`, `expect`, `checks`, `category`."""
    checks: dict[str, list[bool]] = {}
    for r in results:
        for name, ok in r["checks"].items():
            checks.setdefault(name, []).append(ok)
    with_support = [r for r in results if r["expect"].get("support")]
    sentences = [(s, n, r) for r in results for s, n in answer_sentences(r)]
    citations = [c for r in results for c in r["citations"]]
    categories: dict[str, list[bool]] = {}
    for r in results:
        categories.setdefault(r["category"], []).append(all(r["checks"].values()))

    def status_rate(status: str) -> float | None:
        return _rate(r["checks"]["status"] for r in results if status in (r["expect"].get("status") or []))

    latencies = [r["latency_ms"] for r in results if "latency_ms" in r]
    # Where the answer is among the quoted sentences themselves (not only in a cited passage).
    answering = [
        [k for k, (s, _) in enumerate(answer_sentences(r)) if contains_phrase(s, r["expect"]["support"])]
        for r in with_support
    ]
    unanswerable = [r for r in results if "no_answer" in (r["expect"].get("status") or [])]
    return {
        "items": len(results),
        "overall": _rate(all(r["checks"].values()) for r in results),
        "checks": {name: _rate(v) for name, v in sorted(checks.items())},
        "red_flag_sensitivity": _rate(
            r["checks"]["red_flags"] for r in results if "red_flags" in r["checks"]
        ),
        "false_alarm_rate": _rate(
            not r["checks"]["no_red_flags"] for r in results if r["expect"].get("no_red_flags")
        ),
        "support": _rate(r["checks"]["support"] for r in with_support),
        "support_at_1": _rate(
            bool(_cited(r, r["expect"].get("sources")))
            and r["citations"]
            and contains_phrase(r["citations"][0]["passage"], r["expect"]["support"])
            for r in with_support
        ),
        "answer_in_first_two": _rate(bool(k) and k[0] < 2 for k in answering),
        "no_answering_sentence": _rate(not k for k in answering),
        "declined_without_quoting": _rate(
            r["status"] != "answered" and not answer_sentences(r) for r in unanswerable
        ),
        "sentences_verbatim": _rate(
            0 < n <= len(r["citations"]) and s in r["citations"][n - 1]["passage"] for s, n, r in sentences
        ),
        "citations_verbatim": _rate(
            corpus_texts.get(c["doc_id"], "")[c["start"] : c["start"] + len(c["passage"])] == c["passage"]
            for c in citations
        ),
        "out_of_scope_status": status_rate("out_of_scope"),
        "needs_clinician_status": status_rate("needs_clinician"),
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p95_ms": _percentile(latencies, 95),
        "categories": {name: _rate(v) for name, v in sorted(categories.items())},
    }


def below_thresholds(summary: dict, thresholds: dict) -> list[str]:
    """Failed gates, as readable lines. thresholds: {figure: minimum} or {figure: {max: x}}."""
    failures = []
    for name, limit in thresholds.items():
        value = summary.get(name)
        if value is None:
            continue
        if isinstance(limit, dict) and "max" in limit:
            if value > limit["max"]:
                failures.append(f"{name} {value:.3f} is above the maximum {limit['max']}")
        elif value < limit:
            failures.append(f"{name} {value:.3f} is below the minimum {limit}")
    return failures


def evaluate(items: list[dict], ask: Callable[[str], dict], progress: Callable[[Iterable], Iterable] = iter):
    """Answer records for items, each with id, checks and category added."""
    results = []
    for item in progress(items):
        record = ask(item["question"])
        results.append(
            {
                "id": item["id"],
                **record,
                "checks": check_record(record, item["expect"]),
                "category": category(item),
                "expect": item["expect"],
            }
        )
    return results
