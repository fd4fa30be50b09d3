"""The chat page in a real browser: Debian's Chromium driven by Playwright, against `python app.py`."""

from __future__ import annotations

import pytest

from tests.conftest import STAFF
from tests.web.helpers import ARTIFACTS, ask, open_page, watch


@pytest.fixture
def page(browser, server):
    with open_page(browser, server) as page:  # fails on any CSP violation
        yield page


def test_opening_text_and_examples(page):
    page.get_by_text("not medical advice", exact=False).first.wait_for()
    page.get_by_text("In an emergency, call 911", exact=False).first.wait_for()
    example = page.get_by_role("button", name="Why didn't my epidural shot help my pain?")
    example.click()  # an example is one click away from an answer
    page.locator("#askpain-chat .bot-row").first.wait_for(timeout=60_000)
    assert "Here is what your clinic's documents say" in page.locator("#askpain-chat").inner_text()


def test_red_flag_alert_is_shown_above_the_answer(page):
    ask(page, "I can't feel the toilet paper when I wipe. Also what is RFA?")
    reply = page.locator("#askpain-chat .bot-row").last
    alert = reply.get_by_role("alert")
    alert.wait_for()
    assert "EMERGENCY" in alert.inner_text() and "911" in alert.inner_text()
    quote = reply.locator(".askpain-quote").first
    assert alert.bounding_box()["y"] < quote.bounding_box()["y"]
    assert alert.is_visible()
    box = alert.bounding_box()  # scrolled into view, not below the fold of the chat
    assert box["y"] >= 0 and box["y"] + box["height"] <= page.viewport_size["height"]
    page.screenshot(path=str(ARTIFACTS / "red-flag.png"))


def test_factual_answer_opens_a_source(page):
    ask(page, "What is radiofrequency ablation?")
    reply = page.locator("#askpain-chat .bot-row").last
    source = reply.locator("details.askpain-source").first
    quote = source.locator("blockquote")
    assert not quote.is_visible()
    source.locator("summary").click()
    assert quote.is_visible() and len(quote.inner_text()) > 50
    page.screenshot(path=str(ARTIFACTS / "answer-with-source.png"))


@pytest.mark.parametrize(
    "payload",
    [
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        '<a href="javascript:alert(3)">click</a><svg onload=alert(4)>',
    ],
)
def test_html_and_script_payloads_do_not_execute(page, payload):
    ask(page, payload)
    page.wait_for_timeout(1000)
    assert page.dialogs == []
    chat = page.locator("#askpain-chat")
    assert chat.locator("img[src='x'], script, svg[onload], a[href^='javascript']").count() == 0
    assert payload.split(">")[0] + ">" in chat.inner_text()  # shown as text


def test_new_conversation_clears_the_chat(page):
    ask(page, "What is PRP?")
    with page.expect_navigation():  # a link that reloads the page: no server event
        page.locator("#askpain-new").click()
    from playwright.sync_api import expect

    page.locator("#askpain-question textarea").wait_for()
    expect(page.locator("#askpain-chat .bot-row")).to_have_count(0)


def test_send_button_asks(page):
    page.locator("#askpain-question textarea").fill("What is a facet joint injection?")
    page.locator("#askpain-send").click()
    page.locator("#askpain-chat .bot-row").first.wait_for(timeout=60_000)
    assert "Here is what your clinic's documents say" in page.locator("#askpain-chat").inner_text()
    assert page.locator("#askpain-question textarea").input_value() == ""


def test_page_runs_under_the_csp(page, server):
    response = page.goto(server)
    csp = response.headers["content-security-policy"]
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert response.headers["x-frame-options"] == "DENY"
    page.locator("#askpain-question textarea").wait_for()
    page.get_by_role("button", name="What is a diagnostic nerve block?").click()
    page.locator("#askpain-chat .bot-row").first.wait_for(timeout=60_000)
    # The scroll to the new reply is a script file, allowed by 'self'.
    assert any(url.endswith("/askpain-static/show-latest.js") for url in page.requests)
    assert page.csp_errors == []


@pytest.mark.parametrize(
    "message",
    [
        "![x](http://127.0.0.1:9/x.png) what is RFA?",
        "![y](/askpain-image-probe.png) what is RFA?",  # same origin: the CSP would allow it
        '<img src="/askpain-image-probe.png"> what is RFA?',
    ],
)
def test_images_in_messages_are_not_fetched(page, message):
    ask(page, message)
    page.wait_for_timeout(1500)
    fetched = [u for u in page.requests if "127.0.0.1:9" in u or "askpain-image-probe" in u]
    assert fetched == []
    chat = page.locator("#askpain-chat")
    assert chat.locator("img, image, picture").count() == 0
    assert message.split(" what")[0] in chat.inner_text()  # shown as the text the patient typed


def test_keyboard_only(page):
    page.locator("#askpain-question textarea").focus()
    page.keyboard.type("What is the mild procedure?")
    page.keyboard.press("Enter")
    page.locator("#askpain-chat .bot-row").first.wait_for(timeout=60_000)
    page.keyboard.press("Tab")  # focus moves on to the next control
    assert page.evaluate("document.activeElement.tagName") in ("BUTTON", "TEXTAREA", "A", "INPUT")


def test_phone_sized_screen(browser, server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(server)
    ask(page, "I wet myself and my back hurts")
    alert = page.locator("#askpain-chat .bot-row").last.get_by_role("alert").first
    assert alert.is_visible() and "EMERGENCY" in alert.inner_text()  # the most urgent comes first
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(ARTIFACTS / "phone.png"))
    context.close()


def test_staff_area_refuses_without_credentials(browser, server):
    context = browser.new_context()
    page = context.new_page()
    watch(page)
    page.goto(server + "staff/")
    page.get_by_label("Password").wait_for()
    assert "Ask and trace" not in page.content()
    page.get_by_label("Username").fill(STAFF[0])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Login").click()
    page.wait_for_timeout(1500)
    assert page.get_by_text("Incorrect Credentials").is_visible()
    assert page.get_by_label("Password").is_visible() and "Ask and trace" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "staff-refused.png"))
    page.get_by_label("Username").fill(STAFF[0])
    page.get_by_label("Password").fill(STAFF[1])
    page.get_by_role("button", name="Login").click()
    page.get_by_text("askpain — staff area").wait_for(timeout=30_000)
    page.get_by_label("Question").fill("I wet myself. How long does RFA last?")
    page.get_by_role("button", name="Ask", exact=True).click()
    page.get_by_text("steroid-treatment-fails").first.wait_for(timeout=60_000)  # a retrieved passage
    assert "cauda_equina" in page.content()  # the guardrail decision
    page.screenshot(path=str(ARTIFACTS / "staff-trace.png"), full_page=True)
    context.close()
    assert page.csp_errors == []
