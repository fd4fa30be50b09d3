"""Compare context engines on the red-flag tables: askpain's own rules vs negspacy (NegEx)
and medspaCy (ConText). Matching is the same for all (askpain's patterns); only the
decision "does this match count?" changes. Neither library is an askpain dependency:

    python -m venv /tmp/ms && /tmp/ms/bin/pip install medspacy==1.3.1 pyyaml
    python -m venv /tmp/ng && /tmp/ng/bin/pip install negspacy==1.1.0 pyyaml
    PYTHONPATH=src /tmp/ms/bin/python bench/context_engines.py medspacy
    PYTHONPATH=src /tmp/ng/bin/python bench/context_engines.py negspacy
    PYTHONPATH=src .venv/bin/python bench/context_engines.py askpain
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

from askpain.guard.engine import detect_red_flags
from askpain.guard.hygiene import strip_invisible

TABLE = Path(__file__).resolve().parents[1] / "tests" / "guard" / "red_flags.yaml"


def candidate_spans(text: str) -> list[tuple[int, int]]:
    """Every pattern match (figures of speech already excluded), before any context decision."""
    return [
        (t["start"], t["end"]) for t in detect_red_flags(text).trace if t["verdict"] != "figure of speech"
    ]


def askpain_engine():
    return lambda text: bool(detect_red_flags(text).alerts)


def _spacy_decider(nlp, skip: set[str], counts) -> callable:
    from spacy.tokens import Span

    def decide(text: str) -> bool:
        text = strip_invisible(text)
        doc = nlp.make_doc(text)
        spans = []
        for a, b in candidate_spans(text):
            span = doc.char_span(a, b, label="RED_FLAG", alignment_mode="expand")
            if span is not None and not any(s.start < span.end and span.start < s.end for s in spans):
                spans.append(span)
        doc.ents = [Span(doc, s.start, s.end, label="RED_FLAG") for s in spans]
        for name, proc in nlp.pipeline:
            if name not in skip:
                doc = proc(doc)
        return any(counts(ent) for ent in doc.ents)

    return decide


def medspacy_engine():
    import medspacy

    nlp = medspacy.load()
    return _spacy_decider(
        nlp,
        {"medspacy_target_matcher"},
        lambda e: not (e._.is_negated or e._.is_historical or e._.is_family or e._.is_hypothetical),
    )


def negspacy_engine():
    import spacy
    from negspacy.negation import Negex  # noqa: F401 - registers the "negex" factory

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("negex", config={"ent_types": ["RED_FLAG"]})
    return _spacy_decider(nlp, set(), lambda e: not e._.negex)


ENGINES = {"askpain": askpain_engine, "medspacy": medspacy_engine, "negspacy": negspacy_engine}


def main(name: str) -> None:
    if name not in ENGINES:
        raise SystemExit(f"engine must be one of {', '.join(ENGINES)}")
    data = yaml.safe_load(TABLE.read_text())
    positives = [t for texts in data["positives"].values() for t in texts]
    near = data["near_misses"]
    decide = ENGINES[name]()
    timings = []

    def timed(text: str) -> bool:
        t = time.perf_counter()
        result = decide(text)
        timings.append((time.perf_counter() - t) * 1000)
        return result

    missed = [t for t in positives if not timed(t)]
    alarms = [t for t in near if timed(t)]
    q = statistics.quantiles(timings, n=100, method="inclusive")
    print(
        f"{name:9} missed {len(missed):3}/{len(positives)} ({len(missed) / len(positives):5.1%})  "
        f"false alarms {len(alarms):3}/{len(near)} ({len(alarms) / len(near):5.1%})  "
        f"p50 {q[49]:.2f} ms  p95 {q[94]:.2f} ms"
    )
    for text in (missed + alarms)[:8]:
        print("   e.g.", "MISS" if text in missed else "ALARM", "|", text[:90])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "askpain")
