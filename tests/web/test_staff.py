"""Staff functions behind the login: trace, question-set runs, index status and rebuild."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from askpain.web.service import Service
from askpain.web.staff import (
    REBUILDING,
    guard_markdown,
    rebuild_and_report,
    run_question_set,
    status_markdown,
    trace,
)


class NoProgress:
    def tqdm(self, iterable):
        return iterable


@pytest.fixture
def service(askpain, built_settings):
    return Service(built_settings, askpain)


def test_trace_shows_guardrail_passages_sentences_and_record(service):
    html, guard, passages, sentences, record = trace(service, "I wet myself. How long does RFA last?")
    assert 'role="alert"' in html
    assert guard["alerts"][0]["id"] == "cauda_equina" and guard["scope"]["status"] == "in_scope"
    assert passages and {"fused", "dense", "lexical"} and len(passages[0]) == 7
    assert any(row[0] == "✔" for row in sentences)
    assert json.loads(record)["red_flags"][0]["matched"] == "wet myself"


def test_question_set_run_reports_and_offers_downloads(service, tmp_path):
    path = tmp_path / "set.yaml"
    path.write_text(
        "- id: a\n  question: what is an SNRB?\n  expect: {support: ['Selective Nerve Root Block']}\n"
        "- id: b\n  question: I wet myself\n  expect: {red_flags: [cauda_equina]}\n"
    )
    summary, report, files = run_question_set(service, str(path), NoProgress())
    assert "**2 items.**" in summary and "Red flags raised (sensitivity): 100.0%" in summary
    assert "<svg" in report
    assert [f.rsplit("/", 1)[1] for f in files] == ["results.jsonl", "report.html"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("set.yaml", "- id: a\n", "field 'question' must be text"),
        ("set.txt", "- id: a\n  question: q\n", "Upload a YAML"),
        ("big.yaml", "#" * 1_000_001, "larger than 1000 KB"),
    ],
)
def test_bad_question_sets_are_reported_plainly(service, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    summary, report, files = run_question_set(service, str(path), NoProgress())
    assert message in summary and files is None


def test_status_and_rebuild(tmp_path, built_settings, askpain):
    index = tmp_path / "index"
    shutil.copytree(built_settings.index_dir, index)
    corpus = tmp_path / "corpus"
    shutil.copytree(built_settings.corpus_dir, corpus)
    service = Service(replace(built_settings, index_dir=index, corpus_dir=corpus), askpain)
    assert service.status()["state"] == "up to date" and len(service.status()["documents"]) == 5
    (corpus / "handout.md").write_text("# After Your Injection\n\nRest for a day after the injection.\n")
    assert service.status()["state"].startswith("stale")
    status = service.rebuild()
    assert status["state"] == "up to date" and "handout" in status["documents"]
    assert any(
        c.passage.doc_id == "handout" for c in service.ask("Should I rest after the injection?").citations
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "set.yaml",
            "- id: a\n  question: what is an SNRB?\n  expect: {support: [Selective Nerve Root Block]}\n",
        ),
        ("set.yaml", "- id: a\n"),  # invalid
        ("set.txt", "- id: a\n  question: q\n"),  # wrong type
    ],
)
def test_uploaded_question_set_is_removed_after_the_run(service, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    run_question_set(service, str(path), NoProgress())
    assert not path.exists()  # whatever the outcome
    summary, report, files = run_question_set(service, str(path), NoProgress())
    assert "Upload the question set again" in summary and files is None


UP_TO_DATE = {
    "state": "up to date",
    "documents": ["back-injections-dont-work", "steroid_treatment"],
    "passages": 62,
    "sentences": 208,
    "model": "all-MiniLM-L6-v2",
    "built_at": "2026-11-23T03:21:29+00:00",
    "not_utf8": {"old-leaflet": "cp1252"},
    "index": "/srv/askpain/index",
    "watching": "every 3 s",
    "last_check": None,
}
BUILT = "2026-11-23T03:21:29+00:00"


@pytest.mark.parametrize(
    ("state", "headline", "reason", "action"),
    [
        ("up to date", "Up to date.", None, "Nothing to do"),
        (
            "up to date on disk; the served index is older (the watcher swaps it in)",
            "the chat still uses the previous build",
            None,
            "Nothing to do",
        ),
        (
            "stale: corpus changed; run `askpain index`",
            "Stale",
            r"corpus changed; run \`askpain index\`",
            "Rebuild",
        ),
        ("damaged: checksum of vectors.npy differs", "Damaged", "checksum of vectors.npy differs", "Rebuild"),
        ("missing: no manifest.json in index/", "Missing", "no manifest.json in index/", "Rebuild"),
        (
            f"rebuilding: requested by staff; serving the last good index (built {BUILT}) until the new "
            "one is ready",
            "Being rebuilt",
            "requested by staff",
            "Refresh",
        ),
        (
            f"rebuild failed: corpus/ is empty; serving the last good index (built {BUILT}). "
            "Disk: stale: corpus changed",
            "A problem",
            "corpus changed",
            "server log",
        ),
    ],
)
def test_index_status_reads_as_plain_words_first(state, headline, reason, action):
    text = status_markdown({**UP_TO_DATE, "state": state})
    first, *rest = text.splitlines()
    assert first.startswith("### State: ") and headline in first  # the state comes first
    assert ("**Reason:** " + reason in text) if reason else "**Reason:**" not in text
    assert action in next(line for line in rest if line.startswith("**What to do:**"))
    if state.startswith("rebuild failed"):
        assert r"**What went wrong:** rebuild failed: corpus/ is empty" in text
        assert "**Index on disk:** Stale" in text


def test_index_status_lists_what_is_served():
    text = status_markdown(UP_TO_DATE)
    assert "{" not in text and '"' not in text  # no JSON left
    assert "**Documents (2):**\n\n- back-injections-dont-work\n- steroid\\_treatment\n" in text
    for line in (
        "- **Passages:** 62",
        "- **Sentences:** 208",
        "- **Model:** all-MiniLM-L6-v2",
        f"- **Built at:** {BUILT}",
        "- **Files not read as UTF-8:** old-leaflet (cp1252)",
        "- **Index folder:** /srv/askpain/index",
        "- **Watched for changes:** every 3 s",
        "- **Last check:** none since the server started",
    ):
        assert line in text.splitlines(), line
    assert "- **Files not read as UTF-8:** none" in status_markdown({**UP_TO_DATE, "not_utf8": {}})


def test_the_status_of_a_real_service_reads(service):
    text = status_markdown(service.status())
    assert text.startswith("### State: Up to date.") and "**Documents (5):**" in text


def test_guardrail_decision_reads_as_lists_and_a_table(service):
    _, guard, *_ = trace(service, "I can't control my bladder since the injection")
    text = guard_markdown(guard)
    # The status is the answer's own (the bank may find the sentence on the sign); it is shown.
    assert "**Answer status:** answered" in text or "**Answer status:** no\\_answer" in text
    assert "**Alerts (1):**\n- cauda\\_equina (emergency), matched “can't control my bladder”" in text
    assert "**Information cards (0):** none" in text
    assert "| cauda\\_equina | phrase | can't control my bladder | reported | 2–26 |" in text
    assert "**Scope:** in\\_scope\n- reason: domain word 'injection'" in text
    assert "guardrail failed" not in text


def test_guardrail_decision_of_an_off_topic_question(service):
    _, guard, *_ = trace(service, "what is the capital of France")
    text = guard_markdown(guard)
    assert "**Alerts (0):** none" in text and "**Matched words (0):** none" in text
    assert "**Scope:** out\\_of\\_scope" in text and "- matched: “capital”" in text
    assert "**The guardrail failed:**" in guard_markdown({**guard, "guardrail_failed": True})


class FakeIndex:
    """A service whose rebuild works or fails, recording what happened when."""

    def __init__(self, fail: bool = False) -> None:
        self.fail, self.events = fail, []

    def rebuild(self) -> dict:
        self.events.append("rebuild")
        if self.fail:
            raise RuntimeError("disk full")
        return self.status()

    def status(self) -> dict:
        state = "rebuild failed: disk full; serving the last good index (built x). Disk: up to date"
        return {**UP_TO_DATE, "state": state if self.fail else "up to date"}


@pytest.mark.parametrize("fail", [False, True])
def test_rebuild_shows_progress_then_the_new_status(fail):
    service = FakeIndex(fail)
    progress = lambda value, desc: service.events.append(("progress", value, desc))  # noqa: E731
    text = rebuild_and_report(service, progress)
    assert service.events == [("progress", None, REBUILDING), "rebuild"]  # progress first
    first, _, note, *_ = text.splitlines()
    if fail:  # no error page: the status says what went wrong
        assert first.startswith("### State: A problem") and "rebuild failed: disk full" in text
        assert note.startswith("**The rebuild failed at ")
    else:
        assert first == "### State: Up to date."
        assert note.startswith("**Rebuild finished at ") and "the chat keeps the same index" in note
