"""The web tests' server: `python app.py` as in tests/conftest.py, with its own Gradio temp dir
and its output kept, so tests can look at both."""

from __future__ import annotations

import pytest

from tests.web.helpers import App, start_app


@pytest.fixture(scope="session")
def served(tmp_path_factory, built_settings) -> App:
    app = start_app(tmp_path_factory.mktemp("server"), built_settings.index_dir)
    yield app
    app.stop()


@pytest.fixture(scope="session")
def server(served) -> str:
    return served.url
