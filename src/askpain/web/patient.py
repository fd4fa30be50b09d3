"""The patient chat page (Gradio).

One server event exists: `/chat`. Enter, the Send button and the example buttons all trigger
it (the example buttons are told apart by the event's target); "New conversation" is a plain
link that reloads the page, and the scroll to each new reply is a static script file. So there
is nothing else to call anonymously, and no inline or evaluated JavaScript (see the CSP in
server.py).
"""

from __future__ import annotations

import logging

import gradio as gr

from askpain.answer.compose import default_wording
from askpain.guard.message import safe_text
from askpain.web.help_numbers import HelpNumbers
from askpain.web.render import answer_html, strip_media, user_html, user_text
from askpain.web.service import Service

log = logging.getLogger(__name__)

INTRO = """# askpain
**Questions after a steroid, cortisone or epidural injection that did not relieve your pain.**
askpain answers from your clinic's own documents and shows where each answer comes from.

It is education, not medical advice, and it does not know your health history.
**In an emergency, call 911 (or your local emergency number) now.**"""

SORRY = (
    "<p>Sorry, something went wrong on our side and I could not answer. Please try again, or call "
    "your clinic. If you have new bladder or bowel trouble, numbness between your legs, or weakness "
    "that is getting worse, call 911 or go to the emergency department now.</p>"
)

# Served by server.py as a file and loaded through the page's <head>: a script file, not an
# inline or `js=` script, so the page needs neither 'unsafe-inline' nor 'unsafe-eval'.
SHOW_LATEST_PATH = "/askpain-static/show-latest.js"
SHOW_LATEST_JS = """// askpain: scroll to the start of each new reply, so its alert card is what shows first.
(() => {
  let seen = 0;
  const check = () => {
    const replies = document.querySelectorAll('#askpain-chat .bot-row');
    if (replies.length > seen) {
      replies[replies.length - 1].scrollIntoView({block: 'start', behavior: 'instant'});
    }
    seen = replies.length;
  };
  new MutationObserver(check).observe(document.documentElement, {childList: true, subtree: true});
})();
"""
HEAD = f'<script src="{SHOW_LATEST_PATH}"></script>'

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


def respond(service: Service, message: object, history: object) -> tuple[list[dict], str]:
    """One chat turn: the patient's message (escaped) and askpain's reply (safe HTML)."""
    # Before anything else: text that can always be serialised (a lone surrogate would fail
    # the JSON encoder after the answer, alert and all, was built).
    message = safe_text(message) if isinstance(message, str) else ""
    earlier = chat_messages(history)
    turn = len(earlier) // 2 + 1
    asked = [user_text(text) for role, text in earlier if role == "user"]
    numbers = HelpNumbers.from_settings(service.settings)
    try:
        reply = answer_html(service.ask(message, asked), turn, numbers=numbers)
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


def build_patient_page(service: Service) -> gr.Blocks:
    wording = default_wording()
    numbers = HelpNumbers.from_settings(service.settings)
    with gr.Blocks(title="askpain — after your injection", delete_cache=(3600, 3600)) as page:
        gr.Markdown(numbers.link_markdown(INTRO))
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
            height="65vh",
            # No jump to the bottom: SHOW_LATEST_JS scrolls to the start of the new reply, so
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
        with gr.Row():
            send = gr.Button("Send", variant="primary", elem_id="askpain-send")
            # A link that reloads the page: a new, empty conversation with no server event.
            gr.Button("New conversation", elem_id="askpain-new", link="./")
        gr.Markdown("**Example questions**")
        with gr.Row():
            examples = [
                gr.Button(q, size="sm", elem_classes="askpain-example")
                for q in (*wording.examples, "What is a diagnostic nerve block?")
            ]
        questions = {button._id: button.value for button in examples}

        def chat(message: str, history: list[dict], event: gr.EventData):
            # An example button asks its own question; Enter and Send ask what is in the box.
            # A client can only pick among these fixed questions by naming a button.
            question = questions.get(getattr(event.target, "_id", None), message)
            return respond(service, question, history)

        gr.on(
            [box.submit, send.click, *(button.click for button in examples)],
            chat,
            [box, chatbot],
            [chatbot, box],
            api_name="chat",
        )
    return page
