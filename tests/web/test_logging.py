"""No patient text in the server's output (finding 2), and staff uploads gone from disk after a
run and after the server stops (finding 1).

The fuzz test runs its own `python app.py`, sends it 200 malformed or odd requests that all
carry one unique marker, stops it, and searches everything it printed (stdout and stderr).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest

from askpain.web.server import RedactFilter, RedactingStream, redact_text
from tests.conftest import STAFF
from tests.web.helpers import events, join, post, reply_text, start_app

MARKER = f"PATIENT-TEXT-{uuid.uuid4().hex[:12]}"
SAY = f"I can't control my bladder {MARKER}"


# ---- the mechanism, in isolation -------------------------------------------------------------


def validation_error():
    from pydantic import BaseModel

    class Message(BaseModel):
        content: int

    try:
        Message(content=MARKER)  # short enough for pydantic to quote whole
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("no error")


def record(name: str, msg: str, args=(), exc=None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


def formatted(rec: logging.LogRecord) -> str:
    assert RedactFilter().filter(rec)
    return logging.Formatter("%(name)s: %(message)s").format(rec)


def test_filter_hides_exception_messages_and_third_party_arguments():
    exc = validation_error()
    assert MARKER in str(exc)  # what pydantic would have logged: input_value='…MARKER'
    out = formatted(record("gradio.queueing", "failed: %s %r %d", (SAY, {"m": SAY}, 7), exc))
    assert MARKER not in out
    assert "failed: [redacted] '[redacted]' 7" in out
    assert "Traceback (most recent call last):" in out and "ValidationError: [details hidden]" in out
    assert 'File "' in out  # the frames are kept for debugging


def test_filter_keeps_askpain_arguments_but_not_exception_text():
    try:
        raise ValueError(SAY)
    except ValueError as exc:
        out = formatted(record("askpain.web.patient", "rebuilding: %s", ("corpus changed",), exc))
    assert "rebuilding: corpus changed" in out and MARKER not in out and "ValueError: [details hidden]" in out


def test_filter_redacts_pydantic_input_values_and_quotes_in_messages():
    warning = f"PydanticSerializationUnexpectedValue(Expected `str` [input_value='{SAY}', input_type=str])"
    assert MARKER not in formatted(record("py.warnings", warning))
    assert MARKER not in formatted(record("uvicorn.error", f"bad request: '{SAY}'"))
    assert MARKER not in redact_text(f'a "{SAY}" b')


def test_stream_keeps_traceback_frames_and_hides_exception_messages():
    import io
    import traceback

    raw = io.StringIO()
    stream = RedactingStream(raw)
    exc = validation_error()
    try:
        raise RuntimeError(f"while answering {SAY}") from exc
    except RuntimeError:
        traceback.print_exc(file=stream)
    print(f"queue error: {{'input': '{SAY}'}}", file=stream)
    print("askpain chat page: http://127.0.0.1:7860/", file=stream)
    stream.flush()
    out = raw.getvalue()
    assert MARKER not in out
    assert out.count("Traceback (most recent call last):") == 2
    assert "ValidationError: [details hidden]" in out and "RuntimeError: [details hidden]" in out
    assert "The above exception was the direct cause" in out
    assert "askpain chat page: http://127.0.0.1:7860/" in out  # ordinary output is untouched


def test_configured_process_prints_no_patient_text(tmp_path):
    """configure_output() in a fresh process: every handler filtered, warnings and prints redacted."""
    script = textwrap.dedent(
        f"""
        import logging, sys, traceback, warnings
        from askpain.web.server import RedactFilter, configure_output
        logging.getLogger("gradio").addHandler(logging.StreamHandler(sys.stderr))  # a library's own
        configure_output()
        loggers = [logging.getLogger()] + [l for l in logging.root.manager.loggerDict.values()
                                           if isinstance(l, logging.Logger)]
        handlers = [h for l in loggers for h in l.handlers]
        assert handlers and all(any(isinstance(f, RedactFilter) for f in h.filters) for h in handlers)
        say = {SAY!r}
        for name in ("uvicorn.error", "gradio", "fastapi", "httpx", "askpain.web.patient", "x"):
            logging.getLogger(name).error("input %s", say if name.startswith("uvicorn") else 1)
            logging.getLogger(name).exception("failed", exc_info=ValueError(say))
        warnings.warn(f"[input_value='{{say}}', input_type=str]")
        try:
            {{}}[say]
        except KeyError:
            traceback.print_exc()
        print("done", flush=True)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "done" in result.stdout and "KeyError: [details hidden]" in output
    assert MARKER not in output


# ---- the fuzz test against a real server -------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory, built_settings):
    app = start_app(tmp_path_factory.mktemp("fuzzed"), built_settings.index_dir)
    yield app
    app.stop()


def odd_payloads(rng: random.Random) -> list[tuple[str, bytes, str]]:
    """(path, body, content type) of 200 requests, each holding the marker somewhere."""
    m = MARKER
    histories = [
        m,
        {"role": "user", "content": m},
        [m],
        [{"role": "user", "content": 5}, {"role": "user", "content": m}],
        [{"role": m, "content": "x"}],
        [{"role": "user", "content": {"text": m}}],
        [{"role": "user", "content": [{"type": "text", "text": 5}, {"type": "text", "text": m}]}],
        [{"role": "user", "content": [{"type": "file", "file": {"path": f"/tmp/{m}"}}]}],
        [{"role": "user", "content": {"path": f"/etc/{m}", "meta": {"_type": "gradio.FileData"}}}],
        [{"role": "assistant", "content": [{"type": "component", "component": m, "value": m}]}],
        [{"role": "user", "metadata": {"title": m, "status": m}, "content": m, "options": [{"value": 1}]}],
        [{"role": "user", "content": [[[m]]]}],
        [{"role": "user", "content": f"{m}\udcff"}],
        [None, 1, [], {"content": m}],
    ]
    messages = [SAY, {"text": m}, [m], 5, None, f"{m} \ud800", f"![x](http://127.0.0.1:9/{m}.png)", m * 500]
    out: list[tuple[str, bytes, str]] = []

    def join_body(**fields) -> bytes:
        body = {"data": [SAY, []], "fn_index": 0, "session_hash": uuid.uuid4().hex[:11], **fields}
        return json.dumps(body).encode()

    for history in histories:  # malformed histories, the reported leak
        for message in rng.sample(messages, 4):
            out.append(("gradio_api/queue/join", join_body(data=[message, history]), "application/json"))
    odd = [
        join_body(data=[SAY]),
        join_body(data=[SAY, [], m]),
        join_body(data=m),
        join_body(data={"message": m}),
        join_body(fn_index=m),
        join_body(fn_index=1, data=[m, []]),
        join_body(fn_index=-1),
        join_body(session_hash={"x": m}),
        join_body(session_hash=None),
        join_body(trigger_id=m),
        join_body(event_data={"value": m}),
        join_body(oauth_token=m),
        join_body(batched=m),
        f'{{"data": ["{m}", [',  # broken JSON
    ]
    for body in odd:
        out.append(
            ("gradio_api/queue/join", body if isinstance(body, bytes) else body.encode(), "application/json")
        )
    out += [
        ("gradio_api/queue/join", f"data={m}".encode(), "application/x-www-form-urlencoded"),
        (
            "gradio_api/queue/join",
            b'{"data": ["' + m.encode() + b' \xff\xfe"], "fn_index": 0}',
            "application/json",
        ),
        ("gradio_api/call/chat", json.dumps({"data": [m, m]}).encode(), "application/json"),
        (
            "gradio_api/call/chat",
            json.dumps({"data": [SAY, [{"role": "user", "content": 1}]]}).encode(),
            "application/json",
        ),
        ("gradio_api/run/chat", json.dumps({"data": [SAY, m]}).encode(), "application/json"),
        (
            "gradio_api/upload",
            f"--b\r\nContent-Disposition: form-data; name=files; filename={m}\r\n\r\n{m}\r\n--b--\r\n"
            "".encode(),
            "multipart/form-data; boundary=b",
        ),
        (
            "gradio_api/cancel",
            json.dumps({"session_hash": m, "fn_index": 0, "event_id": m}).encode(),
            "application/json",
        ),
        ("gradio_api/predict", json.dumps({"data": [m]}).encode(), "application/json"),
        ("staff/login", f"username={m}&password={m}".encode(), "application/x-www-form-urlencoded"),
        ("staff/gradio_api/queue/join", join_body(), "application/json"),
        ("gradio_api/queue/join", b"[" * 5000 + m.encode() + b"]" * 5000, "application/json"),
        ("gradio_api/queue/join", join_body(data=[m * 100_000, []]), "application/json"),  # too large
    ]
    while len(out) < 200:  # random mixes of the above
        history = rng.choice(histories)
        out.append(
            ("gradio_api/queue/join", join_body(data=[rng.choice(messages), history]), "application/json")
        )
    return out[:200]


def test_fuzzed_api_never_prints_patient_text(app):
    rng = random.Random(20260213)
    payloads = odd_payloads(rng)
    assert len(payloads) == 200 and all(MARKER.encode() in body for _, body, _ in payloads)
    statuses = []
    for path, body, kind in payloads:
        status, answer = post(app.url + path, body, {"content-type": kind})
        statuses.append(status)
        assert MARKER.encode() not in answer  # never echoed back either
        if path == "gradio_api/queue/join" and status == 200:
            session = json.loads(body)["session_hash"]
            done = events(app.url, session)[-1]
            assert done["msg"] == "process_completed" and done["success"], done
    # Odd requests through the URL, the headers and the query string as well.
    for path in (f"{MARKER}", f"gradio_api/file={MARKER}", f"gradio_api/queue/data?session_hash={MARKER}"):
        request = urllib.request.Request(
            app.url + path, headers={"user-agent": MARKER, "cookie": f"x={MARKER}"}
        )
        with contextlib.suppress(urllib.error.URLError, TimeoutError):
            urllib.request.urlopen(request, timeout=10).read(100)
    # The ordinary path: real conversations with the marker in the message and the history.
    status, messages = join(app.url, [SAY, [{"role": "user", "content": [{"type": "text", "text": MARKER}]}]])
    assert status == 200 and 'role="alert"' in reply_text(messages[-1])
    assert 200 in statuses and 404 in statuses and 422 in statuses and 413 in statuses
    output = app.stop()
    assert "askpain chat page:" in output  # the output was captured
    assert MARKER not in output, [line for line in output.splitlines() if MARKER in line][:5]


# ---- staff uploads: removed after the run, and nothing left when the server stops -----------


def test_staff_upload_is_removed_after_the_run_and_cache_after_stop(tmp_path_factory, built_settings):
    folder = tmp_path_factory.mktemp("staff-upload")
    (folder / "tmp").mkdir()
    app = start_app(folder, built_settings.index_dir, env={"TMPDIR": str(folder / "tmp")})
    try:
        with httpx.Client(base_url=app.url, timeout=120) as http:
            assert (
                http.post("staff/login", data={"username": STAFF[0], "password": STAFF[1]}).status_code == 200
            )
            question_set = (
                b"- id: a\n  question: what is an SNRB?\n  expect: {support: [Selective Nerve Root Block]}\n"
            )
            uploaded = http.post(
                "staff/gradio_api/upload", files={"files": ("set.yaml", question_set)}
            ).json()[0]
            assert Path(uploaded).is_file() and Path(uploaded).is_relative_to(app.temp_dir)
            config = http.get("staff/config").json()
            # The event of the "Run question set" button.
            button = next(
                c["id"] for c in config["components"] if c.get("props", {}).get("value") == "Run question set"
            )
            run = next(d for d in config["dependencies"] if any(t[0] == button for t in d["targets"]))
            session = uuid.uuid4().hex[:11]
            file_data = {"path": uploaded, "orig_name": "set.yaml", "meta": {"_type": "gradio.FileData"}}
            body = {"data": [file_data], "fn_index": run["id"], "session_hash": session, "event_data": None}
            assert http.post("staff/gradio_api/queue/join", json=body).status_code == 200
            with http.stream("GET", f"staff/gradio_api/queue/data?session_hash={session}") as stream:
                done = None
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        done = json.loads(line[5:])
                        if done.get("msg") == "process_completed":
                            break
            assert done and done["success"], done
            assert "**1 items.**" in done["output"]["data"][0]
            assert not Path(uploaded).exists()  # the upload is gone once read
            downloads = done["output"]["data"][2]  # an update: the list is shown once it has files
            if isinstance(downloads, dict) and "value" in downloads:
                downloads = downloads["value"]
            assert [Path(f["path"]).name for f in downloads] == ["results.jsonl", "report.html"]
    finally:
        output = app.stop()
    left = [p for p in app.temp_dir.rglob("*") if p.is_file()]
    assert left == [], left  # Gradio's copies of uploads and downloads are deleted on shutdown
    assert [p for p in (folder / "tmp").rglob("*") if p.is_file()] == []  # and our results and report
    assert (
        "action=login_ok user=staff-tester" in output
        and "action=question_set_run user=staff-tester" in output
    )
    assert "outcome=ok" in output and "SNRB" not in output
