"""The staff area (Gradio, behind a login): see why an answer was given, run question sets,
check and rebuild the index."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import gradio as gr

from askpain.errors import AskpainError
from askpain.evals.evaluate import below_thresholds, evaluate, summarize
from askpain.evals.questionset import load_question_set
from askpain.evals.report import FIGURES, format_figure, write_report
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT
from askpain.web.render import answer_html
from askpain.web.service import Service

MAX_QUESTION_SET_BYTES = 1_000_000
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)


def trace(service: Service, question: str):
    """Everything behind one answer: guardrail, passages, sentences, the record."""
    answer = service.ask(question or "")
    t = answer.trace or {}
    guard = {
        "alerts": [{"id": f.id, "urgency": f.urgency, "matched": f.matched} for f in answer.red_flags],
        "cards": [{"id": c.id, "matched": c.matched} for c in answer.cards],
        "matches": t.get("guardrail", []),
        "scope": t.get("scope"),
        "status": answer.status,
        "guardrail_failed": answer.guardrail_failed,
    }
    passages = [
        [i + 1, p["doc_id"], p["section"] or "", p["fused_score"], p["dense_score"], p["lexical_score"],
         p["text"]]
        for i, p in enumerate(t.get("passages", []))
    ]  # fmt: skip
    chosen = {s for s, _ in answer.sentences}
    sentences = [
        ["✔" if s["text"] in chosen else "", s["score"], s["dense"], s["overlap"], s["chunk_id"], s["text"]]
        for s in t.get("sentences", [])
    ]
    record = json.dumps(answer.to_record(), ensure_ascii=False, indent=2)
    return answer_html(answer, 1), guard, passages, sentences, record


def run_question_set(service: Service, file_path: str | None, progress):
    """Run an uploaded question set; return a summary, the report and files to download."""
    if not file_path:
        return "Choose a question set file first.", "", None
    path = Path(file_path)
    if path.stat().st_size > MAX_QUESTION_SET_BYTES:
        return f"That file is larger than {MAX_QUESTION_SET_BYTES // 1000} KB.", "", None
    if path.suffix.lower() not in (".yaml", ".yml", ".jsonl", ".ndjson"):
        return "Upload a YAML (.yaml, .yml) or JSON Lines (.jsonl) question set.", "", None
    try:
        items = load_question_set(path)
    except AskpainError as exc:
        return f"**The question set has a problem:** {exc}", "", None
    corpus = {d.doc_id: d.text for d in load_corpus(service.settings.corpus_dir)}
    pipeline = service.pipeline
    results = evaluate(items, lambda q: pipeline.ask(q).to_record(), lambda it: progress.tqdm(it))
    summary = summarize(results, corpus)
    import yaml

    thresholds = yaml.safe_load((REPO_ROOT / "evals" / "thresholds.yaml").read_text()) or {}
    failures = below_thresholds(summary, thresholds)
    out = Path(tempfile.mkdtemp(prefix="askpain-eval-"))
    report = write_report(out, path.name, summary, results, failures)
    records = out / "results.jsonl"
    records.write_text(
        "".join(
            json.dumps({k: v for k, v in r.items() if k not in ("expect", "category")}, ensure_ascii=False)
            + "\n"
            for r in results
        ),
        encoding="utf-8",
    )
    lines = [f"**{summary['items']} items.**", ""] + [
        f"- {label}: {format_figure(summary.get(key), kind)}" for key, label, kind in FIGURES
    ]
    lines += [f"- **Below threshold:** {f}" for f in failures] or ["- All thresholds met."]
    body = _BODY.search(report.read_text(encoding="utf-8"))
    return "\n".join(lines), body.group(1) if body else "", [str(records), str(report)]


def build_staff_page(service: Service) -> gr.Blocks:
    with gr.Blocks(title="askpain — staff") as page:
        gr.Markdown("# askpain — staff area\nWhy an answer was given, question sets, and the index.")
        with gr.Tab("Ask and trace"):
            question = gr.Textbox(label="Question", lines=2)
            ask = gr.Button("Ask", variant="primary")
            answer = gr.HTML(label="Answer as the patient sees it")
            guard = gr.JSON(label="Guardrail decision, matched words and scope")
            passages = gr.Dataframe(
                headers=["rank", "doc_id", "section", "fused", "dense", "lexical", "passage"],
                label="Retrieved passages",
                wrap=True,
            )
            sentences = gr.Dataframe(
                headers=["chosen", "score", "dense", "overlap", "chunk", "sentence"],
                label="Candidate sentences (best 10)",
                wrap=True,
            )
            record = gr.Code(language="json", label="Answer record (answer.schema.json)")
            outputs = [answer, guard, passages, sentences, record]
            ask.click(lambda q: trace(service, q), question, outputs, api_visibility="private")
            question.submit(lambda q: trace(service, q), question, outputs, api_visibility="private")
        with gr.Tab("Question sets"):
            gr.Markdown(
                "Upload a question set (YAML or JSON Lines, at most 1 MB; format in "
                "`spec/question-set.md`) and run it through the same pipeline as the chat page."
            )
            upload = gr.File(label="Question set", file_types=[".yaml", ".yml", ".jsonl"], type="filepath")
            run = gr.Button("Run question set", variant="primary")
            summary = gr.Markdown()
            report = gr.HTML()
            downloads = gr.File(label="Download results and report", file_count="multiple")
            run.click(
                # Gradio injects a progress tracker into a parameter defaulting to gr.Progress().
                lambda f, progress=gr.Progress(): run_question_set(service, f, progress),  # noqa: B008
                upload,
                [summary, report, downloads],
                api_visibility="private",
            )
        with gr.Tab("Index"):
            status = gr.JSON(label="Index status")
            with gr.Row():
                refresh = gr.Button("Refresh")
                rebuild = gr.Button("Rebuild index", variant="stop")
            refresh.click(service.status, None, status, api_visibility="private")
            rebuild.click(service.rebuild, None, status, api_visibility="private")
            page.load(service.status, None, status, api_visibility="private")
    return page
