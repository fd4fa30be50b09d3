"""Shared fixtures: the real model (loaded once) and a real index built in a temp folder."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace

import pytest

from askpain.settings import REPO_ROOT, Settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch):
    """No test reads the developer's ASKPAIN_* variables or writes the repo's index/."""
    for name in list(os.environ):
        if name.startswith("ASKPAIN_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ASKPAIN_INDEX_DIR", "/nonexistent/askpain-tests-must-pass-an-index-dir")


@pytest.fixture(scope="session")
def embedder():
    from askpain.retrieval.embedding import Embedder

    return Embedder(Settings().resolved_model_path())


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose index_dir holds a fresh index of the shipped corpus (read-only for tests)."""
    from askpain.retrieval.store import build_index

    settings = Settings(index_dir=tmp_path_factory.mktemp("index"))
    build_index(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def loaded(built_settings):
    from askpain.retrieval.store import load_index

    return load_index(built_settings)


@pytest.fixture(scope="session")
def retriever(loaded, embedder):
    from askpain.retrieval.hybrid import HybridRetriever

    return HybridRetriever(loaded.passages, loaded.vectors, embedder)


@pytest.fixture
def own_index(tmp_path, built_settings) -> Settings:
    """A private copy of corpus and index, free to edit or damage."""
    corpus = tmp_path / "corpus"
    shutil.copytree(REPO_ROOT / "corpus", corpus)
    index = tmp_path / "index"
    shutil.copytree(built_settings.index_dir, index)
    return replace(built_settings, corpus_dir=corpus, index_dir=index)


@pytest.fixture(scope="session")
def askpain(loaded, embedder):
    """The answer pipeline over the session's real index."""
    from askpain.answer.pipeline import Askpain

    return Askpain(loaded, embedder)


def answer_schema() -> dict:
    """The answer record schema: ../shared/spec when beside the checkout, else the vendored copy."""
    import json

    shared = REPO_ROOT.parent / "shared" / "spec" / "answer.schema.json"
    path = shared if shared.exists() else REPO_ROOT / "spec" / "answer.schema.json"
    return json.loads(path.read_text())


STAFF = ("staff-tester", "correct horse battery staple")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory, built_settings):
    """`python app.py` for real, on a free port, over a private copy of the index."""
    import subprocess
    import sys
    import time
    import urllib.request

    index = tmp_path_factory.mktemp("server") / "index"
    shutil.copytree(built_settings.index_dir, index)
    port = _free_port()
    env = {
        **os.environ,
        "GRADIO_SERVER_PORT": str(port),
        "ASKPAIN_INDEX_DIR": str(index),
        "ASKPAIN_STAFF_USER": STAFF[0],
        "ASKPAIN_STAFF_PASSWORD": STAFF[1],
        "HF_HUB_OFFLINE": "1",
    }
    log = tmp_path_factory.mktemp("server-log") / "app.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "app.py")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(url + "config", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"app.py did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
    yield url
    process.terminate()
    process.wait(timeout=30)
