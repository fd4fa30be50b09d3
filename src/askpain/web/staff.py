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


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~])")  # mid-line, these need escaping


def _md(text: object) -> str:
    """Text shown as itself in Markdown (file names and error messages hold _ * ` and |)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


# The index states that Service.status() reports, by the words its "state" starts with: what
# staff read first, and what they should do about it.
INDEX_STATES: tuple[tuple[str, str, str], ...] = (
    (
        "up to date on disk",
        "Up to date on disk; the chat still uses the previous build.",
        "Nothing to do: the chat switches to the new build at the next check.",
    ),
    ("up to date", "Up to date.", "Nothing to do: the chat answers from the current documents."),
    (
        "stale",
        "Stale: the documents or settings changed since the index was built.",
        "The watcher rebuilds it when it is on; otherwise press **Rebuild index**.",
    ),
    (
        "damaged",
        "Damaged: the index files on disk failed their checks. The chat keeps using the last "
        "good index in memory.",
        "Press **Rebuild index**.",
    ),
    (
        "missing",
        "Missing: there is no complete index on disk. The chat keeps using the last good index in memory.",
        "Press **Rebuild index**.",
    ),
    (
        "rebuilding",
        "Being rebuilt. The chat keeps using the current index until the new one is ready.",
        "Wait a minute, then press **Refresh**.",
    ),
)
_SERVING_LAST_GOOD = "; serving the last good index"


def _index_state(state: str) -> tuple[str, str, str]:
    """(headline, reason, what to do) for the words of one index state."""
    for prefix, headline, action in INDEX_STATES:
        if state.startswith(prefix):
            reason = state[len(prefix) :].lstrip(":; ").split(_SERVING_LAST_GOOD)[0]
            if prefix.startswith("up to date"):
                reason = ""
            return headline, reason, action
    return "Unknown.", state, "Press **Refresh**; if it stays, look at the server log."


def status_markdown(status: dict) -> str:
    """The index status of `Service.status()` as Markdown for staff: the state in plain words
    first (with the reason and what to do), then what the chat is serving."""
    state = str(status.get("state") or "")
    if state.startswith("rebuilding") or _SERVING_LAST_GOOD not in state:
        headline, reason, action = _index_state(state)
        lines = [f"### State: {headline}"]
    else:  # a check or rebuild failed: the last good index serves; the disk has its own state
        problem, _, disk = state.partition(_SERVING_LAST_GOOD)
        disk_headline, reason, action = _index_state(disk.partition("Disk: ")[2])
        headline = "A problem: the chat keeps using the last good index."
        lines = [f"### State: {headline}", "", f"**What went wrong:** {_md(problem)}"]
        lines += ["", f"**Index on disk:** {disk_headline}"]
        action = "Look at the documents folder and the server log, then press **Rebuild index**."
    if reason:
        lines += ["", f"**Reason:** {_md(reason)}"]
    lines += ["", f"**What to do:** {action}", "", "### What the chat is serving", ""]
    documents = status.get("documents") or []
    lines += [f"**Documents ({len(documents)}):**", ""]
    lines += [f"- {_md(name)}" for name in documents] or ["- none"]
    not_utf8 = status.get("not_utf8") or {}
    encodings = ", ".join(f"{_md(name)} ({_md(encoding)})" for name, encoding in not_utf8.items())
    lines += [
        "",
        f"- **Passages:** {_md(status.get('passages', '-'))}",
        f"- **Sentences:** {_md(status.get('sentences', '-'))}",
        f"- **Model:** {_md(status.get('model') or '-')}",
        f"- **Built at:** {_md(status.get('built_at') or '-')}",
        f"- **Files not read as UTF-8:** {encodings or 'none'}",
        f"- **Index folder:** {_md(status.get('index') or '-')}",
        f"- **Watched for changes:** {_md(status.get('watching') or 'off')}",
        f"- **Last check:** {_md(status.get('last_check') or 'none since the server started')}",
    ]
    return "\n".join(lines)


def guard_markdown(guard: dict) -> str:
    """The guardrail decision of `trace` as Markdown: answer status, alerts, cards, the words
    that matched, and the scope decision."""
    scope = guard.get("scope") or {}
    lines = [f"**Answer status:** {_md(guard.get('status') or '-')}"]
    if guard.get("guardrail_failed"):
        lines += ["", "**The guardrail failed:** the safe fallback answer was shown."]
    alerts = guard.get("alerts") or []
    lines += ["", f"**Alerts ({len(alerts)}):**" + ("" if alerts else " none")]
    lines += [f"- {_md(a['id'])} ({_md(a['urgency'])}), matched “{_md(a['matched'])}”" for a in alerts]
    cards = guard.get("cards") or []
    lines += ["", f"**Information cards ({len(cards)}):**" + ("" if cards else " none")]
    lines += [f"- {_md(c['id'])}, matched “{_md(c['matched'])}”" for c in cards]
    matches = guard.get("matches") or []
    lines += ["", f"**Matched words ({len(matches)}):**" + ("" if matches else " none")]
    if matches:
        lines += ["", "| rule | layer | words | verdict | characters |", "|---|---|---|---|---|"]
        lines += [
            f"| {_md(m.get('id', '-'))} | {_md(m.get('layer', '-'))} | {_md(m.get('words', '-'))} "
            f"| {_md(m.get('verdict', '-'))} | {m.get('start', '-')}–{m.get('end', '-')} |"
            for m in matches
        ]
    lines += ["", f"**Scope:** {_md(scope.get('status') or '-')}"]
    if scope.get("reason"):
        lines += [f"- reason: {_md(scope['reason'])}"]
    if scope.get("matched"):
        lines += [f"- matched: “{_md(scope['matched'])}”"]
    return "\n".join(lines)


REBUILDING = "Rebuilding the index from the documents…"


def rebuild_and_report(service: Service, progress, request: object = None) -> str:
    """The staff page's rebuild: progress shown while it runs, then the new status as Markdown.
    A failed build is logged and audited, and the status says what failed."""
    progress(None, desc=REBUILDING)  # a description without a bar: the build has no steps to count
    before = service.status().get("built_at")
    done = False
    with suppress(Exception):
        rebuild_index(service, request)
        done = True
    status = service.status()
    when = datetime.now(UTC).strftime("%H:%M:%S UTC")
    if not done:
        note = f"**The rebuild failed at {when}.** The chat keeps using the index it had."
    elif status.get("built_at") == before:  # a build of unchanged documents is not swapped in
        note = (
            f"**Rebuild finished at {when}.** The documents had not changed: the chat keeps the same index."
        )
    else:
        note = f"**Rebuild finished at {when}.** The chat now uses the new index."
    headline, _, rest = status_markdown(status).partition("\n")
    return f"{headline}\n\n{note}\n{rest}"


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


CONFIRM_REBUILD = (
    "**Rebuild the index from the documents now?** The chat keeps using the current index until "
    "the new one is ready."
)


def build_staff_page(service: Service, feedback: Feedback | None = None) -> gr.Blocks:
    def ask_and_trace(question: str, request: gr.Request):
        audit("trace", *who(request))  # that a trace was run, never the question
        shown, guard, passages, sentences, record = trace(service, question)
        return shown, guard_markdown(guard), passages, sentences, record

    def chosen(file_data: dict | None) -> str:
        name = file_data.get("orig_name") if isinstance(file_data, dict) else None
        return f"Chosen: **{_md(name)}**. Press **Run question set**." if name else "No file chosen."

    def run_set(file_data: dict | None, request: gr.Request, progress=gr.Progress()):  # noqa: B008
        # Gradio injects the request (by annotation) and a progress tracker (by default value).
        # The upload arrives unprocessed (preprocess=False) as Gradio's file record, already
        # checked to be in Gradio's upload folder: the upload button's own preprocessing leaves
        # an empty temporary file in the cache on every run, which nothing ever deletes.
        path = file_data.get("path") if isinstance(file_data, dict) else None
        summary, report, files = run_question_set(service, path, progress, request)
        # The upload is gone: clear it. The downloads show only when there are files (an empty
        # gr.File is a drop zone with markup that fails accessibility checks).
        downloads = gr.File(value=files, visible=bool(files))
        return summary, report, downloads, None, "No file chosen."

    def rebuild(request: gr.Request, progress=gr.Progress()) -> str:  # noqa: B008
        return rebuild_and_report(service, progress, request)

    def show_status() -> str:
        return status_markdown(service.status())

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
            gr.Markdown("**Guardrail decision, matched words and scope**")
            guard = gr.Markdown(elem_id="askpain-staff-guard", latex_delimiters=[])
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
            # A read-only text box, not gr.Code: CodeMirror's scroll area takes no keyboard focus.
            # Tall enough for a whole record, so it needs no scroll area of its own.
            record = gr.Textbox(
                label="Answer record (answer.schema.json)",
                lines=8,
                max_lines=400,
                interactive=False,
                buttons=["copy"],
                elem_id="askpain-staff-record",
            )
            outputs = [answer, guard, passages, sentences, record]
            ask.click(ask_and_trace, question, outputs, api_visibility="private")
            question.submit(ask_and_trace, question, outputs, api_visibility="private")
        with gr.Tab("Question sets"):
            gr.Markdown(
                "Upload a question set (YAML or JSON Lines, at most 1 MB; format in "
                "`spec/question-set.md`) and run it through the same pipeline as the chat page."
            )
            # A button, not gr.File's drop zone: that one's markup and grey text fail axe checks.
            upload = gr.UploadButton(
                "Choose a question set file", file_types=[".yaml", ".yml", ".jsonl"], type="filepath"
            )
            upload_name = gr.Markdown("No file chosen.", elem_id="askpain-staff-upload-name")
            run = gr.Button("Run question set", variant="primary")
            summary = gr.Markdown()
            report = gr.Markdown(elem_id="askpain-staff-report", latex_delimiters=[])
            downloads = gr.File(label="Download results and report", file_count="multiple", visible=False)
            upload.upload(chosen, upload, upload_name, api_visibility="private", preprocess=False)
            outputs = [summary, report, downloads, upload, upload_name]
            run.click(run_set, upload, outputs, api_visibility="private", preprocess=False)
        with gr.Tab("Index"):
            status = gr.Markdown(elem_id="askpain-staff-index", latex_delimiters=[])
            with gr.Row():
                refresh = gr.Button("Refresh")
                rebuild_button = gr.Button("Rebuild index…", variant="stop")
            # Confirmed on the page itself, with no script (the CSP refuses js= hooks).
            with gr.Row(visible=False, elem_id="askpain-staff-confirm") as confirm:
                gr.Markdown(CONFIRM_REBUILD)
                yes = gr.Button("Yes, rebuild now", variant="stop")
                cancel = gr.Button("Cancel")
            refresh.click(show_status, None, status, api_visibility="private")
            rebuild_button.click(lambda: gr.Row(visible=True), None, confirm, api_visibility="private")
            cancel.click(lambda: gr.Row(visible=False), None, confirm, api_visibility="private")
            yes.click(lambda: gr.Row(visible=False), None, confirm, api_visibility="private").then(
                rebuild, None, status, api_visibility="private"
            )
            page.load(show_status, None, status, api_visibility="private")
        if feedback is not None:
            with gr.Tab("Answer feedback"):
                votes = gr.Markdown(elem_id="askpain-staff-feedback")
                refresh_votes = gr.Button("Refresh")

                def show_votes() -> str:
                    return feedback_markdown(feedback.summary())

                refresh_votes.click(show_votes, None, votes, api_visibility="private")
                page.load(show_votes, None, votes, api_visibility="private")
    return page
