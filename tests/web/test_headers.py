"""Security headers on every response of `python app.py` (finding 4); the browser tests check
that the page works with them."""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.error
import urllib.request

import pytest

from askpain.web.server import page_csp

COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in csp.split(";")) if d}


def assert_common(headers) -> dict[str, list[str]]:
    for name, value in COMMON.items():
        assert headers[name] == value, name
    csp = directives(headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    return csp


@pytest.mark.parametrize("path", ["", "staff/", "staff"])  # /staff redirects to /staff/
def test_pages_have_a_csp_without_inline_or_eval_script(server, path):
    status, headers, body = fetch(server + path, headers={"accept-encoding": "br, gzip"})
    assert status == 200 and headers["content-type"].startswith("text/html")
    csp = assert_common(headers)
    script = csp["script-src"]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script and "*" not in script
    assert (
        csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    )
    assert csp["img-src"] == ["'self'", "data:", "blob:"]  # no image from another host
    # Exactly the page's inline scripts are allowed, by hash.
    inline = [
        m for a, m in re.findall(rb"<script\b([^>]*)>(.*?)</script>", body, re.DOTALL) if b"src=" not in a
    ]
    assert inline
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline}
    assert hashes == {h for h in script if h.startswith("'sha256-")}
    assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "path",
    [
        "config",
        "gradio_api/info",
        "theme.css",
        "askpain-static/show-latest.js",
        "askpain-static/reply-links.js",
        "no-such-page",
        "staff/config",
    ],
)
def test_other_responses_have_the_headers_and_a_do_nothing_csp(server, path):
    status, headers, _ = fetch(server + path)
    assert status in (200, 401, 404)
    csp = assert_common(headers)
    assert csp["default-src"] == ["'none'"] and "sandbox" in csp


def test_asset_and_api_error_responses_have_the_headers(server):
    _, _, body = fetch(server)
    asset = re.search(rb'src="\./(assets/index-[^"]+\.js)"', body).group(1).decode()
    status, headers, _ = fetch(server + asset)
    assert status == 200 and "javascript" in headers["content-type"]
    assert_common(headers)
    status, headers, _ = fetch(server + "gradio_api/queue/join", b"{}", {"content-type": "application/json"})
    assert status in (404, 422)
    assert_common(headers)
    status, headers, _ = fetch(server + "gradio_api/upload", b"x", {"content-type": "text/plain"})
    assert status == 404
    assert_common(headers)


def test_page_csp_hashes_only_inline_scripts():
    html = b'<script>a()</script><script src="x.js"></script><SCRIPT type="module">b()\r\n</SCRIPT>'
    csp = directives(page_csp(html))
    expected = {base64.b64encode(hashlib.sha256(s).digest()).decode() for s in (b"a()", b"b()\n")}
    assert {h[8:-1] for h in csp["script-src"] if h.startswith("'sha256-")} == expected
