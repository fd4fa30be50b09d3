"""The patient page's surface, against a real `python app.py`: no uploads or files (finding 1),
only /chat callable (5), no images from chat messages (6, server side), and a lone surrogate
still gets its answer and alert (7)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import orjson
import pytest
from gradio_client import Client

from askpain.web.patient import clean_chat_inputs, respond
from askpain.web.service import Service
from tests.web.helpers import join, post, reply_text


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def multipart(name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "askpainboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: text/plain\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def files_in(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()]


# ---- 1. no anonymous uploads -----------------------------------------------------------------


def test_patient_page_refuses_uploads_and_stores_nothing(served):
    before = files_in(served.temp_dir)
    body, kind = multipart("note.txt", b"hello")
    for path in ("gradio_api/upload", "gradio_api/upload?upload_id=x", "gradio_api/upload/"):
        status, answer = post(served.url + path, body, {"content-type": kind})
        assert status == 404, (path, status, answer)
    assert files_in(served.temp_dir) == before
    assert get(served.url + "gradio_api/upload_progress?upload_id=x") == 404


@pytest.mark.parametrize(
    "path",
    [
        "gradio_api/file=/etc/passwd",
        "gradio_api/file/etc/passwd",
        "gradio_api/proxy=http://127.0.0.1:9/",
        "gradio_api/runs",
        "gradio_api/openapi.json",
        "gradio_api/mcp/schema",
        "monitoring",
        "gradio_api/vibe-code",
        "gradio_api/token",
        "login",
        "gradio_api/run-history/buckets",
    ],
)
def test_patient_page_serves_no_files_or_extra_routes(server, path):
    assert get(server + path) == 404


# ---- 5. only /chat is callable -----------------------------------------------------------------


def test_patient_config_has_one_server_event_and_it_is_chat(server):
    config = json.loads(urllib.request.urlopen(server + "config", timeout=30).read())
    backend = [d for d in config["dependencies"] if d.get("backend_fn")]
    assert [d["api_name"] for d in backend] == ["chat"]
    # Enter, Send and the example buttons all trigger that one event.
    assert len(backend[0]["targets"]) >= 3


@pytest.mark.parametrize("fn_index", [1, 2, 3, 5, 8, 13, -1, 999, "0", True, None, 0.5])
def test_queue_refuses_every_other_function(server, fn_index):
    body = {"data": ["hi", []], "fn_index": fn_index, "session_hash": "probe12345", "event_data": None}
    status, _ = post(server + "gradio_api/queue/join", body)
    assert status == 404


@pytest.mark.parametrize("route", ["run/chat", "api/chat", "call/v2/chat", "call/predict", "run/predict"])
def test_no_direct_call_routes(server, route):
    assert post(server + "gradio_api/" + route, {"data": ["hi", []]})[0] == 404


def test_gradio_client_can_call_chat_and_nothing_else(server):
    client = Client(server, verbose=False)
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/chat"]
    with pytest.raises(Exception):  # noqa: B017, PT011 - refused, whichever way the client says so
        client.predict("hi", [], fn_index=1)


def test_staff_events_refuse_anonymous_callers(server):
    status, body = post(
        server + "staff/gradio_api/queue/join", {"data": [], "fn_index": 0, "session_hash": "x" * 11}
    )
    assert status == 401, body
    for fn_index in range(1, 8):
        body = {"data": [None], "fn_index": fn_index, "session_hash": "x" * 11}
        assert post(server + "staff/gradio_api/queue/join", body)[0] == 401
    assert get(server + "staff/gradio_api/file=/etc/passwd") == 401


def test_example_buttons_ask_their_own_question(server):
    config = json.loads(urllib.request.urlopen(server + "config", timeout=30).read())
    chat = next(d for d in config["dependencies"] if d.get("api_name") == "chat")
    buttons = {c["id"]: c["props"].get("value") for c in config["components"] if c["type"] == "button"}
    example = next(t for t, _ in chat["targets"] if buttons.get(t) == "What is a diagnostic nerve block?")
    status, messages = join(server, ["what's a good pizza recipe?", []], trigger_id=example)
    assert status == 200
    history = messages[-1]["output"]["data"][0]
    assert "diagnostic nerve block" in json.dumps(history[0]) and "pizza" not in json.dumps(history)


# ---- 6. images in chat messages (server side; the browser test checks no request is made) -----


def test_echoed_history_cannot_bring_images(askpain, built_settings):
    service = Service(built_settings, askpain)
    history = [
        {"role": "user", "content": [{"type": "text", "text": '<img src="http://127.0.0.1:9/u.png">'}]},
        {"role": "assistant", "content": '<p>ok</p><IMG src=/a.png><svg><image href="/b.png"/></svg>'},
    ]
    shown, _ = respond(service, "![x](http://127.0.0.1:9/x.png) what is RFA?", history)
    html = json.dumps(shown).lower()
    assert "<img" not in html and "<svg" not in html and "<image" not in html
    assert shown[-2]["content"] == "![x](http://127.0.0.1:9/x.png) what is RFA?"  # text, shown as text


# ---- 7. lone surrogates -----------------------------------------------------------------------


def test_lone_surrogate_through_the_queue_gets_the_answer_and_alert(server):
    history = [{"role": "user", "content": [{"type": "text", "text": "earlier \udcff message"}]}]
    status, messages = join(server, ["I can't control my bladder \udcff", history])
    assert status == 200
    done = messages[-1]
    assert done["msg"] == "process_completed" and done["success"], done
    html = reply_text(done)
    assert html.startswith('<div class="askpain-card askpain-emergency" role="alert">')
    assert "cauda equina syndrome" in html.split("</div>")[0]


def test_respond_makes_surrogates_safe_before_anything_else(askpain, built_settings):
    service = Service(built_settings, askpain)
    history = [{"role": "user", "content": [{"type": "text", "text": "bad \ud800 text"}]}]
    shown, box = respond(service, "I can't control my bladder \udcff", history)
    orjson.dumps(shown)  # serialisable: this raised before
    assert 'role="alert"' in shown[-1]["content"] and "\ufffd" in shown[-2]["content"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, ["", []]),
        ("text", ["", []]),
        ([{"text": "x"}, "history"], ["", []]),
        (
            ["a\udcffb", [{"role": "system", "content": "s"}, {"role": "user", "content": 5}]],
            ["a\ufffdb", []],
        ),
        (
            [
                "q",
                [
                    {"role": "user", "content": {"path": "/etc/passwd"}},
                    {"role": "assistant", "content": "hi"},
                ],
            ],
            ["q", [{"role": "assistant", "content": [{"type": "text", "text": "hi"}]}]],
        ),
        (
            [
                "q",
                [{"role": "user", "content": [{"type": "component", "component": "file", "value": "/etc"}]}],
            ],
            ["q", []],
        ),
    ],
)
def test_chat_inputs_are_cleaned_to_text(data, expected):
    assert clean_chat_inputs(data) == expected
