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
    from askpain.embedding import Embedder

    return Embedder(Settings().resolved_model_path())


@pytest.fixture(scope="session")
def built_settings(tmp_path_factory, embedder) -> Settings:
    """Settings whose index_dir holds a fresh index of the shipped corpus (read-only for tests)."""
    from askpain.store import build_index

    settings = Settings(index_dir=tmp_path_factory.mktemp("index"))
    build_index(settings, embedder)
    return settings


@pytest.fixture(scope="session")
def loaded(built_settings):
    from askpain.store import load_index

    return load_index(built_settings)


@pytest.fixture(scope="session")
def retriever(loaded, embedder):
    from askpain.retriever import HybridRetriever

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
    from askpain.pipeline import Askpain

    return Askpain(loaded, embedder)


def answer_schema() -> dict:
    """The answer record schema: ../shared/spec when beside the checkout, else the vendored copy."""
    import json

    shared = REPO_ROOT.parent / "shared" / "spec" / "answer.schema.json"
    path = shared if shared.exists() else REPO_ROOT / "spec" / "answer.schema.json"
    return json.loads(path.read_text())
