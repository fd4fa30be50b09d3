"""The patient chat page (Gradio). Only the chat endpoint is public."""

from __future__ import annotations

import logging

import gradio as gr

from askpain.answer.compose import default_wording
from askpain.web.render import answer_html, user_html
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

SHOW_LATEST = """() => {
  const replies = document.querySelectorAll('#askpain-chat .bot-row');
  const last = replies[replies.length - 1];
  if (last) { last.scrollIntoView({block: 'start', behavior: 'instant'}); }
}"""

CSS = """
.askpain-card {border: 3px solid #b71c1c; background: #fff4f4; color: #1a1a1a; border-radius: 8px;
  padding: .6rem .8rem; margin: 0 0 .8rem 0}
.askpain-card.askpain-urgent {border-color: #e65100; background: #fff8ef}
.askpain-card.askpain-info {border: 2px solid #1565c0; background: #f3f8ff}
.askpain-card-title {font-size: 1.05rem; margin: 0 0 .3rem 0}
.askpain-quote {margin: .4rem 0}
.askpain-source summary {cursor: pointer}
.askpain-source blockquote {border-left: 4px solid #999; margin: .3rem 0 .6rem 0; padding-left: .6rem}
.askpain-help, .askpain-disclaimer {font-size: .92rem}
"""


def respond(service: Service, message: str, history: list[dict] | None) -> tuple[list[dict], str]:
    """One chat turn: the patient's message (escaped) and askpain's reply (safe HTML)."""
    history = list(history or [])
    message = message if isinstance(message, str) else ""
    turn = len(history) // 2 + 1
    try:
        reply = answer_html(service.ask(message), turn)
    except Exception:  # a patient sees a plain message, never a traceback
        log.exception("answering failed")
        reply = SORRY
    history.append({"role": "user", "content": user_html(message) or "&nbsp;"})
    history.append({"role": "assistant", "content": reply})
    return history, ""


def build_patient_page(service: Service) -> gr.Blocks:
    wording = default_wording()
    with gr.Blocks(title="askpain — after your injection") as page:
        gr.Markdown(INTRO)
        chatbot = gr.Chatbot(
            label="Conversation",
            elem_id="askpain-chat",
            sanitize_html=True,
            allow_tags=False,
            render_markdown=True,
            feedback_options=None,
            buttons=[],
            height="65vh",
            # No jump to the bottom: SHOW_LATEST scrolls to the start of the new reply, so
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
            new = gr.Button("New conversation", elem_id="askpain-new")
        gr.Markdown("**Example questions**")
        with gr.Row():
            examples = [
                gr.Button(q, size="sm") for q in (*wording.examples, "What is a diagnostic nerve block?")
            ]

        def chat(message: str, history: list[dict]):
            return respond(service, message, history)

        box.submit(chat, [box, chatbot], [chatbot, box], api_name="chat").then(None, js=SHOW_LATEST)
        send.click(chat, [box, chatbot], [chatbot, box], api_visibility="private").then(None, js=SHOW_LATEST)
        for button in examples:
            button.click(
                lambda history, q=button.value: respond(service, q, history),
                [chatbot],
                [chatbot, box],
                api_visibility="private",
            ).then(None, js=SHOW_LATEST)
        new.click(lambda: ([], ""), None, [chatbot, box], api_visibility="private")
    return page
