"""Review findings on index/: the manifest is signed with a key kept outside index/, builds
hold a lock, and an index setting that names a file is a plain error."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest

from askpain.errors import IndexBusyError, IndexCorruptError, SettingsError
from askpain.ingest.corpus import corpus_fingerprint
from askpain.retrieval import store
from askpain.retrieval.store import build_index, load_index, open_index, read_manifest
from askpain.settings import REPO_ROOT, Settings

PLANTED = "Zebra stripes cure every back pain within a day."


def _tiny_corpus(folder, text=PLANTED):
    """A one-document corpus: builds from it take a second."""
    folder.mkdir()
    (folder / "radiofrequency.txt").write_text(f"Radiofrequency Ablation\n\n{text}\n")
    return folder


def _manifest_path(settings):
    return settings.index_dir / "manifest.json"


def _rewrite_manifest(settings, change, key=None):
    manifest = json.loads(_manifest_path(settings).read_text())
    change(manifest)
    if key is not None:
        manifest = store.sign_manifest(manifest, key)
    _manifest_path(settings).write_text(json.dumps(manifest))


# --- the signing key -------------------------------------------------------------------------


def test_first_build_creates_a_private_key_outside_the_index_and_signs_the_manifest(
    own_index, embedder, tmp_path
):
    settings = replace(
        own_index,
        corpus_dir=_tiny_corpus(tmp_path / "tiny", "Rest for a day."),
        key_file=tmp_path / "keys" / "index.key",
    )
    assert not settings.key_file.exists()
    build_index(settings, embedder)
    key = settings.key_file.read_bytes()
    assert len(key) == 32
    assert stat.S_IMODE(settings.key_file.stat().st_mode) == 0o600
    assert settings.index_dir not in settings.key_file.parents
    manifest = read_manifest(settings.index_dir)
    assert len(manifest["hmac_sha256"]) == 64 and manifest["key_id"]
    assert key.hex() not in _manifest_path(settings).read_text()
    load_index(settings)
    build_index(settings, embedder)  # the key is kept, not replaced
    assert settings.key_file.read_bytes() == key
    assert list(settings.key_file.parent.iterdir()) == [settings.key_file]  # no temporary left


def test_default_key_file_is_a_setting_outside_the_index(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert Settings().resolved_key_file() == tmp_path / "config" / "askpain" / "index.key"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    default = Settings().resolved_key_file()
    assert default == tmp_path / "home" / ".config" / "askpain" / "index.key"
    assert Settings().index_dir not in default.parents and REPO_ROOT not in default.parents
    chosen = Settings.from_env({"ASKPAIN_KEY_FILE": str(tmp_path / "k")})
    assert chosen.resolved_key_file() == tmp_path / "k"


def test_foreign_index_with_an_edited_corpus_hash_is_refused_and_rebuilt(own_index, embedder, tmp_path):
    """Review finding: an index built elsewhere, its manifest edited to claim this corpus's
    hash, was served. Its data files and manifest are consistent and re-signed by their own
    key; only the signature can tell."""
    foreign_corpus = _tiny_corpus(tmp_path / "foreign-corpus")
    foreign = replace(
        own_index,
        corpus_dir=foreign_corpus,
        index_dir=tmp_path / "foreign",
        key_file=tmp_path / "foreign.key",
    )
    build_index(foreign, embedder)

    def claim_our_corpus(manifest):
        manifest["corpus_sha256"] = corpus_fingerprint(own_index.corpus_dir)

    _rewrite_manifest(foreign, claim_our_corpus, key=store.index_key(foreign))
    load_index(replace(foreign, corpus_dir=own_index.corpus_dir))  # valid where its key lives
    shutil.rmtree(own_index.index_dir)
    shutil.copytree(foreign.index_dir, own_index.index_dir)

    with pytest.raises(
        IndexCorruptError, match=r"manifest\.json is not authentic: .*signed with another key"
    ):
        load_index(own_index)
    reasons = []
    reopened = open_index(own_index, lambda: embedder, on_rebuild=reasons.append)
    assert len(reasons) == 1 and "not authentic" in reasons[0]
    assert all(PLANTED not in p.text for p in reopened.passages)
    assert reopened.manifest["key_id"] != read_manifest(foreign.index_dir)["key_id"]


def test_foreign_vectors_are_not_reused(own_index, embedder, tmp_path):
    other = replace(own_index, key_file=tmp_path / "other.key")
    report = build_index(other, embedder)  # the copied index is signed with the default key
    assert report.embedded == report.passages and report.reused == 0


def test_manifest_edited_by_hand_is_not_authentic(own_index):
    def claim_other_corpus(manifest):
        manifest["corpus_sha256"] = "0" * 64

    _rewrite_manifest(own_index, claim_other_corpus)
    with pytest.raises(IndexCorruptError, match="altered after it was signed.*askpain index"):
        load_index(own_index)


def test_status_calls_an_altered_index_damaged_not_stale(own_index):
    """Staff who read "stale" rebuild at leisure; "damaged" says someone or something altered it."""
    _rewrite_manifest(own_index, lambda m: m.update(corpus_sha256="0" * 64))
    env = {
        **os.environ, "HF_HUB_OFFLINE": "1", "ASKPAIN_INDEX_DIR": str(own_index.index_dir),
        "ASKPAIN_CORPUS_DIR": str(own_index.corpus_dir),
    }  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "askpain", "status", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    state = json.loads(result.stdout)["state"]
    assert state.startswith("damaged: ") and "altered after it was signed" in state


def test_unsigned_manifest_is_refused(own_index):
    _rewrite_manifest(own_index, lambda m: m.pop("hmac_sha256"))
    with pytest.raises(IndexCorruptError, match="is not signed"):
        load_index(own_index)


def test_index_cannot_be_trusted_without_its_key(own_index, tmp_path):
    without_key = replace(own_index, key_file=tmp_path / "nowhere" / "index.key")
    with pytest.raises(IndexCorruptError, match="no index key at .*nowhere"):
        load_index(without_key)
    assert not without_key.key_file.exists()  # reading never creates a key


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is not a file"),
        (lambda p: p.write_bytes(b"short"), "too short"),
    ],
)
def test_unusable_key_file_is_a_plain_error(own_index, embedder, tmp_path, make, message):
    settings = replace(own_index, key_file=tmp_path / "index.key")
    make(settings.key_file)
    with pytest.raises(SettingsError, match=message):
        load_index(settings)
    with pytest.raises(SettingsError, match=message):
        build_index(settings, embedder)


def test_old_unsigned_format_is_stale(own_index):
    _rewrite_manifest(own_index, lambda m: m.update(format_version=1))
    with pytest.raises(store.IndexStaleError, match="format version 1"):
        load_index(own_index)


# --- the index setting names a file ---------------------------------------------------------


def test_index_dir_that_is_a_file_is_a_plain_error(own_index, embedder, tmp_path):
    a_file = tmp_path / "index.txt"
    a_file.write_text("not a folder")
    settings = replace(own_index, index_dir=a_file)
    for attempt in (
        lambda: read_manifest(a_file),
        lambda: load_index(settings),
        lambda: build_index(settings, embedder),
        lambda: open_index(settings, lambda: embedder),
    ):
        with pytest.raises(SettingsError, match=r"index\.txt is a file, not a folder; set ASKPAIN_INDEX_DIR"):
            attempt()
    inside_a_file = replace(own_index, index_dir=a_file / "index")
    with pytest.raises(SettingsError, match="cannot create the index folder"):
        build_index(inside_a_file, embedder)
    assert a_file.read_text() == "not a folder"


@pytest.mark.parametrize("args", [["index", "-q"], ["index", "--if-needed"]])
def test_cli_names_the_index_file_without_a_traceback(tmp_path, args):
    a_file = tmp_path / "index.txt"
    a_file.write_text("not a folder")
    env = {**os.environ, "ASKPAIN_INDEX_DIR": str(a_file), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "askpain", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "FileExistsError" not in result.stderr
    assert f"askpain: the index folder {a_file} is a file, not a folder" in result.stderr


# --- two builds never run at once ---------------------------------------------------------


def test_builds_in_two_threads_never_overlap(own_index, embedder, monkeypatch):
    running, overlaps = [], []
    real = store._build_locked

    def counting(*args, **kwargs):
        running.append(1)
        overlaps.append(len(running))
        try:
            time.sleep(0.2)
            return real(*args, **kwargs)
        finally:
            running.pop()

    monkeypatch.setattr(store, "_build_locked", counting)
    errors = []

    def build():
        try:
            build_index(own_index, embedder)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=build) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and overlaps == [1, 1, 1]
    load_index(own_index)


HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, b"pid %d (test holder)" % os.getpid())
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _hold_lock(settings, seconds):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(settings.index_dir / store.LOCK_FILE), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_build_waits_for_another_process_holding_the_lock(own_index, embedder):
    holder = _hold_lock(own_index, 2.0)
    try:
        began = time.monotonic()
        build_index(own_index, embedder)
        assert time.monotonic() - began >= 1.0
        assert holder.poll() is not None  # it finished only after the holder let go
    finally:
        holder.kill()
        holder.wait()
    load_index(own_index)


def test_waiting_too_long_for_the_lock_is_a_plain_error(own_index):
    holder = _hold_lock(own_index, 30.0)
    try:
        busy = pytest.raises(IndexBusyError, match=r"another askpain build .*test holder.*did not finish")
        with busy, store.build_lock(own_index.index_dir, timeout=0.5):
            pass
    finally:
        holder.kill()
        holder.wait()
    with store.build_lock(own_index.index_dir, timeout=0.5):  # released when the holder died
        pass


def test_lock_file_is_kept_and_builds_leave_no_temporary_files(own_index, embedder):
    build_index(own_index, embedder)
    names = {p.name for p in own_index.index_dir.iterdir()}
    assert store.LOCK_FILE in names and not any(n.endswith(".tmp") for n in names)


def test_two_index_commands_at_once_both_succeed(own_index):
    """The race of the last review: two `askpain index` processes on one index."""
    doc = own_index.corpus_dir / "back-injections-dont-work.txt"
    doc.write_text(doc.read_text().replace("Surgery remains", "Surgery still remains"))
    env = {
        **os.environ,
        "ASKPAIN_INDEX_DIR": str(own_index.index_dir),
        "ASKPAIN_CORPUS_DIR": str(own_index.corpus_dir),
        "HF_HUB_OFFLINE": "1",
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "askpain", "index", "-q"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "Indexed 5 documents" in out
    loaded = load_index(own_index)
    assert any("Surgery still remains" in p.text for p in loaded.passages)
    assert not any(p.name.endswith(".tmp") for p in own_index.index_dir.iterdir())


# --- a corpus file that is not UTF-8 ------------------------------------------------------------


def test_latin1_document_is_indexed_and_quoted_verbatim(own_index, embedder):
    text = "Aftercare\n\nDon\x92t drive for a day; caf\xe9 is fine.\n"
    (own_index.corpus_dir / "aftercare.txt").write_bytes(text.encode("latin-1"))
    build_index(own_index, embedder)
    loaded = load_index(own_index)
    assert loaded.manifest["encodings"] == {"aftercare": "cp1252"}
    (passage,) = [p for p in loaded.passages if p.doc_id == "aftercare"]
    assert passage.text == "Don’t drive for a day; café is fine."
