"""The staff area (Gradio, behind a login): see why an answer was given, run question sets,
check and rebuild the index. Every staff action goes to the audit log (`askpain.audit`)."""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

import gradio as gr

from askpain.errors import AskpainError
from askpain.evals.evaluate import below_thresholds, evaluate, summarize
from askpain.evals.questionset import load_question_set
from askpain.evals.report import FIGURES, format_figure, write_report
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT
from askpain.web.feedback import Feedback
from askpain.web.help_numbers import HelpNumbers
from askpain.web.render import answer_html
from askpain.web.service import Service

MAX_QUESTION_SET_BYTES = 1_000_000
_BODY = re.compile(r"<body>(.*)</body>", re.DOTALL)

audit_log = logging.getLogger("askpain.audit")
_UNSAFE = re.compile(r"[^\w.:@+/-]")


def audit(action: str, user: str | None, ip: str | None, **details: object) -> None:
    """One line of the staff audit trail: action, user, time (UTC) and IP, plus counts or
    outcomes, never patient text or question text. A later change stores it in SQLite; callers
    keep calling this."""
    fields = {
        "action": action,
        "user": user or "-",
        "ip": ip or "-",
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        **details,
    }
    # One token per value: no spaces, quotes or line breaks can forge a second entry.
    line = " ".join(f"{key}={_UNSAFE.sub('_', str(value))[:100]}" for key, value in fields.items())
    audit_log.info(line, extra={"audit": fields})


def who(request: object) -> tuple[str | None, str | None]:
    """(user, IP) of a Gradio request, for the audit log."""
    client = getattr(request, "client", None)
    return getattr(request, "username", None), getattr(client, "host", None)


def _gradio_temp_dir() -> Path:
    return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio").resolve()


def discard_upload(path: Path) -> None:
    """Remove an uploaded question set from disk once it has been read, and the folder Gradio
    made for it when that is now empty."""
    path.unlink(missing_ok=True)
    folder = path.parent.resolve()
    if folder.is_relative_to(_gradio_temp_dir()) and folder != _gradio_temp_dir():
        with suppress(OSError):
            folder.rmdir()


# Results and report of earlier runs: Gradio has copied them into its own cache (deleted with
# the app's `delete_cache`) by the time the next run starts, so each run removes the earlier
# ones, and the last is removed when the server stops.
_OUTPUT_DIRS: list[Path] = []


def remove_outputs() -> None:
    """Remove the results and reports of earlier runs (the server calls this when it stops)."""
    while _OUTPUT_DIRS:
        shutil.rmtree(_OUTPUT_DIRS.pop(), ignore_errors=True)


atexit.register(remove_outputs)


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
    # The answer as the patient sees it, with the clinic's help numbers.
    shown = answer_html(answer, 1, numbers=HelpNumbers.from_settings(service.settings))
    return shown, guard, passages, sentences, record


def run_question_set(service: Service, file_path: str | None, progress, request: object = None):
    """Run an uploaded question set; return a summary, the report and files to download. The
    uploaded file is removed from disk afterwards, whatever the outcome."""
    if not file_path:
        return "Choose a question set file first.", "", None
    path = Path(file_path)
    if not path.is_file():
        return "Upload the question set again: each upload is removed once it has run.", "", None
    outcome = "failed"
    details: dict[str, object] = {}
    try:
        result, outcome, details = _run_question_set(service, path, progress)
        return result
    finally:
        discard_upload(path)
        audit("question_set_run", *who(request), outcome=outcome, **details)


def _run_question_set(service: Service, path: Path, progress):
    if path.stat().st_size > MAX_QUESTION_SET_BYTES:
        message = f"That file is larger than {MAX_QUESTION_SET_BYTES // 1000} KB."
        return (message, "", None), "too_large", {}
    if path.suffix.lower() not in (".yaml", ".yml", ".jsonl", ".ndjson"):
        message = "Upload a YAML (.yaml, .yml) or JSON Lines (.jsonl) question set."
        return (message, "", None), "wrong_type", {}
    digest = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest()[:16]}
    try:
        items = load_question_set(path)
    except AskpainError as exc:
        return (f"**The question set has a problem:** {exc}", "", None), "invalid", digest
    corpus = {d.doc_id: d.text for d in load_corpus(service.settings.corpus_dir)}
    pipeline = service.pipeline
    results = evaluate(items, lambda q: pipeline.ask(q).to_record(), lambda it: progress.tqdm(it))
    summary = summarize(results, corpus)
    import yaml

    thresholds = yaml.safe_load((REPO_ROOT / "evals" / "thresholds.yaml").read_text()) or {}
    failures = below_thresholds(summary, thresholds)
    remove_outputs()
    out = Path(tempfile.mkdtemp(prefix="askpain-eval-"))
    _OUTPUT_DIRS.append(out)
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
    result = "\n".join(lines), body.group(1) if body else "", [str(records), str(report)]
    return result, "ok", {**digest, "items": len(results), "below_threshold": len(failures)}


def rebuild_index(service: Service, request: object = None) -> dict:
    """Rebuild the index (staff), with a line in the audit log before and after."""
    user, ip = who(request)
    audit("index_rebuild", user, ip, outcome="started")
    try:
        status = service.rebuild()
    except Exception:
        audit("index_rebuild", user, ip, outcome="failed")
        raise
    audit("index_rebuild", user, ip, outcome="done")
    return status


def feedback_markdown(summary: dict) -> str:
    """The votes on answers as short tables, for the staff area."""
    total = summary["helpful"] + summary["not_helpful"]
    if not total:
        return 'No votes yet. Patients see "Did this answer help?" under each answer.'
    lines = [
        f"**{total} votes since the server started:** {summary['helpful']} helpful, "
        f"{summary['not_helpful']} not helpful ({summary['helpful'] / total:.0%} helpful). "
        "Counts only, kept in memory: no question or answer text is kept, and the counts start "
        "again at zero when the server restarts.",
    ]
    for title, key in (("Answer status", "by_status"), ("Document cited", "by_document")):
        lines += ["", f"| {title} | helpful | not helpful |", "|---|---|---|"]
        lines += [f"| {name} | {n['helpful']} | {n['not_helpful']} |" for name, n in summary[key].items()]
    return "\n".join(lines)


def build_staff_page(service: Service, feedback: Feedback | None = None) -> gr.Blocks:
    def ask_and_trace(question: str, request: gr.Request):
        audit("trace", *who(request))  # that a trace was run, never the question
        return trace(service, question)

    def run_set(file_data: dict | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        # Gradio injects the request (by annotation) and a progress tracker (by default value).
        # The upload arrives unprocessed (preprocess=False) as Gradio's file record, already
        # checked to be in Gradio's upload folder: gr.File's own preprocessing leaves an empty
        # temporary file in the cache on every run, which nothing ever deletes.
        path = file_data.get("path") if isinstance(file_data, dict) else None
        return *run_question_set(service, path, progress, request), None  # the upload is gone: clear it

    def rebuild(request: gr.Request) -> dict:
        return rebuild_index(service, request)

    # Uploads and downloads in Gradio's cache are deleted after an hour and when the server stops.
    with gr.Blocks(title="askpain — staff", delete_cache=(600, 3600)) as page:
        gr.Markdown("# askpain — staff area\nWhy an answer was given, question sets, and the index.")
        with gr.Tab("Ask and trace"):
            question = gr.Textbox(label="Question", lines=2)
            ask = gr.Button("Ask", variant="primary")
            # gr.Markdown, not gr.HTML: Gradio 6 renders gr.HTML through templates it compiles
            # with Function(), which the CSP ('unsafe-eval' refused) blocks. Our HTML is a
            # single block that Markdown passes through, sanitized.
            gr.Markdown("**Answer as the patient sees it**")
            answer = gr.Markdown(elem_id="askpain-staff-answer", latex_delimiters=[])
            guard = gr.JSON(label="Guardrail decision, matched words and scope")
            passages = gr.Dataframe(
                headers=["rank", "doc_id", "section", "fused", "dense", "lexical", "passage"],
                label="Retrieved passages",
                wrap=True,
                interactive=False,
            )
            sentences = gr.Dataframe(
                headers=["chosen", "score", "dense", "overlap", "chunk", "sentence"],
                label="Candidate sentences (best 10)",
                wrap=True,
                interactive=False,
            )
            record = gr.Code(language="json", label="Answer record (answer.schema.json)")
            outputs = [answer, guard, passages, sentences, record]
            ask.click(ask_and_trace, question, outputs, api_visibility="private")
            question.submit(ask_and_trace, question, outputs, api_visibility="private")
        with gr.Tab("Question sets"):
            gr.Markdown(
                "Upload a question set (YAML or JSON Lines, at most 1 MB; format in "
                "`spec/question-set.md`) and run it through the same pipeline as the chat page."
            )
            upload = gr.File(label="Question set", file_types=[".yaml", ".yml", ".jsonl"], type="filepath")
            run = gr.Button("Run question set", variant="primary")
            summary = gr.Markdown()
            report = gr.Markdown(elem_id="askpain-staff-report", latex_delimiters=[])
            downloads = gr.File(label="Download results and report", file_count="multiple")
            outputs = [summary, report, downloads, upload]
            run.click(run_set, upload, outputs, api_visibility="private", preprocess=False)
        with gr.Tab("Index"):
            status = gr.JSON(label="Index status")
            with gr.Row():
                refresh = gr.Button("Refresh")
                rebuild_button = gr.Button("Rebuild index", variant="stop")
            refresh.click(service.status, None, status, api_visibility="private")
            rebuild_button.click(rebuild, None, status, api_visibility="private")
            page.load(service.status, None, status, api_visibility="private")
        if feedback is not None:
            with gr.Tab("Answer feedback"):
                votes = gr.Markdown(elem_id="askpain-staff-feedback")
                refresh_votes = gr.Button("Refresh")

                def show_votes() -> str:
                    return feedback_markdown(feedback.summary())

                refresh_votes.click(show_votes, None, votes, api_visibility="private")
                page.load(show_votes, None, votes, api_visibility="private")
    return page
