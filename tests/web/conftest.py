"""The web tests' server: `python app.py` as in tests/conftest.py, with its own Gradio temp dir
and its output kept, so tests can look at both; and Debian's Chromium for the browser tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.web.helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, App, start_app


@pytest.fixture(scope="session")
def served(tmp_path_factory, built_settings) -> App:
    app = start_app(tmp_path_factory.mktemp("server"), built_settings.index_dir)
    yield app
    app.stop()


@pytest.fixture(scope="session")
def server(served) -> str:
    return served.url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        message = "Debian's chromium is not installed (scripts/test.sh installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
