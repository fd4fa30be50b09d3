"""The patient chat page (Gradio).

One server event exists: `/chat`. Enter, the Send button, the example buttons and the suggested
questions in replies all trigger it (the example buttons are told apart by the event's target; a
suggestion goes through the text box and Send, scripts.py); "New conversation" is a plain link
that reloads the page. So there is nothing else to call anonymously, and no inline or evaluated
JavaScript (see the CSP in server.py).

The first screen holds what askpain helps with, the text box and Send, on a phone as on a
desktop. "When to get help now" is pinned to the top of the screen, one line until opened, and
the disclaimer is shown once, under the text box: replies no longer repeat them (render.py).
The longer intro gives way to a closed "About askpain" once the conversation has a message
(style.py, with CSS alone).

Each reply asks "Did this answer help?"; a vote goes to POST /askpain-feedback (server.py), a
plain route outside Gradio that only counts (feedback.py): no text, nothing on disk.

"Print or save for my care team" prints the whole conversation: every turn with its alerts and
its sources opened, who said what, and none of the page's controls (style.py's print CSS;
reply-links.js opens the sources for the browser's own Print command too).
"""

from __future__ import annotations

import logging
from html import escape

import gradio as gr

from askpain.answer.compose import Wording, default_wording
from askpain.guard.message import safe_text
from askpain.web.feedback import Feedback
from askpain.web.help_numbers import HelpNumbers
from askpain.web.render import answer_html, inline_html, strip_media, user_html, user_text
from askpain.web.service import Service

log = logging.getLogger(__name__)

LEAD = "# askpain\n**A steroid, cortisone or epidural shot did not help your pain? Ask your questions here.**"
INTRO = (
    "<p>askpain answers from your clinic's own documents, quoted word for word. Tap or click a "
    "number such as [1] to read the passage it comes from. It can tell you why a shot may not have worked, "
    "what else you can try, which tests you may need and when surgery is an option.</p>"
    "<p><strong>In an emergency, call 911 (or your local emergency number) now.</strong></p>"
)

# At the top of a printed conversation (hidden on screen).
PRINT_HEADING = (
    "**My questions to askpain, for my care team.** askpain quotes the clinic's own papers. "
    "A number such as [1] shows which source, listed under each answer, the words come from."
)

SORRY = (
    "<p>Sorry, something went wrong on our side. I could not answer. Please try again, or call "
    "your clinic. If you have new bladder or bowel trouble, numbness between your legs, or weakness "
    "that is getting worse, call 911 or go to the emergency department now.</p>"
)


def help_now_html(wording: Wording, numbers: HelpNumbers) -> str:
    """The wording's "When to get help now" as a one-line disclosure: its bold heading is the
    summary, the rest opens below it."""
    heading, sep, rest = wording.help_now.removeprefix("**").partition(":** ")
    if not sep:  # no bold heading in the wording: the whole text opens below ours
        heading, rest = "When to get help now", wording.help_now
    return (
        f'<details class="askpain-helpnow"><summary>'
        f"<strong>{escape(heading)}</strong></summary>"
        f"<p>{numbers.link(inline_html(rest))}</p></details>"
    )


MAX_HISTORY_MESSAGES = 200  # earlier messages read back from a conversation; older ones are dropped


def _text_of(content: object) -> str | None:
    """The text of a message's content in any shape Gradio or a client sends: a string, a
    {"type": "text", "text": ...} part, or a list of parts. None for anything else (files,
    components), which the chat page never has."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        text = content.get("text")
        return text if content.get("type", "text") == "text" and isinstance(text, str) else None
    if isinstance(content, list):
        parts = [p for p in (_text_of(c) for c in content if not isinstance(c, list)) if p is not None]
        return "".join(parts) if parts else None
    return None


def chat_messages(history: object) -> list[tuple[str, str]]:
    """(role, text) of each text message of a chat history; anything else is dropped and every
    text made safe to serialise (no lone surrogates)."""
    if not isinstance(history, list):
        return []
    messages = []
    for m in history[-MAX_HISTORY_MESSAGES:]:
        if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            text = _text_of(m.get("content"))
            if text is not None:
                messages.append((m["role"], safe_text(text)))
    return messages


def clean_chat_inputs(data: object) -> list:
    """The /chat inputs [message, history] in the one shape Gradio accepts without complaint: a
    string and text-only messages. The server applies this to every /chat request before Gradio
    reads it, so nothing malformed reaches Gradio's validation, whose errors quote the input."""
    data = data if isinstance(data, list) else []
    message = data[0] if data and isinstance(data[0], str) else ""
    history = data[1] if len(data) > 1 else []
    return [
        safe_text(message),
        [{"role": r, "content": [{"type": "text", "text": t}]} for r, t in chat_messages(history)],
    ]


def respond(
    service: Service, message: object, history: object, feedback: Feedback | None = None
) -> tuple[list[dict], str]:
    """One chat turn: the patient's message (escaped) and askpain's reply (safe HTML), with
    "Did this answer help?" when `feedback` counts the votes."""
    # Before anything else: text that can always be serialised (a lone surrogate would fail
    # the JSON encoder after the answer, alert and all, was built).
    message = safe_text(message) if isinstance(message, str) else ""
    earlier = chat_messages(history)
    turn = len(earlier) // 2 + 1
    asked = [user_text(text) for role, text in earlier if role == "user"]
    numbers = HelpNumbers.from_settings(service.settings)
    try:
        answer = service.ask(message, asked)
        ticket = feedback.ticket(answer) if feedback is not None else None
        reply = answer_html(answer, turn, numbers=numbers, copy_button=True, feedback_ticket=ticket)
    except Exception:  # a patient sees a plain message, never a traceback
        log.exception("answering failed")
        reply = numbers.link(SORRY)
    shown = [
        {
            "role": role,
            "content": (user_html(user_text(text)) or "&nbsp;") if role == "user" else strip_media(text),
        }
        for role, text in earlier
    ]
    shown.append({"role": "user", "content": user_html(message) or "&nbsp;"})
    shown.append({"role": "assistant", "content": reply})
    return shown, ""


def build_patient_page(service: Service, feedback: Feedback | None = None) -> gr.Blocks:
    wording = default_wording()
    numbers = HelpNumbers.from_settings(service.settings)
    intro = numbers.link(INTRO)
    with gr.Blocks(title="askpain — after your injection", delete_cache=(3600, 3600)) as page:
        gr.Markdown(PRINT_HEADING, elem_id="askpain-print-heading")  # on paper only
        gr.Markdown(help_now_html(wording, numbers), elem_id="askpain-helpnow")
        gr.Markdown(LEAD, elem_id="askpain-lead")
        # Two copies of the intro: open on the empty page, closed once there is a conversation.
        gr.Markdown(intro, elem_id="askpain-intro")
        gr.Markdown(f"<details><summary>About askpain</summary>{intro}</details>", elem_id="askpain-about")
        chatbot = gr.Chatbot(
            label="Conversation",
            elem_id="askpain-chat",
            sanitize_html=True,
            allow_tags=False,
            # No Markdown: a patient's "![x](http://…)" stays text, so the browser fetches
            # nothing. Replies are HTML built (and escaped) by render.py, not Markdown.
            render_markdown=False,
            latex_delimiters=[],
            feedback_options=None,
            buttons=[],
            # As tall as the conversation, up to 65% of the screen: an empty chat leaves room
            # for the text box and Send on the first screen of a phone.
            height=None,
            max_height="65vh",
            min_height=120,
            # No jump to the bottom: show-latest.js (scripts.py) scrolls to the start of the new reply, so
            # its alert card, which comes first, is what the patient sees.
            autoscroll=False,
            placeholder="Ask a question below, or pick an example.",
        )
        box = gr.Textbox(
            label="Your question",
            placeholder="For example: Why didn't my epidural work?",
            lines=1,
            max_lines=6,
            elem_id="askpain-question",
        )
        with gr.Row(elem_id="askpain-buttons"):
            send = gr.Button("Send", variant="primary", elem_id="askpain-send")
            # A link that reloads the page: a new, empty conversation with no server event.
            gr.Button("New conversation", elem_id="askpain-new", link="./")
            # No server event either: reply-links.js opens the browser's print dialog, where
            # "Save as PDF" is one of the printers. Shown once there is a conversation (style.py).
            gr.Button("Print or save for my care team", elem_id="askpain-print")
        gr.Markdown(f"<p>{inline_html(wording.disclaimer)}</p>", elem_id="askpain-disclaimer")
        gr.Markdown("**Example questions**", elem_id="askpain-examples-title")
        with gr.Row(elem_id="askpain-examples"):
            examples = [
                gr.Button(q, size="sm", elem_classes="askpain-example")
                for q in (*wording.examples, "What is a diagnostic nerve block?")
            ]
        questions = {button._id: button.value for button in examples}

        def chat(message: str, history: list[dict], event: gr.EventData):
            # An example button asks its own question; Enter and Send ask what is in the box.
            # A client can only pick among these fixed questions by naming a button.
            question = questions.get(getattr(event.target, "_id", None), message)
            return respond(service, question, history, feedback)

        gr.on(
            [box.submit, send.click, *(button.click for button in examples)],
            chat,
            [box, chatbot],
            [chatbot, box],
            api_name="chat",
        )
    return page
