"""The served app through gradio_client (a real server started by `python app.py`)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient
from gradio_client import Client

from askpain.answer.compose import default_wording
from askpain.web.server import ServerSettings, create_app
from askpain.web.service import Service

WORDING = default_wording()


@pytest.fixture(scope="module")
def client(server):
    return Client(server, verbose=False)


def reply(client: Client, message: str) -> str:
    history, box = client.predict(message, [], api_name="/chat")
    assert box == ""
    content = history[-1]["content"]
    return content[0]["text"] if isinstance(content, list) else content


def test_only_the_chat_endpoint_is_public(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/chat"]


def test_factual_answer_with_citations(client):
    html = reply(client, "What is radiofrequency ablation?")
    assert "radio waves" in html
    assert '<details class="askpain-source">' in html and '<blockquote id="src-1-1">' in html
    # [1] leads to the quoted sentence, marked in its passage (the <details> opens around it).
    assert '<a href="#q-1-1">[1]</a>' in html and '<mark id="q-1-1">' in html


def test_red_flag_alert_comes_first(client):
    html = reply(client, "I can't control my bladder since the shot. What is PRP?")
    assert html.startswith('<div class="askpain-card askpain-emergency" role="alert">')
    assert "cauda equina syndrome" in html.split("</div>")[0]


def test_out_of_scope(client):
    html = reply(client, "what's a good pizza recipe?")
    assert WORDING.out_of_scope.split(":")[0] in html and "askpain-source" not in html


@pytest.mark.parametrize("message", ["", "   "])
def test_empty_input_gets_a_prompt(client, message):
    assert "Please type a question." in reply(client, message)


def test_long_input_is_answered_and_still_checked_in_full(client):
    html = reply(client, "My back hurts and I have many questions. " * 1100 + "Also I wet myself.")
    assert html.startswith('<div class="askpain-card askpain-emergency" role="alert">')
    assert "Your message was long" in html


def test_input_over_the_cap_is_cut_with_a_clear_note_and_checked_up_to_it(client):
    html = reply(client, "I wet myself. " + "My back hurts and I have many questions. " * 1500)
    assert html.startswith('<div class="askpain-card askpain-emergency" role="alert">')
    assert "Your message was too long" in html


def test_patient_html_is_escaped_server_side(client):
    history, _ = client.predict("<img src=x onerror=alert(1)> what is RFA?", [], api_name="/chat")
    user = history[0]["content"]
    user = user[0]["text"] if isinstance(user, list) else user
    assert "<img" not in user and "&lt;img src=x onerror=alert(1)&gt;" in user


def test_staff_area_needs_the_login(server):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(server + "staff/config", timeout=10)
    assert refused.value.code == 401


def test_staff_area_is_off_without_credentials(askpain, built_settings):
    app = create_app(Service(built_settings, askpain), ServerSettings())
    with TestClient(app) as http:
        assert http.get("/staff/config").status_code == 404
        assert http.get("/config").status_code == 200


def test_server_defaults_are_safe():
    settings = ServerSettings.from_env({})
    assert (settings.host, settings.port, settings.staff_enabled) == ("127.0.0.1", 7860, False)
    chosen = ServerSettings.from_env({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"})
    assert (chosen.host, chosen.port) == ("0.0.0.0", 8080)
