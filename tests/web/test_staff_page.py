"""The staff area in Chromium, against `python app.py` (over a private copy of the index): page
titles on the login screen and behind it, the index status in plain words, a rebuild that asks
first, and primary buttons whose text is readable (≥ 4.5:1) in light and dark mode."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from askpain.web.server import page_csp
from tests.web.helpers import staff_page, watch
from tests.web.test_patient_page import colours, text_contrast

INDEX = "#askpain-staff-index"


def test_login_page_has_a_title_and_its_csp_still_fits(browser, server):
    with urllib.request.urlopen(server + "staff/", timeout=30) as response:
        html, csp = response.read(), response.headers["content-security-policy"]
    assert "<title>askpain — staff sign-in</title>" in html.decode()
    assert csp == page_csp(html)  # the inline scripts of the page as sent, title included
    context = browser.new_context()
    page = context.new_page()
    watch(page)
    page.goto(server + "staff/")
    page.get_by_label("password").wait_for()
    assert page.title() == "askpain — staff sign-in"
    context.close()
    assert page.csp_errors == []


def test_staff_page_has_its_own_title(browser, server):
    with staff_page(browser, server) as page:
        expect(page).to_have_title("askpain — staff")
        # Sent in the page itself once logged in, before any script runs.
        html = page.context.request.get(server + "staff/").text()
        assert "<title>askpain — staff</title>" in html and "sign-in" not in html


def _index_tab(page):
    page.get_by_role("tab", name="Index").click()
    status = page.locator(INDEX)
    expect(status).to_contain_text("State:", timeout=30_000)
    return status


def _built_at(status) -> str:
    return re.search(r"Built at: (\S+)", status.inner_text()).group(1)


def test_index_status_is_readable(browser, server):
    with staff_page(browser, server) as page:
        status = _index_tab(page)
        text = status.inner_text()
        assert text.startswith("State: Up to date.") and "What to do:" in text
        assert status.get_by_role("heading", name="State: Up to date.").is_visible()
        for label in ("Passages:", "Sentences:", "Model:", "Built at:", "Files not read as UTF-8:"):
            assert label in text
        assert "Index folder:" in text and "Watched for changes: every" in text and "Last check:" in text
        assert status.get_by_role("listitem").filter(has_text="steroid-treatment-fails").count() == 1
        assert "{" not in text and '"' not in text  # no JSON
        assert page.locator(".json-holder, .cm-editor").count() == 0


def test_rebuild_asks_first_and_cancel_does_not_rebuild(browser, served):
    with staff_page(browser, served.url) as page:
        status = _index_tab(page)
        before, built = served.output().count("action=index_rebuild"), _built_at(status)
        yes = page.get_by_role("button", name="Yes, rebuild now")
        assert not yes.is_visible()
        page.get_by_role("button", name="Rebuild index…").click()
        confirm = page.locator("#askpain-staff-confirm")
        expect(confirm).to_contain_text(
            "Rebuild the index from the documents now? The chat keeps using the current index until "
            "the new one is ready."
        )
        page.get_by_role("button", name="Cancel").click()
        expect(yes).to_be_hidden()
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(1000)
        assert served.output().count("action=index_rebuild") == before  # nothing was rebuilt
        assert _built_at(status) == built


def test_rebuild_yes_rebuilds_and_shows_the_new_status(browser, served):
    with staff_page(browser, served.url) as page:
        status = _index_tab(page)
        built, done = _built_at(status), served.output().count("outcome=done")
        page.get_by_role("button", name="Rebuild index…").click()
        page.get_by_role("button", name="Yes, rebuild now").click()
        expect(page.get_by_role("button", name="Yes, rebuild now")).to_be_hidden()
        expect(status).to_contain_text("Rebuild finished at", timeout=300_000)
        text = status.inner_text()
        assert text.startswith("State: Up to date.") and f"Built at: {built}" in text
        # The same documents build the same index: the chat keeps it, and staff are told so.
        assert "The documents had not changed: the chat keeps the same index." in text
        assert served.output().count("outcome=done") == done + 1  # one rebuild, in the audit log


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_primary_buttons_are_readable(browser, server, scheme):
    with staff_page(browser, server, color_scheme=scheme) as page:
        measured = {}
        for tab in ("Ask and trace", "Question sets", "Index"):
            page.get_by_role("tab", name=tab).click()
            if tab == "Index":
                page.get_by_role("button", name="Rebuild index…").click()
                page.get_by_role("button", name="Yes, rebuild now").wait_for()
            for button in page.locator("button.primary, button.stop").filter(visible=True).all():
                measured[button.inner_text().strip()] = round(text_contrast(colours(button)), 2)
        assert {"Ask", "Run question set", "Rebuild index…", "Yes, rebuild now"} <= measured.keys()
        assert {name: ratio for name, ratio in measured.items() if ratio < 4.5} == {}, measured
        page.get_by_role("button", name="Cancel").click()
