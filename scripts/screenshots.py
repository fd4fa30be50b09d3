"""Take the README's screenshots of the chat page: desktop and phone, light and dark.

    .venv/bin/python scripts/screenshots.py            # starts `python app.py` on a free port
    .venv/bin/python scripts/screenshots.py URL        # or uses a server that is running

Each shot is the page after the same two questions (an emergency, then a plain question), in
Debian's Chromium, written to docs/screenshots/<device>-<scheme>.png. The pictures are of our
own page and our own test questions: no patient text.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
QUESTIONS = ("I can't control my bladder since the injection", "How long does relief from RFA usually last?")
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
}  # fmt: skip


# Scroll the chat box (not the page) to the first reply, then the page to its top.
_SHOW_FIRST_REPLY = """(reply) => {
  const box = reply.closest('.bubble-wrap');
  box.scrollTop += reply.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  window.scrollTo(0, 0);
}"""


def _serve() -> tuple[str, subprocess.Popen]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    env.pop("ASKPAIN_STAFF_USER", None)
    process = subprocess.Popen(
        [sys.executable, str(REPO / "app.py")], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "config", timeout=2)
            return url, process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.5)
    process.kill()
    sys.exit("askpain: app.py did not start (is the index built? run ./scripts/run.sh once)")


def _ask(page, question: str) -> None:
    before = page.locator("#askpain-chat .bot-row").count()
    box = page.locator("#askpain-question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#askpain-chat .bot-row").nth(before).wait_for(timeout=60_000)


def main() -> None:
    from playwright.sync_api import sync_playwright

    url, server = (sys.argv[1], None) if len(sys.argv) > 1 else _serve()
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
            for device, options in DEVICES.items():
                for scheme in ("light", "dark"):
                    context = browser.new_context(color_scheme=scheme, **options)
                    page = context.new_page()
                    page.goto(url)
                    page.locator("#askpain-question textarea").wait_for()
                    for question in QUESTIONS:
                        _ask(page, question)
                    # The page from its top, the chat at the emergency reply's alert card.
                    page.locator("#askpain-chat .bot-row").first.evaluate(_SHOW_FIRST_REPLY)
                    page.wait_for_timeout(300)
                    path = OUT / f"{device}-{scheme}.png"
                    page.screenshot(path=str(path))
                    print(f"wrote {path.relative_to(REPO)}")
                    context.close()
            browser.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
