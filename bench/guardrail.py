"""Guardrail speed per message (p50/p95) over the red-flag tables, and for a 50,000-character message.

Run: .venv/bin/python bench/guardrail.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml

from askpain.guard.engine import detect_red_flags
from askpain.guard.rules import default_table

ROUNDS = 20
TABLE = Path(__file__).resolve().parents[1] / "tests" / "guard" / "red_flags.yaml"


def main() -> None:
    data = yaml.safe_load(TABLE.read_text())
    messages = [t for texts in data["positives"].values() for t in texts] + data["near_misses"]
    t = time.perf_counter()
    default_table()
    print(f"rule table load + compile: {(time.perf_counter() - t) * 1000:.1f} ms (once per process)")
    for text in messages:  # warm the typo-correction cache as a running server would
        detect_red_flags(text)
    timings = []
    for _ in range(ROUNDS):
        for text in messages:
            t = time.perf_counter()
            detect_red_flags(text)
            timings.append((time.perf_counter() - t) * 1e6)
    q = statistics.quantiles(timings, n=100, method="inclusive")
    mean_len = statistics.mean(len(m) for m in messages)
    print(f"{len(timings)} checks of {len(messages)} table messages (mean {mean_len:.0f} chars):")
    print(f"  p50 {q[49]:7.0f} µs   p95 {q[94]:7.0f} µs   max {max(timings):7.0f} µs")
    long_text = "My back has been sore and I have questions about physical therapy. " * 760 + "I wet myself."
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        detect_red_flags(long_text)
        runs.append((time.perf_counter() - t) * 1000)
    print(f"{len(long_text)}-character message: median {statistics.median(runs):.1f} ms")


if __name__ == "__main__":
    main()
