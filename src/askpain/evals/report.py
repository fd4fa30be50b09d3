"""The eval report: one self-contained HTML page (tables and SVG plots) a clinic lead can read."""

from __future__ import annotations

from html import escape
from pathlib import Path

FIGURES = [
    ("overall", "All checks pass", "rate"),
    ("support", "Answer holds the expected support", "rate"),
    ("support_at_1", "First citation holds the support (support@1)", "rate"),
    ("answer_in_first_two", "Answer in the first two quoted sentences", "rate"),
    ("no_answering_sentence", "No quoted sentence holds the answer", "rate"),
    ("declined_without_quoting", "Unanswerable declined without quoting", "rate"),
    ("red_flag_sensitivity", "Red flags raised (sensitivity)", "rate"),
    ("false_alarm_rate", "False alarms on near-misses", "rate"),
    ("out_of_scope_status", "Out-of-scope questions recognised", "rate"),
    ("needs_clinician_status", "Care-team questions recognised", "rate"),
    ("sentences_verbatim", "Answer sentences verbatim in their cited passage", "rate"),
    ("citations_verbatim", "Citations verbatim in the corpus", "rate"),
    ("latency_p50_ms", "Latency p50", "ms"),
    ("latency_p95_ms", "Latency p95", "ms"),
]


def format_figure(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if kind == "rate" else f"{value:.1f} ms"


def _bars(rates: dict[str, float | None], title: str) -> str:
    """Horizontal bar chart of pass rates by category."""
    rows = [(k, v) for k, v in rates.items() if v is not None]
    height = 30 * len(rows) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (name, rate) in enumerate(rows):
        y = 30 + 30 * i
        width = 300 * rate
        colour = "#2e7d32" if rate >= 0.95 else "#f9a825" if rate >= 0.8 else "#c62828"
        parts.append(
            f'<text x="150" y="{y + 15}" text-anchor="end" font-size="13">{escape(name)}</text>'
            f'<rect x="160" y="{y}" width="{width:.1f}" height="20" fill="{colour}"/>'
            f'<text x="{165 + width:.1f}" y="{y + 15}" font-size="13">{rate:.0%}</text>'
        )
    parts.append(f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text></svg>')
    return "".join(parts)


def _histogram(latencies: list[float], title: str) -> str:
    """Latency histogram (ms) in 10 bins."""
    if not latencies:
        return ""
    top = max(latencies) or 1.0
    bins = [0] * 10
    for value in latencies:
        bins[min(9, int(value / top * 10))] += 1
    tallest = max(bins)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="560" height="220" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text>'
    ]
    for i, count in enumerate(bins):
        h = 150 * count / tallest
        x = 40 + 50 * i
        parts.append(
            f'<rect x="{x}" y="{180 - h:.1f}" width="44" height="{h:.1f}" fill="#1565c0"/>'
            f'<text x="{x + 22}" y="{175 - h:.1f}" text-anchor="middle" font-size="11">{count}</text>'
            f'<text x="{x + 22}" y="198" text-anchor="middle" font-size="11">{top * (i + 1) / 10:.0f}</text>'
        )
    parts.append('<text x="280" y="216" text-anchor="middle" font-size="12">milliseconds</text></svg>')
    return "".join(parts)


def write_report(
    directory: Path,
    source: str,
    summary: dict,
    results: list[dict],
    failures: list[str],
    baseline: dict | None = None,
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    head = "<tr><th>Figure</th><th>askpain</th>" + ("<th>LangChain baseline</th>" if baseline else "")
    rows = []
    for key, label, kind in FIGURES:
        cells = f"<td>{escape(label)}</td><td>{format_figure(summary.get(key), kind)}</td>"
        if baseline:
            cells += f"<td>{format_figure(baseline.get(key), kind)}</td>"
        rows.append(f"<tr>{cells}</tr>")
    failed = [r for r in results if not all(r["checks"].values())]
    failed_rows = "".join(
        f"<tr><td>{escape(r['id'])}</td><td>{escape(r['question'][:200])}</td>"
        f"<td>{escape(', '.join(k for k, ok in r['checks'].items() if not ok))}</td>"
        f"<td>{escape(r['status'])}</td></tr>"
        for r in failed
    )
    gate = (
        "<p class='ok'>All thresholds met.</p>"
        if not failures
        else "<ul class='bad'>" + "".join(f"<li>{escape(f)}</li>" for f in failures) + "</ul>"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>askpain eval report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse;margin:1rem 0}}
td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}}
.ok{{color:#2e7d32}}.bad{{color:#c62828}}</style></head><body>
<h1>askpain eval report</h1>
<p>Question set: <code>{escape(source)}</code>, {summary["items"]} items.</p>
<h2>Thresholds</h2>{gate}
<h2>Figures</h2><table>{head}</tr>{"".join(rows)}</table>
<h2>Pass rate by category</h2>{_bars(summary["categories"], "Items passing every check, by category")}
<h2>Latency</h2>{_histogram([r["latency_ms"] for r in results if "latency_ms" in r], "Answer latency")}
<h2>Items that failed a check ({len(failed)})</h2>
<table><tr><th>id</th><th>question</th><th>failed checks</th><th>status</th></tr>{failed_rows}</table>
</body></html>
"""
    path = directory / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
