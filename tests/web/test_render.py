"""A reply as the chat page shows it (render.py): "When to get help now" only with an alert and
no disclaimer (the page shows both once) while the answer record keeps them; the wording's
suggested questions as buttons; each quoted sentence marked in its source and linked from its
[n]. (The same in Chromium: test_patient_conversation.py.)"""

from __future__ import annotations

import re
from html import escape, unescape

from askpain.answer.compose import default_wording
from askpain.types import Answer
from askpain.web.render import answer_html
from tests.web.test_patient_page import EMERGENCY

WORDING = default_wording()
SUGGESTION = re.compile(r'<button type="button" class="askpain-suggest">(.*?)</button>')


def test_page_reply_drops_help_now_and_disclaimer_but_the_record_keeps_them(askpain):
    answer = askpain.ask("What is radiofrequency ablation?")
    record = answer.to_record()["answer"]
    assert WORDING.help_now in record and WORDING.disclaimer in record
    html = answer_html(answer, 1)
    assert "When to get help now" not in html and "not medical advice" not in html
    alert = askpain.ask(EMERGENCY)
    assert WORDING.help_now in alert.answer and WORDING.disclaimer in alert.answer
    html = answer_html(alert, 1)
    assert "When to get help now" in html and "not medical advice" not in html


def test_suggested_questions_are_buttons_and_other_lists_stay_lists(askpain):
    html = answer_html(askpain.ask("what is the best pizza?"), 1)
    assert SUGGESTION.findall(html) == [escape(q, quote=False) for q in WORDING.examples]
    other = Answer(question="q", status="answered", answer="", citations=(), red_flags=(),
                   body="Try:\n\n- rest\n- <b>ice</b>")  # fmt: skip
    html = answer_html(other, 1)
    assert "<ul><li>rest</li><li>&lt;b&gt;ice&lt;/b&gt;</li></ul>" in html and "<button" not in html


def test_each_quoted_sentence_is_marked_in_its_source_and_linked(askpain):
    answer = askpain.ask("What is radiofrequency ablation?")
    html = answer_html(answer, 2)
    assert len(answer.sentences) >= 2
    for k, (sentence, n) in enumerate(answer.sentences, start=1):
        assert f'{escape(sentence, quote=False)} <a href="#q-2-{k}">[{n}]</a>' in html
        assert f'<mark id="q-2-{k}">{escape(sentence)}</mark>' in html
    for c in answer.citations:  # the passage is otherwise word for word
        block = re.search(rf'<blockquote id="src-2-{c.n}">(.*?)</blockquote>', html).group(1)
        assert unescape(re.sub(r"</?mark[^>]*>", "", block)) == c.passage.text


def test_an_alerts_citation_leads_to_the_sentence_that_backs_it(askpain):
    answer = askpain.ask(EMERGENCY)
    flag = answer.red_flags[0]
    assert flag.id in dict(answer.red_flag_citations)
    html = answer_html(answer, 1)
    card = html.split("</div>")[0]
    target = re.search(r'<a href="#([^"]+)">\[\d+\]</a>', card).group(1)
    assert target == f"flag-1-{flag.id}"
    assert flag.backed_by in unescape(re.search(rf'<mark id="{target}">(.*?)</mark>', html).group(1))
