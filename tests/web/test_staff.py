"""Staff functions behind the login: trace, question-set runs, index status and rebuild."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest

from askpain.web.service import Service
from askpain.web.staff import run_question_set, trace


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
