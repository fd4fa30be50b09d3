"""An Answer as safe HTML for the chat page. Every piece of corpus or patient text is escaped
here, on the server; the only markup is ours: alert cards, [n] links, expandable sources, and
the help numbers of our fixed wording as tap-to-call and tap-to-text links (quotes from the
corpus stay as they are)."""

from __future__ import annotations

import re
from html import escape, unescape

from askpain.answer.compose import Wording, default_wording
from askpain.types import Answer, RedFlag
from askpain.web.help_numbers import HelpNumbers

_MARKER = re.compile(r" \[(\d+)\]$")
# Tags that make a browser fetch or run something: never part of a chat message.
_MEDIA = re.compile(
    r"<(?=\s*/?\s*(?:img|image|picture|source|srcset|video|audio|track|svg|iframe|frame|object|embed"
    r"|link|style|script|input|form|meta|base)\b)",
    re.IGNORECASE,
)


def _inline(text: str) -> str:
    """Escape, then the two emphases our fixed wording uses: **bold** and _italic_."""
    html = escape(text, quote=False)
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"<em>\1</em>", html)


def _card(flag: RedFlag, wording: Wording, turn: int, cited: dict[str, int], numbers: HelpNumbers) -> str:
    urgency = wording.alert_heading[flag.urgency] if not flag.asked else wording.card_heading
    icon, role, kind = ("ℹ️", "note", "info") if flag.asked else ("⚠️", "alert", flag.urgency)
    link = f' <a href="#src-{turn}-{cited[flag.id]}">[{cited[flag.id]}]</a>' if flag.id in cited else ""
    # An alert (not a "Good to know" card) also gets large Call / Text buttons.
    buttons = "" if flag.asked else numbers.buttons(flag.message)
    return (
        f'<div class="askpain-card askpain-{kind}" role="{role}">'
        f'<p class="askpain-card-title"><span aria-hidden="true">{icon}</span> '
        f"<strong>{escape(urgency)}: {escape(flag.title)}</strong></p>"
        f"<p>{numbers.link(escape(flag.message))}{link}</p>{buttons}</div>"
    )


def _body(markdown: str, turn: int) -> str:
    """Our body Markdown (paragraphs, "- " lists, "sentence [n]" lines) as HTML."""
    parts = []
    for block in markdown.split("\n\n"):
        lines = block.split("\n")
        if all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            parts.append(f"<ul>{items}</ul>")
            continue
        text = " ".join(lines)
        marker = _MARKER.search(text)
        if marker:
            n = marker.group(1)
            sentence = _inline(text[: marker.start()])
            parts.append(f'<p class="askpain-quote">{sentence} <a href="#src-{turn}-{n}">[{n}]</a></p>')
        else:
            parts.append(f"<p>{_inline(text)}</p>")
    return "".join(parts)


def answer_html(
    answer: Answer, turn: int, wording: Wording | None = None, numbers: HelpNumbers | None = None
) -> str:
    """The reply for the chat page; `turn` keeps source anchors unique within a conversation,
    `numbers` are the clinic's help numbers (default: the wording's, 911 and 988)."""
    wording = wording or default_wording()
    numbers = numbers or HelpNumbers()
    cited = dict(answer.red_flag_citations)
    parts = [_card(f, wording, turn, cited, numbers) for f in (*answer.red_flags, *answer.cards)]
    if answer.guardrail_failed:
        from askpain.guard.engine import FAIL_SAFE

        parts.insert(0, _card(FAIL_SAFE, wording, turn, {}, numbers))
    parts.append(_body(answer.body, turn))
    if answer.citations:
        sources = "".join(
            f'<details id="src-{turn}-{c.n}" class="askpain-source"><summary>[{c.n}] '
            f"{escape(c.passage.title)} — {escape(c.passage.section or 'Introduction')}</summary>"
            f"<blockquote>{escape(c.passage.text)}</blockquote></details>"
            for c in answer.citations
        )
        parts.append(f'<div class="askpain-sources"><p><strong>Sources</strong></p>{sources}</div>')
    parts.append(f'<p class="askpain-help">{numbers.link(_inline(wording.help_now))}</p>')
    parts.append(f'<p class="askpain-disclaimer">{_inline(wording.disclaimer)}</p>')
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
