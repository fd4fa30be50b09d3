"""Guardrail figures: red flags raised and false alarms per id, per layer, per split; and speed.

    .venv/bin/python bench/guardrail.py                 # check split, then dev split
    .venv/bin/python bench/guardrail.py --split check   # one split: check, dev or table

The check split (evals/guard/check/) was written blind, from a description of the categories
only, and nothing is tuned on it; the dev split (evals/guard/dev/) is what the concept
lexicons, the context engine and the classifier were tuned and trained on, so its figures are
optimistic. Recall counts a positive as raised when its own id is raised; a near-miss is a
false alarm when any alert is raised. The miss rate's upper bound is the one-sided 95%
Clopper-Pearson bound.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections import Counter

import numpy as np
from scipy.stats import beta

from askpain.evals.guardsets import GuardItem, load_guard_split, load_rule_table
from askpain.guard.engine import detect_in_conversation, detect_red_flags
from askpain.guard.rules import RED_FLAG_IDS
from askpain.retrieval.embedding import Embedder
from askpain.settings import Settings

LAYERS = {"rules": ("rules",), "classifier": ("classifier",), "both": ("rules", "classifier")}


def miss_upper_bound(misses: int, n: int) -> float:
    """One-sided 95% upper bound on the miss rate (Clopper-Pearson)."""
    return 1.0 if n == 0 else float(beta.ppf(0.95, misses + 1, n - misses)) if misses < n else 1.0


class CachedEncoder:
    def __init__(self, embedder: Embedder) -> None:
        self.embedder, self.cache = embedder, {}

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            self.cache.update(zip(missing, self.embedder.encode(missing, batch_size=64), strict=True))
        return np.stack([self.cache[t] for t in texts])


def raised(item: GuardItem, layers: tuple[str, ...], encode) -> set[str]:
    def detect(text: str):
        return detect_red_flags(text, encode=encode, layers=layers)

    result = detect_in_conversation(list(item.turns), detect) if len(item.turns) > 1 else detect(item.text)
    return {f.id for f in result.alerts}


def report(name: str, items: list[GuardItem], encode) -> None:
    singles = [i for i in items if len(i.turns) == 1]
    talks = [i for i in items if len(i.turns) > 1]
    near = [i for i in singles if not i.flags]
    print(f"\n== {name}: {len(singles)} messages ({len(singles) - len(near)} with red flags, "
          f"{len(near)} near-misses) and {len(talks)} conversations")  # fmt: skip
    got = {layer: [raised(i, layers, encode) for i in singles] for layer, layers in LAYERS.items()}
    print(f"{'':22}{'n':>5}  {'raised: rules':>13} {'classifier':>10} {'both':>7}  {'miss UB95':>9}"
          f"  {'false alarms: rules':>19} {'classifier':>10} {'both':>6}")  # fmt: skip
    totals = Counter()
    for flag_id in RED_FLAG_IDS:
        pos = [k for k, i in enumerate(singles) if flag_id in i.flags]
        hits = {layer: sum(flag_id in got[layer][k] for k in pos) for layer in LAYERS}
        alarms = {
            layer: sum(flag_id in got[layer][k] for k, i in enumerate(singles) if not i.flags)
            for layer in LAYERS
        }
        for layer in LAYERS:
            totals[f"hit {layer}"] += hits[layer]
        totals["pos"] += len(pos)
        n = max(len(pos), 1)
        print(
            f"{flag_id:22}{len(pos):>5}  {hits['rules'] / n:>13.1%} {hits['classifier'] / n:>10.1%}"
            f" {hits['both'] / n:>7.1%}  {miss_upper_bound(len(pos) - hits['both'], len(pos)):>9.1%}"
            f"  {alarms['rules']:>19} {alarms['classifier']:>10} {alarms['both']:>6}"
        )
    fa = {layer: sum(bool(got[layer][k]) for k, i in enumerate(singles) if not i.flags) for layer in LAYERS}
    n = totals["pos"]
    print(
        f"{'all ids':22}{n:>5}  {totals['hit rules'] / n:>13.1%} {totals['hit classifier'] / n:>10.1%}"
        f" {totals['hit both'] / n:>7.1%}  {miss_upper_bound(n - totals['hit both'], n):>9.1%}"
        f"  {fa['rules'] / len(near):>19.1%} {fa['classifier'] / len(near):>10.1%}"
        f" {fa['both'] / len(near):>6.1%}"
    )
    kinds = Counter(i.kind for k, i in enumerate(singles) if not i.flags and got["both"][k])
    if kinds:
        print("false alarms (both) by kind: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    missed = Counter(i.kind for k, i in enumerate(singles) if i.flags and not set(i.flags) <= got["both"][k])
    if missed:
        print("misses (both) by kind: " + ", ".join(f"{k} {v}" for k, v in missed.most_common()))
    if talks:
        flagged = [i for i in talks if i.flags]
        calm = [i for i in talks if not i.flags]
        hit = sum(set(i.flags) <= raised(i, LAYERS["both"], encode) for i in flagged)
        false = sum(bool(raised(i, LAYERS["both"], encode)) for i in calm)
        print(f"conversations: {hit}/{len(flagged)} signs told over several messages raised; "
              f"{false}/{len(calm)} benign conversations with a false alarm")  # fmt: skip


def speed(items: list[GuardItem], embedder: Embedder) -> None:
    texts = [i.text for i in items if len(i.turns) == 1][:400]
    for text in texts[:20]:
        detect_red_flags(text, encode=embedder.encode)
    rules_ms, full_ms, encode_ms = [], [], []
    for text in texts:
        t = time.perf_counter()
        detect_red_flags(text)
        rules_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        detect_red_flags(text, encode=embedder.encode)
        full_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        embedder.encode([text])
        encode_ms.append((time.perf_counter() - t) * 1000)

    def q(values: list[float]) -> tuple[float, float]:
        cut = statistics.quantiles(values, n=100, method="inclusive")
        return cut[49], cut[94]

    print(f"\n== speed, {len(texts)} messages (mean {statistics.mean(map(len, texts)):.0f} chars), warm:")
    print(f"{'':34}{'p50 ms':>8}{'p95 ms':>8}")
    for label, values in [("rules only", rules_ms), ("rules + classifier (embedding incl.)", full_ms),
                          ("one encode of the message (floor)", encode_ms)]:  # fmt: skip
        p50, p95 = q(values)
        print(f"{label:34}{p50:>8.2f}{p95:>8.2f}")
    print(f"{'target: p95 <= 15 ms':34} {'met' if q(full_ms)[1] <= 15 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["check", "dev", "table"], action="append")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    embedder = Embedder(Settings.from_env().resolved_model_path())
    encode = CachedEncoder(embedder)
    splits = args.split or ["check", "dev"]
    names = {
        "check": "check split (frozen, written blind; never tuned on)",
        "dev": "dev split (tuned and trained on)",
        "table": "rule table tests/guard/red_flags.yaml",
    }
    for split in splits:
        items = load_rule_table() if split == "table" else load_guard_split(split)
        report(names[split], items, encode)
        if split == "check":  # each part was frozen at a different time: its own figures too
            for part in sorted({i.source.split(":")[0] for i in items}):
                part_items = [i for i in items if i.source.startswith(f"{part}:")]
                report(f"check split, {part} only", part_items, encode)
    speed(load_guard_split(splits[0]) if splits[0] != "table" else load_rule_table(), embedder)


if __name__ == "__main__":
    main()
