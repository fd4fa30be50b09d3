"""Helpers for the web tests: a real `python app.py` process, /chat over raw HTTP, and the page
in Debian's Chromium (driven by Playwright)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from askpain.settings import REPO_ROOT
from tests.conftest import STAFF


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class App:
    """A running `python app.py`: its URL, its whole stdout and stderr, its Gradio temp dir."""

    url: str
    process: subprocess.Popen
    stdout: Path
    stderr: Path
    temp_dir: Path

    def stop(self) -> str:
        """Stop the server as an operator would (SIGTERM) and return everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.output()

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


def start_app(folder: Path, index_dir: Path, *, staff: bool = True, env: dict[str, str] | None = None) -> App:
    """`python app.py` for real, on a free port, over a private copy of the index."""
    index = folder / "index"
    shutil.copytree(index_dir, index)
    temp_dir = folder / "gradio-tmp"
    temp_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        **(env or {}),
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_TEMP_DIR": str(temp_dir),
        "ASKPAIN_INDEX_DIR": str(index),
        "HF_HUB_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    if staff:
        env |= {"ASKPAIN_STAFF_USER": STAFF[0], "ASKPAIN_STAFF_PASSWORD": STAFF[1]}
    stdout, stderr = folder / "stdout.log", folder / "stderr.log"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "app.py")], env=env, stdout=out, stderr=err
        )
    app = App(f"http://127.0.0.1:{port}/", process, stdout, stderr, temp_dir)
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(app.url + "config", timeout=2)
            return app
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"app.py did not start:\n{app.output()[-3000:]}") from None
            time.sleep(0.5)


def post(url: str, body: bytes | dict, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers={"content-type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def events(url: str, session_hash: str, headers: dict[str, str] | None = None) -> list[dict]:
    """The queue's messages for one session until its event completes."""
    messages = []
    request = urllib.request.Request(
        f"{url}gradio_api/queue/data?session_hash={session_hash}", headers=headers or {}
    )
    with urllib.request.urlopen(request, timeout=120) as stream:
        for line in stream:
            line = line.decode().strip()
            if line.startswith("data:"):
                messages.append(json.loads(line[5:]))
                if messages[-1].get("msg") in ("process_completed", "close_stream"):
                    break
    return messages


def join(url: str, data: list, fn_index: int = 0, *, trigger_id: int | None = None) -> tuple[int, list[dict]]:
    """Call an event through the queue as the page does (json.dumps escapes lone surrogates,
    as a browser's JSON.stringify does). Returns the join status and the event's messages."""
    session = uuid.uuid4().hex[:11]
    body = {
        "data": data,
        "fn_index": fn_index,
        "session_hash": session,
        "trigger_id": trigger_id,
        "event_data": None,
    }
    status, _ = post(url + "gradio_api/queue/join", body)
    return status, events(url, session) if status == 200 else []


def reply_text(message: dict) -> str:
    """The assistant's reply in a process_completed message."""
    content = message["output"]["data"][0][-1]["content"]
    return content[0]["text"] if isinstance(content, list) else content


# ---- the page in Chromium ----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
# Flags for a closed network: no background connections, no update or sync checks.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def watch(page) -> None:
    """Record dialogs, every request, and console messages about the CSP (a blocked script,
    style, image or connection is reported there)."""
    page.dialogs, page.requests, page.csp_errors = [], [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: page.requests.append(r.url))
    page.on(
        "console",
        lambda m: page.csp_errors.append(m.text) if "Content Security Policy" in m.text else None,
    )


@contextmanager
def open_page(browser, url: str, **context_options) -> Iterator:
    """The chat page in a new browser context (viewport, colour scheme, forced colours …),
    watched, and with no CSP violation by the time it closes."""
    context = browser.new_context(**{"viewport": {"width": 1100, "height": 1000}, **context_options})
    page = context.new_page()
    watch(page)
    page.goto(url)
    page.locator("#askpain-question textarea").wait_for()
    try:
        yield page
    finally:
        context.close()
    assert page.csp_errors == []


def ask(page, text: str) -> None:
    """Type a question, press Enter and wait for the reply."""
    before = page.locator("#askpain-chat .bot-row").count()
    box = page.locator("#askpain-question textarea")
    box.fill(text)
    box.press("Enter")
    page.locator("#askpain-chat .bot-row").nth(before).wait_for(timeout=60_000)


@contextmanager
def staff_page(browser, url: str, **context_options) -> Iterator:
    """The staff area, logged in as the test's staff user, in a new browser context."""
    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_options})
    page = context.new_page()
    watch(page)
    page.goto(f"{url}staff/")
    page.get_by_label("username").fill(STAFF[0])
    page.get_by_label("password").fill(STAFF[1])
    page.get_by_role("button", name="Login").click()
    page.get_by_role("tab", name="Ask and trace").wait_for()
    try:
        yield page
    finally:
        context.close()
    assert page.csp_errors == []
