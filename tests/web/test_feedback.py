"""Votes on answers ("Did this answer help?"): counted by answer status and cited document, from
tickets this server signed; no text anywhere; and the page's Yes / No buttons reach the count."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from askpain.web.feedback import Feedback
from askpain.web.render import answer_html
from tests.web.helpers import ask, open_page, post, staff_page

QUESTION = "How long does relief from RFA usually last?"


@pytest.fixture(scope="module")
def answer(askpain):
    return askpain.ask(QUESTION)


def test_a_vote_counts_under_the_answers_status_and_documents(answer):
    feedback = Feedback()
    assert feedback.vote(feedback.ticket(answer), helpful=True)
    assert feedback.vote(feedback.ticket(answer), helpful=False)
    summary = feedback.summary()
    assert (summary["helpful"], summary["not_helpful"]) == (1, 1)
    assert summary["by_status"] == {answer.status: {"helpful": 1, "not_helpful": 1}}
    documents = {c.passage.doc_id for c in answer.citations}
    assert documents and set(summary["by_document"]) == documents


def test_a_second_vote_on_the_same_answer_is_a_change_of_mind(answer):
    feedback = Feedback()
    ticket = feedback.ticket(answer)
    assert feedback.vote(ticket, helpful=True) and feedback.vote(ticket, helpful=False)
    assert (feedback.summary()["helpful"], feedback.summary()["not_helpful"]) == (0, 1)


@pytest.mark.parametrize(
    "forge",
    [
        lambda t, other: other,  # signed by another server (or before a restart)
        lambda t, other: t.replace(".answered.", ".no_answer."),  # status changed
        lambda t, other: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t, other: t + ".x",
        lambda t, other: "",
        lambda t, other: None,
        lambda t, other: ["a", "list"],
    ],
)
def test_a_forged_or_altered_ticket_counts_nothing(answer, forge):
    feedback = Feedback()
    ticket = forge(feedback.ticket(answer), Feedback().ticket(answer))
    assert not feedback.vote(ticket, helpful=True)
    assert feedback.summary()["helpful"] == 0


def test_the_ticket_holds_no_text_of_the_question_or_answer(answer):
    ticket = Feedback().ticket(answer)
    assert len(ticket) < 200
    for word in ("RFA", "relief", "last", *answer.body.split()[:20]):
        assert word not in ticket


def test_each_reply_asks_with_yes_and_no_buttons_carrying_its_ticket(answer):
    html = answer_html(answer, 1, feedback_ticket="abc.answered.x.sig")
    assert "Did this answer help?" in html
    assert html.count('value="abc.answered.x.sig"') == 2
    assert "Yes, it helped</button>" in html and "No, it did not</button>" in html
    assert "Did this answer help?" not in answer_html(answer, 1)  # the staff view and records: none


def test_the_feedback_route_takes_only_json_with_a_real_ticket(server):
    url = f"{server}askpain-feedback"
    assert post(url, {"ticket": "x" * 12 + ".answered..x", "helpful": True})[0] == 422
    assert post(url, {"ticket": None, "helpful": "yes"})[0] == 422
    assert post(url, b"[]")[0] == 422
    # Another site's form can send only text/plain or form data without asking first (CORS).
    assert post(url, b'{"ticket": "x", "helpful": true}', {"content-type": "text/plain"})[0] == 415
    assert post(url, b"x" * 5000)[0] == 413


def _votes(browser, server) -> tuple[int, int]:
    """(helpful, not helpful) as the staff area's "Answer feedback" tab shows them."""
    with staff_page(browser, server) as page:
        page.get_by_role("tab", name="Answer feedback").click()
        shown = page.locator("#askpain-staff-feedback")
        expect(shown).to_contain_text(re.compile("votes"), timeout=30_000)
        text = shown.inner_text()
    if text.startswith("No votes yet"):
        return 0, 0
    counts = re.search(r"votes since the server started: (\d+) helpful, (\d+) not helpful", text)
    assert counts, text
    return int(counts.group(1)), int(counts.group(2))


def test_a_patient_votes_and_staff_see_the_count(browser, server):
    before = _votes(browser, server)
    with open_page(browser, server) as page:
        ask(page, QUESTION)
        reply = page.locator("#askpain-chat .bot-row").last
        yes = reply.get_by_role("button", name="Yes, it helped")
        no = reply.get_by_role("button", name="No, it did not")
        assert yes.bounding_box()["height"] >= 44 and no.bounding_box()["height"] >= 44
        with page.expect_response("**/askpain-feedback") as sent:
            no.click()
        assert sent.value.status == 204
        assert "Thank you" in reply.get_by_role("status").last.inner_text()
        assert no.get_attribute("aria-pressed") == "true" and yes.get_attribute("aria-pressed") == "false"
        with page.expect_response("**/askpain-feedback"):
            yes.click()  # a change of mind
        assert yes.get_attribute("aria-pressed") == "true"
    assert _votes(browser, server) == (before[0] + 1, before[1])
