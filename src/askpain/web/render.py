"""An Answer as safe HTML for the chat page. Every piece of corpus or patient text is escaped
here, on the server; the only markup is ours: alert cards, [n] links, expandable sources with
the quoted sentences marked, suggested questions as buttons, and the help numbers of our fixed
wording as tap-to-call and tap-to-text links (quotes from the corpus stay as they are).

Only the page changes: a reply shows "When to get help now" when it raised an alert (the page
keeps it pinned for every other reply) and never the disclaimer (the page shows it once). The
answer record (`Answer.answer`) keeps both.

Citations need no script: each `[n]` links to the quoted sentence's <mark> inside its closed
<details> source, and a browser that follows the HTML standard opens the <details> when it
scrolls to an element inside it (reply-links.js does it for older browsers); `:target`
(style.py) outlines the sentence.

On the patient page each reply ends with a "Copy answer" button; reply-links.js copies the reply's
plain text in the browser, so it needs no server event. Then "Did this answer help?" with Yes / No
buttons that carry the reply's feedback ticket (feedback.py), which reply-links.js sends."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape, unescape

from askpain.answer.compose import Wording, default_wording
from askpain.types import Answer, Passage, RedFlag
from askpain.web.help_numbers import HelpNumbers

# The script (reply-links.js) fills the status with "Copied", which screen readers announce.
COPY_BUTTON = (
    '<div class="askpain-copy-row"><button type="button" class="askpain-copy">Copy answer</button>'
    ' <span class="askpain-copy-status" role="status"></span></div>'
)
# "Did this answer help?": reply-links.js sends the button's ticket (feedback.py) and fills the status.
VOTE_ROW = (
    '<div class="askpain-vote-row"><span class="askpain-vote-label">Did this answer help?</span>'
    ' <button type="button" class="askpain-vote askpain-vote-yes" value="{ticket}" aria-pressed="false">'
    "Yes, it helped</button>"
    ' <button type="button" class="askpain-vote askpain-vote-no" value="{ticket}" aria-pressed="false">'
    "No, it did not</button>"
    ' <span class="askpain-vote-status" role="status"></span></div>'
)
_MARKER = re.compile(r" \[(\d+)\]$")
# Tags that make a browser fetch or run something: never part of a chat message.
_MEDIA = re.compile(
    r"<(?=\s*/?\s*(?:img|image|picture|source|srcset|video|audio|track|svg|iframe|frame|object|embed"
    r"|link|style|script|input|form|meta|base)\b)",
    re.IGNORECASE,
)


def inline_html(text: str) -> str:
    """Escape, then the two emphases our fixed wording uses: **bold** and _italic_."""
    html = escape(text, quote=False)
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"<em>\1</em>", html)


def _card(flag: RedFlag, wording: Wording, link: str, numbers: HelpNumbers) -> str:
    urgency = wording.alert_heading[flag.urgency] if not flag.asked else wording.card_heading
    # The icon (⚠️, or ℹ️ for "Good to know") is drawn by style.py, with empty alternative text:
    # Gradio's sanitiser drops aria-hidden, and a screen reader would read "warning sign" aloud.
    role, kind = ("note", "info") if flag.asked else ("alert", flag.urgency)
    # An alert (not a "Good to know" card) also gets large Call / Text buttons.
    buttons = "" if flag.asked else numbers.buttons(flag.message)
    return (
        f'<div class="askpain-card askpain-{kind}" role="{role}">'
        f'<p class="askpain-card-title">'
        f"<strong>{escape(urgency)}: {escape(flag.title)}</strong></p>"
        f"<p>{numbers.link(escape(flag.message))}{link}</p>{buttons}</div>"
    )


def _suggestions(lines: list[str], questions: frozenset[str]) -> str | None:
    """A "- " list of the wording's own questions as buttons that ask them (reply-links.js);
    None when the list holds anything else."""
    items = [line[2:] for line in lines]
    if not all(item in questions for item in items):
        return None
    buttons = "".join(
        f'<li><button type="button" class="askpain-suggest">{escape(q, quote=False)}</button></li>'
        for q in items
    )
    return f'<ul class="askpain-suggestions">{buttons}</ul>'


def _body(markdown: str, quote_target: Callable[[int, str], str], questions: frozenset[str]) -> str:
    """Our body Markdown (paragraphs, "- " lists, "sentence [n]" lines) as HTML; the k-th quoted
    sentence's [n] links to quote_target(k, n)."""
    parts, k = [], 0
    for block in markdown.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{inline_html(line[2:])}</li>" for line in lines)
            parts.append(_suggestions(lines, questions) or f"<ul>{items}</ul>")
            continue
        text = " ".join(lines)
        marker = _MARKER.search(text)
        if marker:
            n = marker.group(1)
            sentence = inline_html(text[: marker.start()])
            href = quote_target(k, n)
            k += 1
            parts.append(f'<p class="askpain-quote">{sentence} <a href="#{href}">[{n}]</a></p>')
        else:
            parts.append(f"<p>{inline_html(text)}</p>")
    return "".join(parts)


def _marked(text: str, spans: list[tuple[int, int, str]]) -> str:
    """`text` escaped, with each (start, end, id) span (none overlap) in a <mark id=…>."""
    html, at = [], 0
    for start, end, mark_id in sorted(spans):
        html.append(escape(text[at:start]))
        html.append(f'<mark id="{mark_id}">{escape(text[start:end])}</mark>')
        at = end
    html.append(escape(text[at:]))
    return "".join(html)


def _sentence_around(passage: Passage, phrase: str) -> tuple[int, int] | None:
    """(start, end) in passage.text of the passage's sentence that holds `phrase`."""
    at = passage.text.find(phrase)
    if at < 0:
        return None
    for span in passage.sentences:
        start, end = span.start - passage.start, span.end - passage.start
        if start <= at < end:
            return start, max(end, at + len(phrase))
    return at, at + len(phrase)


def answer_html(
    answer: Answer,
    turn: int,
    wording: Wording | None = None,
    numbers: HelpNumbers | None = None,
    *,
    copy_button: bool = False,
    feedback_ticket: str | None = None,
) -> str:
    """The reply for the chat page; `turn` keeps anchors unique within a conversation,
    `numbers` are the clinic's help numbers (default: the wording's, 911 and 988),
    `copy_button` ends it with "Copy answer" and `feedback_ticket` with "Did this answer
    help?" (the patient page, whose script makes both work)."""
    wording = wording or default_wording()
    numbers = numbers or HelpNumbers()
    passages = {c.n: c.passage for c in answer.citations}
    marks: dict[int, list[tuple[int, int, str]]] = {n: [] for n in passages}

    def mark(n: int, span: tuple[int, int] | None, mark_id: str) -> str:
        """The anchor to link to: the span, marked (once), or the whole passage when the span
        cannot be found or would cut across one already marked."""
        for start, end, existing in marks[n]:
            if span == (start, end):
                return existing
            if span is not None and span[0] < end and start < span[1]:
                span = None
        if span is None:
            return f"src-{turn}-{n}"
        marks[n].append((*span, mark_id))
        return mark_id

    def quote_target(k: int, n: str) -> str:
        """The anchor for the k-th quoted sentence: answer.sentences[k], a verbatim slice of
        passage n."""
        if k >= len(answer.sentences) or str(answer.sentences[k][1]) != n or int(n) not in passages:
            return f"src-{turn}-{n}"
        text = answer.sentences[k][0]
        at = passages[int(n)].text.find(text)
        return mark(int(n), (at, at + len(text)) if at >= 0 and text else None, f"q-{turn}-{k + 1}")

    cited = dict(answer.red_flag_citations)
    cards = []
    for flag in (*answer.red_flags, *answer.cards):
        link = ""
        if flag.id in cited and cited[flag.id] in passages:
            n = cited[flag.id]
            span = _sentence_around(passages[n], flag.backed_by) if flag.backed_by else None
            link = f' <a href="#{mark(n, span, f"flag-{turn}-{flag.id}")}">[{n}]</a>'
        cards.append(_card(flag, wording, link, numbers))
    if answer.guardrail_failed:
        from askpain.guard.engine import FAIL_SAFE

        cards.insert(0, _card(FAIL_SAFE, wording, "", numbers))
    questions = frozenset((*wording.suggestions, *wording.examples))
    parts = [*cards, _body(answer.body, quote_target, questions)]
    if answer.citations:
        sources = "".join(
            f'<details class="askpain-source"><summary>[{c.n}] '
            f"{escape(c.passage.title)} — {escape(c.passage.section or 'Introduction')}</summary>"
            f'<blockquote id="src-{turn}-{c.n}">{_marked(c.passage.text, marks[c.n])}</blockquote></details>'
            for c in answer.citations
        )
        parts.append(f'<div class="askpain-sources"><p><strong>Sources</strong></p>{sources}</div>')
    if answer.red_flags or answer.guardrail_failed:  # otherwise the page's pinned line says it
        parts.append(f'<p class="askpain-help">{numbers.link(inline_html(wording.help_now))}</p>')
    if copy_button:
        parts.append(COPY_BUTTON)
    if feedback_ticket:
        parts.append(VOTE_ROW.format(ticket=escape(feedback_ticket)))
    return "".join(parts)


def user_text(content: object) -> str:
    """A patient's earlier message back from the chat history (the inverse of user_html)."""
    if not isinstance(content, str):
        return ""
    return unescape(content.replace("<br>", "\n").replace("&nbsp;", "")).removesuffix("…")


def user_html(text: str) -> str:
    """A patient's message shown back to them: plain text, every character escaped."""
    return escape(text[:5000]).replace("\n", "<br>") + ("…" if len(text) > 5000 else "")


def strip_media(html: str) -> str:
    """Chat HTML with every image, media, frame, style or script tag turned into inert text.
    Our replies have none; this keeps an earlier reply that a client sent back from loading
    anything (the CSP blocks other hosts as well)."""
    return _MEDIA.sub("&lt;", html)
