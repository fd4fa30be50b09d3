"""Serve the patient page at / and, when staff credentials are set, the staff area at /staff.

Safe by default: 127.0.0.1, no share link, no extra file paths, no uploads on the patient page,
no run history, no monitoring or analytics, a bounded queue, no patient text written to disk or
to the logs, security headers with a hash-based CSP on every response, and a staff login that
is throttled, expires and is audited. `SecurityMiddleware` enforces the web rules, in front of
Gradio; `configure_output` the logging rules.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import io
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

# Before gradio is imported: no usage analytics, no hub lookups.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from starlette.datastructures import MutableHeaders  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Mount  # noqa: E402

from askpain.errors import SettingsError  # noqa: E402
from askpain.settings import Settings  # noqa: E402
from askpain.web.feedback import Feedback  # noqa: E402
from askpain.web.patient import build_patient_page, clean_chat_inputs  # noqa: E402
from askpain.web.scripts import FEEDBACK_PATH, HEAD, SCRIPTS  # noqa: E402
from askpain.web.service import Service  # noqa: E402
from askpain.web.staff import audit, build_staff_page, remove_outputs  # noqa: E402
from askpain.web.style import CSS, STAFF_CSS  # noqa: E402

log = logging.getLogger(__name__)

QUEUE_SIZE = 64  # waiting requests beyond this are refused with a "busy" message
CONCURRENCY = 2  # answers computed at once (2 cores)
MAX_PATIENT_BODY = 1_000_000  # bytes in one request to the patient page (a message is at most ~50 KB)
MAX_FEEDBACK_BODY = 4_000  # a vote: a ticket and yes or no
MAX_LOGIN_BODY = 10_000

# --------------------------------------------------------------------------------------------
# Logging and console output that cannot carry patient text
# --------------------------------------------------------------------------------------------

TRACEBACK_HEAD = "Traceback (most recent call last):"
_CHAIN_LINES = (
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
)
HIDDEN = "[details hidden]"
REDACTED = "[redacted]"
# pydantic quotes the input in errors and warnings: "[type=…, input_value='…', input_type=str]".
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]|$)", re.DOTALL)
# A quoted string; inside single quotes an apostrophe before a letter ("can't") does not end it.
_QUOTED = re.compile(r"""(?<![\w'])'(?:[^'\\\n]|\\.|'(?=\w))*'(?!\w)|"(?:[^"\\\n]|\\.)*\"""")
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(:|$)")


def redact_text(text: str, *, quotes: bool = True) -> str:
    """`text` without pydantic's quoted inputs and, with `quotes`, without any quoted string."""
    text = _INPUT_VALUE.sub(f"input_value={REDACTED}", text)
    return _QUOTED.sub(lambda m: f"{m.group(0)[0]}{REDACTED}{m.group(0)[0]}", text) if quotes else text


def safe_traceback(exc_info) -> str:
    """A traceback with its frames (file, line, function, source) and the type of each exception
    in the chain, and none of their messages: str(exception) can quote the input that failed."""
    import traceback

    chain: list[tuple[BaseException, str | None]] = []  # latest first, with the link to the one before
    exc, seen = exc_info[1], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if exc.__cause__ is not None:
            chain.append((exc, _CHAIN_LINES[1]))
            exc = exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            chain.append((exc, _CHAIN_LINES[0]))
            exc = exc.__context__
        else:
            chain.append((exc, None))
            exc = None
    parts = []
    for exc, link in reversed(chain):  # oldest first, as Python prints them
        kind = type(exc).__qualname__
        module = type(exc).__module__
        name = kind if module == "builtins" else f"{module}.{kind}"
        parts.append(
            TRACEBACK_HEAD + "\n" + "".join(traceback.format_tb(exc.__traceback__)) + f"{name}: {HIDDEN}\n"
        )
        if link:
            parts.append(f"\n{link}\n\n")
    return "".join(parts).rstrip("\n")


def _trusted(name: str) -> bool:
    """askpain's own loggers, whose messages are written not to include patient text."""
    return name == "askpain" or name.startswith("askpain.")


class RedactFilter(logging.Filter):
    """On every handler: a record leaves with no exception message (type and frames only), no
    pydantic input value and, from any logger but askpain's, no string argument and no quoted
    text. Records are rewritten, never dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_askpain_redacted", False):
            return True
        trusted = _trusted(record.name)
        msg = record.msg if isinstance(record.msg, str) else f"<{type(record.msg).__name__}>"
        args = record.args
        if args and not trusted:
            keep = (int, float, bool, type(None))
            if isinstance(args, dict):
                args = {k: v if isinstance(v, keep) else REDACTED for k, v in args.items()}
            else:
                args = tuple(a if isinstance(a, keep) else REDACTED for a in args)
        try:
            text = msg % args if args else msg
        except (TypeError, ValueError, KeyError):
            text = msg
        record.msg, record.args = redact_text(text, quotes=not trusted), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info)
        elif record.exc_text:
            record.exc_text = _OutputRedactor().feed(record.exc_text + "\n", end=True).rstrip("\n")
        record.exc_info = None
        record._askpain_redacted = True
        return True


class _OutputRedactor:
    """Line by line: tracebacks keep their frames but lose every exception message (the rest of
    the write that holds the exception line), and other lines lose quoted text and pydantic's
    input values. Gradio prints tracebacks (traceback.print_exc) straight to stderr, and Python
    writes each exception message, however many lines it has, in one write."""

    def __init__(self) -> None:
        self.partial = ""  # an unfinished line waits for its end (quotes are redacted whole)
        self.in_traceback = False
        self.hiding = False

    def feed(self, chunk: str, *, end: bool = False) -> str:
        *lines, self.partial = (self.partial + chunk).split("\n")
        ends = ["\n"] * len(lines)
        if end and self.partial:
            lines.append(self.partial)
            ends.append("")
            self.partial = ""
        out = []
        for line, newline in zip(lines, ends, strict=True):
            shown = self._line(line)
            if shown is not None:
                out.append(shown + newline)
        if self.hiding:  # the message ends with the write that started it
            self.hiding, self.partial = False, ""
        return "".join(out)

    def _line(self, line: str) -> str | None:
        if line == TRACEBACK_HEAD:
            self.in_traceback, self.hiding = True, False
            return line
        if line in _CHAIN_LINES:
            self.in_traceback, self.hiding = False, False
            return line
        if self.hiding:
            return None
        if self.in_traceback and (line.startswith(" ") or not line):
            return line  # a frame: file, line and function, then its source line
        if self.in_traceback:
            match = _EXCEPTION_LINE.match(line)
            name = match.group(1) if match else "Exception"
            self.in_traceback, self.hiding = False, True
            return name if line.strip() == name else f"{name}: {HIDDEN}"
        return redact_text(line)


class RedactingStream(io.TextIOBase):
    """sys.stdout / sys.stderr for the server process: everything printed passes an
    `_OutputRedactor` (a complete line at a time) before it reaches the real stream."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._redactor = _OutputRedactor()
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            out = self._redactor.feed(text)
            if out:
                self._stream.write(out)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._redactor.partial:
                self._stream.write(self._redactor.feed("", end=True))
            self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")


LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "uvicorn.asgi",
    "gradio",
    "fastapi",
    "starlette",
    "httpx",
)


def configure_output(stream=None) -> logging.Handler:
    """Route all logging through one handler that carries `RedactFilter`, add that filter to
    every other handler there is, send warnings through logging, and wrap sys.stdout and
    sys.stderr in `RedactingStream`. The audit log (`askpain.audit`) is written at INFO."""
    if not isinstance(sys.stderr, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
        sys.stderr = RedactingStream(sys.stderr)
    raw = stream or sys.stderr._stream  # the filter has done the redaction; no second pass
    handler = logging.StreamHandler(raw)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("askpain.audit").setLevel(logging.INFO)
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()  # theirs propagate to ours
        logger.propagate = True
    logging.captureWarnings(True)
    filter_every_handler()
    return handler


def filter_every_handler() -> None:
    """RedactFilter on every handler of every logger that exists now."""
    loggers = [logging.getLogger()] + [
        lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactFilter) for f in handler.filters):
                handler.addFilter(RedactFilter())


# --------------------------------------------------------------------------------------------
# Staff login: throttling, lockout, sessions that expire, audit
# --------------------------------------------------------------------------------------------


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


@dataclass
class LoginThrottle:
    """Failed logins per IP and per user name. The first `free` failures cost nothing; each
    further one doubles the wait before the next try (1 s, 2 s, 4 s … up to `max_delay`);
    `lockout` failures lock that IP or user for `lockout_seconds`, and each failure after that
    locks it again. While a wait runs every login from that IP or for that user is refused
    unchecked, the right password included. Failures are forgotten on a successful login, or
    `window` seconds after the last one or the end of its lockout, whichever is later."""

    free: int = 3
    base_delay: float = 1.0
    max_delay: float = 300.0
    lockout: int = 10
    lockout_seconds: float = 900.0
    window: float = 3600.0
    clock: Callable[[], float] = time.monotonic
    _state: dict[str, _Failures] = field(default_factory=dict)

    def _get(self, key: str, now: float) -> _Failures:
        entry = self._state.get(key)
        if entry and now - max(entry.last, entry.blocked_until) > self.window:
            del self._state[key]
            entry = None
        return entry or _Failures()

    def wait(self, keys: Iterable[str]) -> float:
        """Seconds until a login with these keys may be checked; 0 when it may be now."""
        now = self.clock()
        return max([0.0, *(self._get(k, now).blocked_until - now for k in keys)])

    def failed(self, keys: Iterable[str]) -> None:
        now = self.clock()
        for key in keys:
            entry = self._get(key, now)
            entry.count += 1
            entry.last = now
            if entry.count >= self.lockout:
                entry.blocked_until = now + self.lockout_seconds
            elif entry.count > self.free:
                entry.blocked_until = now + min(
                    self.max_delay, self.base_delay * 2 ** (entry.count - self.free - 1)
                )
            self._state[key] = entry
        if len(self._state) > 10_000:  # many addresses: forget the expired ones
            for key in [
                k for k, e in self._state.items() if now - max(e.last, e.blocked_until) > self.window
            ]:
                del self._state[key]

    def succeeded(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._state.pop(key, None)


@dataclass
class StaffSessions:
    """Server-side expiry of staff logins: a session ends after `idle` seconds without a request
    or `lifetime` seconds after the login, whichever comes first; the cookie expires with it."""

    idle: float = 30 * 60
    lifetime: float = 8 * 3600
    clock: Callable[[], float] = time.monotonic
    _sessions: dict[str, list] = field(default_factory=dict)  # token -> [user, started, last seen]

    def _expired(self, session: list, now: float) -> bool:
        _, started, seen = session
        return now - seen > self.idle or now - started > self.lifetime

    def start(self, token: str, user: str) -> None:
        now = self.clock()
        for old in [t for t, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[old]
        self._sessions[token] = [user, now, now]

    def check(self, token: str) -> str | None:
        """The user of a live session (now seen again), or None for an unknown or expired one."""
        session = self._sessions.get(token)
        if session is None:
            return None
        now = self.clock()
        if self._expired(session, now):
            del self._sessions[token]
            return None
        session[2] = now
        return session[0]

    def end_user(self, user: str) -> None:
        for token in [t for t, s in self._sessions.items() if s[0] == user]:
            del self._sessions[token]


class StaffGate:
    """What the middleware does for /staff: login throttling and audit, cookie hardening and
    session expiry. `forget_token` removes a token from Gradio's own table."""

    def __init__(
        self,
        staff_user: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        forget_token: Callable[[str], None] = lambda token: None,
    ) -> None:
        self.staff_user = staff_user
        self.throttle = LoginThrottle(clock=clock)
        self.sessions = StaffSessions(clock=clock)
        self.forget_token = forget_token
        self.login_lock = asyncio.Lock()

    def user_label(self, name: str) -> str:
        """The name for the audit log: the staff user's, or "unknown" (a mistyped password in
        the user field is not written down)."""
        return name if hmac.compare_digest(name.encode(), self.staff_user.encode()) else "unknown"


# --------------------------------------------------------------------------------------------
# Security headers and the request rules
# --------------------------------------------------------------------------------------------

_SCRIPT = re.compile(rb"<script\b([^>]*)>(.*?)</script\s*>", re.DOTALL | re.IGNORECASE)

PAGE_CSP = (
    "default-src 'self'; script-src 'self'{hashes}; "
    # Gradio sets styles at run time (its theme and CSS, Svelte style attributes): no hashes
    # are possible, so styles need 'unsafe-inline'. Scripts need neither 'unsafe-inline' nor
    # 'unsafe-eval' (the page has no js= events).
    "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; media-src 'self'; object-src 'none'; worker-src 'self'; frame-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# Anything that is not one of our pages (JSON, scripts, files) may do nothing when opened.
OTHER_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox"
SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
_NO_STORE = ("text/html", "application/json", "text/event-stream", "text/plain")


def page_csp(html: bytes) -> str:
    """The page CSP, allowing exactly the inline scripts of this HTML by their sha256."""
    hashes = []
    for match in _SCRIPT.finditer(html):
        if re.search(rb"\bsrc\s*=", match.group(1), re.IGNORECASE):
            continue
        body = match.group(2).replace(b"\r\n", b"\n")
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        hashes.append(f" 'sha256-{digest}'")
    return PAGE_CSP.format(hashes="".join(dict.fromkeys(hashes)))


# The patient app's whole surface: the page, its assets, the config, /chat through the queue, and
# the votes on answers (our own route).
PATIENT_GET_EXACT = {
    "/",
    "/config",
    "/config/",
    "/theme.css",
    "/favicon.ico",
    "/robots.txt",
    "/manifest.json",
    "/gradio_api/info",
    "/gradio_api/info/",
    "/gradio_api/app_id",
    "/gradio_api/app_id/",
    "/gradio_api/startup-events",
    "/gradio_api/queue/data",
    "/gradio_api/queue/status",
    *SCRIPTS,
}
PATIENT_GET_PREFIXES = (
    "/assets/",
    "/static/",
    "/svelte/",
    "/gradio_api/heartbeat/",
    "/gradio_api/call/chat/",
)
PATIENT_POST = {
    FEEDBACK_PATH,
    "/gradio_api/queue/join",
    "/gradio_api/call/chat",
    "/gradio_api/call/chat/",
    "/gradio_api/cancel",
}
PAGES = {"/", "/staff/"}
STAFF_THEME = gr.themes.Default().set(
    button_primary_background_fill="#c2410c",
    button_primary_background_fill_dark="#c2410c",
    button_primary_background_fill_hover="#9a3412",
    button_primary_background_fill_hover_dark="#9a3412",
    button_primary_text_color="#ffffff",
    button_primary_text_color_dark="#ffffff",
)
# Gradio's page has no <title> until its script sets the app's, and its login screen never sets
# one: the staff page gets one in the HTML (Gradio's script replaces it once logged in).
STAFF_TITLES = {True: "askpain — staff", False: "askpain — staff sign-in"}
_HEAD = re.compile(rb"<head>", re.IGNORECASE)


def with_title(html: bytes, title: str) -> bytes:
    """The page with `title` as its <title>, unless it has one."""
    if re.search(rb"<title[\s>]", html, re.IGNORECASE):
        return html
    tag = f"<title>{title}</title>".encode()
    return _HEAD.sub(lambda m: m.group(0) + tag, html, count=1)


def patient_get_allowed(path: str) -> bool:
    return path in PATIENT_GET_EXACT or path.startswith(PATIENT_GET_PREFIXES)


class _TooLarge(Exception):
    pass


async def _read_body(receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive):
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # then the real channel: disconnects reach the app

    return replay


def _with_body(scope: dict, body: bytes) -> dict:
    headers = [(k, v) for k, v in scope["headers"] if k not in (b"content-length", b"transfer-encoding")]
    return {**scope, "headers": [*headers, (b"content-length", str(len(body)).encode())]}


def _without(scope: dict, name: bytes) -> dict:
    return {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != name]}


async def _plain(send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    """A short JSON answer of our own, with the security headers; it never echoes the request."""
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    message = {"type": "http.response.start", "status": status, "headers": raw}
    _secure(message["headers"], OTHER_CSP)
    await send(message)
    await send({"type": "http.response.body", "body": body})


def _secure(raw_headers: list, csp: str) -> None:
    headers = MutableHeaders(raw=raw_headers)
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    headers["content-security-policy"] = csp
    kind = headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in _NO_STORE and "cache-control" not in headers:
        headers["cache-control"] = "no-store"


def _headers_send(send, is_page: bool, title: str | None = None):
    """`send` with the security headers on every response; our pages are buffered to hash
    their inline scripts into the CSP (and, with `title`, given that title)."""
    start: dict | None = None
    chunks: list[bytes] = []

    async def wrapped(message):
        nonlocal start
        if message["type"] == "http.response.start":
            message["headers"] = list(message.get("headers", []))
            headers = MutableHeaders(raw=message["headers"])
            html = headers.get("content-type", "").startswith("text/html")
            if is_page and html and "content-encoding" not in headers:
                start = message
                return
            _secure(message["headers"], OTHER_CSP if not is_page else PAGE_CSP.format(hashes=""))
            await send(message)
        elif message["type"] == "http.response.body" and start is not None:
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if title:
                body = with_title(body, title)
            _secure(start["headers"], page_csp(body))
            MutableHeaders(raw=start["headers"])["content-length"] = str(len(body))
            await send(start)
            await send({"type": "http.response.body", "body": body})
        else:
            await send(message)

    return wrapped


class SecurityMiddleware:
    """In front of both Gradio apps (pure ASGI, so the queue's event streams pass unbuffered).

    Everywhere: security headers, and a CSP that allows our pages' inline scripts by hash.
    Patient app: only the page, its assets, /chat and the answer votes (/askpain-feedback) exist.
    Every other route (uploads, files, proxies, login, other events …) answers 404; /chat requests
    must name the chat function and their inputs are cleaned (text only, no lone surrogates)
    before Gradio reads them.
    Staff app (`gate`): throttled, audited login; hardened cookies; sessions that expire.
    """

    def __init__(self, app, *, chat_fn: int, gate: StaffGate | None = None) -> None:
        self.app = app
        self.chat_fn = chat_fn
        self.gate = gate

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":  # neither app uses websockets
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        is_page = scope["method"] in ("GET", "HEAD") and path in PAGES
        if is_page:  # uncompressed, so the CSP can hash the page's inline scripts
            scope = _without(scope, b"accept-encoding")
        title = None
        if is_page and self.gate is not None and path == "/staff/":
            tokens = _access_tokens(scope).values()
            title = STAFF_TITLES[any(self.gate.sessions.check(t) for t in set(tokens))]
        send = _headers_send(send, is_page, title)
        if self.gate is not None and path == "/staff":
            await _plain(send, 307, "See /staff/", {"location": "/staff/"})
        elif self.gate is not None and path.startswith("/staff/"):
            await self._staff(scope, receive, send, path[len("/staff") :])
        else:
            await self._patient(scope, receive, send, path)

    # ---- patient -----------------------------------------------------------------------------

    async def _patient(self, scope, receive, send, path: str) -> None:
        method = scope["method"]
        if method in ("GET", "HEAD"):
            if not patient_get_allowed(path):
                await _plain(send, 404, "Not Found")
                return
            await self.app(scope, receive, send)
            return
        if method != "POST" or path not in PATIENT_POST:
            await _plain(
                send, 404 if method == "POST" else 405, "Not Found" if method == "POST" else "Not Allowed"
            )
            return
        try:
            body = await _read_body(receive, MAX_FEEDBACK_BODY if path == FEEDBACK_PATH else MAX_PATIENT_BODY)
        except _TooLarge:
            await _plain(send, 413, "Request too large.")
            return
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            payload = None
        if not isinstance(payload, dict):
            await _plain(send, 422, "Invalid request.")
            return
        if path == FEEDBACK_PATH:  # our own route, which reads only a ticket and yes or no
            await self.app(_with_body(scope, body), _replay(body, receive), send)
            return
        if path == "/gradio_api/cancel":
            cleaned = {"session_hash": payload.get("session_hash"), "fn_index": payload.get("fn_index")}
            if cleaned["fn_index"] != self.chat_fn or not isinstance(cleaned["session_hash"], str):
                await _plain(send, 404, "Not Found")
                return
            cleaned["event_id"] = (
                payload.get("event_id") if isinstance(payload.get("event_id"), str) else None
            )
        elif path == "/gradio_api/queue/join":
            if payload.get("fn_index") != self.chat_fn or isinstance(payload.get("fn_index"), bool):
                await _plain(send, 404, "Not Found")  # only /chat exists here
                return
            if not isinstance(payload.get("session_hash"), str):
                await _plain(send, 422, "Invalid request.")
                return
            trigger = payload.get("trigger_id")
            cleaned = {
                "data": clean_chat_inputs(payload.get("data")),
                "fn_index": self.chat_fn,
                "session_hash": payload["session_hash"][:100],
                "trigger_id": trigger if isinstance(trigger, int) and not isinstance(trigger, bool) else None,
                "event_data": None,
            }
        else:  # /gradio_api/call/chat: the function is named by the path
            cleaned = {"data": clean_chat_inputs(payload.get("data"))}
        body = json.dumps(cleaned).encode()
        await self.app(_with_body(scope, body), _replay(body, receive), send)

    # ---- staff -------------------------------------------------------------------------------

    async def _staff(self, scope, receive, send, path: str) -> None:
        gate = self.gate
        assert gate is not None  # noqa: S101
        ip = (scope.get("client") or ("-", 0))[0]
        if scope["method"] == "POST" and path in ("/login", "/login/"):
            await self._login(scope, receive, send, ip)
            return
        tokens = _access_tokens(scope)
        live = {t: gate.sessions.check(t) for t in set(tokens.values())}
        for token, user in live.items():
            if user is None:  # expired or unknown: Gradio must not accept it either
                gate.forget_token(token)
        dead = {name for name, token in tokens.items() if live[token] is None}
        if dead:
            scope = _drop_cookies(scope, dead)
        if path in ("/logout", "/logout/"):
            for user in {u for u in live.values() if u}:
                gate.sessions.end_user(user)
                audit("logout", user, ip)
        await self.app(scope, receive, send)

    async def _login(self, scope, receive, send, ip: str) -> None:
        gate = self.gate
        assert gate is not None  # noqa: S101
        try:
            body = await _read_body(receive, MAX_LOGIN_BODY)
        except _TooLarge:
            await _plain(send, 413, "Request too large.")
            return
        try:
            form = await Request(_with_body(scope, body), _replay(body, receive)).form()
            name = str(form.get("username") or "").strip()
        except Exception:  # noqa: BLE001 - a malformed form is a failed login like any other
            name = ""
        user = gate.user_label(name)
        keys = [f"ip:{ip}", f"user:{user}"]
        async with gate.login_lock:  # check and count one login at a time: no parallel bursts
            wait = gate.throttle.wait(keys)
            if wait > 0:
                audit("login_refused", user, ip, retry_after=round(wait))
                await _plain(
                    send,
                    429,
                    f"Too many failed logins. Try again in {max(1, round(wait))} seconds.",
                    {"retry-after": str(max(1, round(wait)))},
                )
                return
            status: dict[str, object] = {}
            await self.app(_with_body(scope, body), _replay(body, receive), _login_send(send, gate, status))
            if status.get("code") == 200 and status.get("token"):
                gate.throttle.succeeded(keys)
                gate.sessions.start(str(status["token"]), name)
                audit("login_ok", user, ip)
            else:
                gate.throttle.failed(keys)
                audit("login_failed", user, ip)


def _access_tokens(scope: dict) -> dict[str, str]:
    """Gradio's access-token cookies of a request, by cookie name."""
    cookie = SimpleCookie()
    for key, value in scope["headers"]:
        if key == b"cookie":
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - an unreadable cookie header carries no session
                continue
    return {name: morsel.value for name, morsel in cookie.items() if name.startswith("access-token-")}


def _drop_cookies(scope: dict, names: set[str]) -> dict:
    headers = []
    for key, value in scope["headers"]:
        if key == b"cookie":
            parts = [p for p in value.decode("latin-1").split(";") if p.strip().split("=", 1)[0] not in names]
            value = ";".join(parts).strip().encode("latin-1")
            if not value:
                continue
        headers.append((key, value))
    return {**scope, "headers": headers}


def _login_send(send, gate: StaffGate, status: dict):
    """Rewrite Gradio's login cookies: SameSite=Strict, HttpOnly, and an expiry (Gradio's have
    none and SameSite=None); note the status and the session token."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            status["code"] = message["status"]
            headers = []
            for key, value in message.get("headers", []):
                if key == b"set-cookie":
                    value, token = _harden_cookie(value.decode("latin-1"), int(gate.sessions.lifetime))
                    status["token"] = status.get("token") or token
                    value = value.encode("latin-1")
                headers.append((key, value))
            message["headers"] = headers
        await send(message)

    return wrapped


def _harden_cookie(header: str, max_age: int) -> tuple[str, str | None]:
    first, *attributes = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    secure = any(a.lower() == "secure" for a in attributes)
    hardened = f"{name}={value}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=Strict" + (
        "; Secure" if secure else ""
    )
    return hardened, value if name.startswith("access-token-") else None


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    staff_user: str | None = None
    staff_password: str | None = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ServerSettings:
        env = os.environ if environ is None else environ
        return cls(
            host=env.get("GRADIO_SERVER_NAME") or "127.0.0.1",
            port=int(env.get("GRADIO_SERVER_PORT") or 7860),
            staff_user=env.get("ASKPAIN_STAFF_USER") or None,
            staff_password=env.get("ASKPAIN_STAFF_PASSWORD") or None,
        )

    @property
    def staff_enabled(self) -> bool:
        return bool(self.staff_user and self.staff_password)


def _staff_login(server: ServerSettings):
    def check(user: str, password: str) -> bool:
        # Constant-time comparison: no timing hints about the credentials.
        ok_user = hmac.compare_digest(user.encode(), (server.staff_user or "").encode())
        ok_password = hmac.compare_digest(password.encode(), (server.staff_password or "").encode())
        return ok_user and ok_password

    return check


def _script_file(script: str) -> Callable[[], Response]:
    """A route that returns one of our script files; it takes no parameters."""

    def serve() -> Response:
        return Response(script, media_type="text/javascript")

    return serve


def _feedback_route(feedback: Feedback) -> Callable:
    """POST /askpain-feedback: {"ticket": "<from the reply>", "helpful": true | false}. 204 when
    counted; 422 for anything else (a forged ticket, a missing field). JSON only, so another
    site's form cannot post a vote without the browser asking this server first (CORS)."""

    async def vote(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return Response(status_code=415)
        try:
            payload = json.loads(await request.body())
        except (ValueError, RecursionError):
            payload = None
        helpful = payload.get("helpful") if isinstance(payload, dict) else None
        if not isinstance(helpful, bool) or not feedback.vote(payload.get("ticket"), helpful=helpful):
            return Response(status_code=422)
        return Response(status_code=204)

    return vote


def _mounted(app: FastAPI, path: str):
    return next(route.app for route in app.routes if isinstance(route, Mount) and route.path == path)


def create_app(
    service: Service, server: ServerSettings, *, clock: Callable[[], float] = time.monotonic
) -> FastAPI:
    """The FastAPI app: the staff area at /staff (when enabled), the patient page at /, and
    `SecurityMiddleware` in front of both. `clock` times login back-off and session expiry."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        try:
            yield
        finally:  # uvicorn ends the process by the signal it got, so atexit would not run
            remove_outputs()
            service.close(timeout=5)  # stop watching corpus/ and index/

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    for path, script in SCRIPTS.items():
        app.add_api_route(path, _script_file(script), methods=["GET"], include_in_schema=False)
    feedback = Feedback()  # votes on answers, counted in memory for this process
    app.add_api_route(FEEDBACK_PATH, _feedback_route(feedback), methods=["POST"], include_in_schema=False)

    common = dict(
        run_history=False,
        allowed_paths=[],
        show_error=False,
        ssr_mode=False,
        enable_monitoring=False,
        mcp_server=False,
        pwa=False,
        footer_links=[],
        css=CSS,
    )
    gate = None
    if server.staff_enabled:
        staff = build_staff_page(service, feedback).queue(
            max_size=8, default_concurrency_limit=1, api_open=False
        )
        app = gr.mount_gradio_app(
            app,
            staff,
            path="/staff",
            auth=_staff_login(server),
            auth_message="askpain staff area",
            max_file_size="1mb",
            # The login screen comes before our CSS applies: its Login button takes the theme's
            # primary colours, set here to the same 5.2:1 orange as the rest.
            theme=STAFF_THEME,
            **{**common, "css": STAFF_CSS},
        )
        staff_app = _mounted(app, "/staff")
        gate = StaffGate(
            server.staff_user or "", clock=clock, forget_token=lambda token: staff_app.tokens.pop(token, None)
        )
    patient = build_patient_page(service, feedback).queue(
        max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY, api_open=False
    )
    app = gr.mount_gradio_app(app, patient, path="", max_file_size="1kb", head=HEAD, **common)
    chat_fn = next(fn._id for fn in patient.fns.values() if fn.api_name == "chat")
    app.add_middleware(SecurityMiddleware, chat_fn=chat_fn, gate=gate)
    return app


def main() -> None:
    import uvicorn

    try:  # before output is redacted: a wrong ASKPAIN_* value is the operator's to read and fix
        settings = Settings.from_env()
    except SettingsError as exc:
        sys.exit(f"askpain: {exc}")
    configure_output()
    server = ServerSettings.from_env()
    service = Service.open(settings)
    app = create_app(service, server)
    where = f"http://{server.host}:{server.port}/"
    staff = (
        f"{where}staff" if server.staff_enabled else "off (set ASKPAIN_STAFF_USER and ASKPAIN_STAFF_PASSWORD)"
    )
    print(f"askpain chat page: {where}\nstaff area: {staff}", flush=True)
    # No access log; log_config=None keeps uvicorn on our handler (and its filter).
    uvicorn.run(
        app, host=server.host, port=server.port, log_level="warning", access_log=False, log_config=None
    )
