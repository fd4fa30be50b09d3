"""The chat page's CSS: alert cards readable in light, dark and forced-colors modes, large Call
and Text buttons, inputs that phones do not zoom into, and a focus ring that shows; "When to get
help now" pinned to the top of the screen, the intro that gives way once a conversation starts,
suggested questions and "Copy answer" as buttons, the quoted sentence marked in its source, and
a print view of the whole conversation for the patient's care team.

Delivered as Gradio's `css=` (server.py): Gradio adds it to the page at run time as a <style>
element, which the CSP's `style-src 'unsafe-inline'` already allows, so no hash changes. Gradio
copies each rule under `.gradio-container… .contain` (more specific than its own rules); a rule
for dark mode must have one selector, starting with `.dark`, for that copy to be right.

Light or dark: the page follows the device's setting (Gradio puts `.dark` on <body>), and every
colour here is chosen for both. We do not force a light page: many people in pain are sensitive
to light (migraine, a spinal headache after a shot) and a page that glares at night gets
closed. Each colour pair below is at least 4.5:1 for text and 3:1 for borders and the focus
ring (WCAG 2.2 AA); tests/web/test_patient_page.py measures them in the browser.

Forced colors (Windows High Contrast): the browser replaces every colour, so cards and buttons
keep a solid border (a box-shadow would vanish) and the focus ring is an outline.
"""

CSS = """
:root {--askpain-focus: #1d4ed8}
.dark {--askpain-focus: #93c5fd}

.askpain-card {--askpain-card-bg: #fff4f4; --askpain-card-text: #1a1a1a; --askpain-card-edge: #b71c1c;
  border: 3px solid var(--askpain-card-edge); background: var(--askpain-card-bg);
  color: var(--askpain-card-text); border-radius: 8px; padding: .6rem .8rem; margin: 0 0 .8rem 0}
.askpain-card.askpain-urgent {--askpain-card-bg: #fff8ef; --askpain-card-edge: #e65100}
.askpain-card.askpain-info {--askpain-card-bg: #f3f8ff; --askpain-card-edge: #1565c0; border-width: 2px}
.dark .askpain-card {--askpain-card-bg: #3b0d0d; --askpain-card-text: #fdecec; --askpain-card-edge: #f87171}
.dark .askpain-card.askpain-urgent {--askpain-card-bg: #3a1d06; --askpain-card-text: #fff1e0;
  --askpain-card-edge: #fb923c}
.dark .askpain-card.askpain-info {--askpain-card-bg: #0f2540; --askpain-card-text: #e8f1ff;
  --askpain-card-edge: #60a5fa}
.askpain-card p, .askpain-card strong, .askpain-card a:not(.askpain-call) {color: var(--askpain-card-text)}
.askpain-card-title {font-size: 1.05rem; margin: 0 0 .3rem 0}
/* Icons as CSS with empty alternative text ("/ ''"): seen, never read aloud (Gradio's sanitiser
   drops aria-hidden from reply HTML). Icon, heading and text: never colour alone. */
.askpain-card-title::before, .askpain-helpnow summary strong::before {content: "⚠️" / ""; margin-right: .35em}
.askpain-card.askpain-info .askpain-card-title::before {content: "ℹ️" / ""}
a.askpain-call.askpain-phone::before {content: "☎" / ""}
a.askpain-call.askpain-text::before {content: "✉" / ""}

.askpain-tel {color: inherit; font-weight: 700; text-decoration: underline}
.askpain-actions {display: flex; flex-wrap: wrap; gap: .5rem; margin: .6rem 0 .1rem 0}
.askpain-card a.askpain-call {display: inline-flex; align-items: center; gap: .4rem; min-height: 44px;
  padding: .4rem 1rem; border: 2px solid #7f1d1d; border-radius: 6px; background: #b71c1c;
  color: #ffffff; font-weight: 700; text-decoration: none}
.askpain-card a.askpain-call:hover {background: #8e1616}
.dark .askpain-card a.askpain-call {border-color: #fca5a5}

/* "When to get help now": pinned to the top of the screen, one line until it is opened. */
#askpain-helpnow {position: sticky; top: 0; z-index: 30}
/* Gradio's `overflow: hidden` here would make the container, which never scrolls, the one the
   line sticks to; `clip` cuts off the same overflow without being a scroll container. */
.gradio-container {overflow: clip !important}
.askpain-helpnow {--askpain-help-bg: #fff8ef; --askpain-help-text: #1a1a1a; --askpain-help-edge: #c2410c;
  border: 2px solid var(--askpain-help-edge); border-radius: 8px; background: var(--askpain-help-bg);
  color: var(--askpain-help-text); padding: 0 .8rem; max-height: 60vh; overflow-y: auto}
.dark .askpain-helpnow {--askpain-help-bg: #3a1d06; --askpain-help-text: #fff1e0;
  --askpain-help-edge: #fb923c}
.askpain-helpnow summary {cursor: pointer; padding: .55rem 0; color: var(--askpain-help-text)}
.askpain-helpnow p, .askpain-helpnow strong, .askpain-helpnow a {color: var(--askpain-help-text)}
.askpain-helpnow p {margin: 0 0 .6rem 0; font-size: 1rem}
/* Whatever the page scrolls to (a new reply, a cited sentence) lands below the pinned line. */
html {scroll-padding-top: 4.5rem}

/* The intro is open on the empty page and closed ("About askpain") once there is a message. */
#askpain-about {display: none}
.gradio-container:has(#askpain-chat :is(.user-row, .bot-row)) #askpain-intro {display: none}
.gradio-container:has(#askpain-chat :is(.user-row, .bot-row)) #askpain-about {display: block}
#askpain-about summary {cursor: pointer}
#askpain-lead h1 {margin: 0 0 .2rem 0}
/* The empty chat's hint, below the chat's "Conversation" label rather than over it. */
#askpain-chat .placeholder-content {padding-top: 2.2rem}
#askpain-disclaimer p {font-size: .92rem; margin: 0}

.askpain-quote {margin: .4rem 0}
.askpain-source summary {cursor: pointer}
.askpain-source blockquote {border-left: 4px solid #999; margin: .3rem 0 .6rem 0; padding-left: .6rem}
/* The sentence a reply quotes, marked in its passage; outlined when a [n] link leads to it. */
.askpain-source mark {background: #fde68a; color: #1a1a1a; padding: 0 .1em}
.dark .askpain-source mark {background: #5b4a0a; color: #fff7d6}
.askpain-source mark:target, .askpain-source blockquote:target {outline: 3px solid var(--askpain-focus);
  outline-offset: 2px}
.askpain-help {font-size: .92rem}

/* Suggested questions: buttons that ask them. */
.askpain-suggestions {list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-direction: column;
  gap: .4rem}
.askpain-suggestions li {margin: 0; padding: 0}
button.askpain-suggest {font-size: max(16px, 1rem); text-align: left; min-height: 44px; width: 100%;
  padding: .45rem .8rem; border: 2px solid #1d4ed8; border-radius: 8px; background: #eef4ff;
  color: #1e3a8a; cursor: pointer}
button.askpain-suggest:hover {background: #dbe7ff}
.dark button.askpain-suggest {border-color: #93c5fd; background: #10233f; color: #e8f1ff}

/* "Copy answer" under each reply: as large a target as the suggestions, quieter in colour. */
.askpain-copy-row {display: flex; align-items: center; flex-wrap: wrap; gap: .6rem; margin: .6rem 0 0 0}
button.askpain-copy {font-size: max(16px, 1rem); min-height: 44px; padding: .45rem .9rem;
  border: 2px solid #1d4ed8; border-radius: 8px; background: #ffffff; color: #1e3a8a; cursor: pointer}
button.askpain-copy:hover {background: #eef4ff}
.dark button.askpain-copy {border-color: #93c5fd; background: #0b1727; color: #e8f1ff}
.askpain-copy-status {font-size: max(16px, 1rem)}
/* "Did this answer help?" Yes / No: as large as "Copy answer"; the chosen one filled. */
.askpain-vote-row {display: flex; align-items: center; flex-wrap: wrap; gap: .6rem; margin: .6rem 0 0 0}
.askpain-vote-label, .askpain-vote-status {font-size: max(16px, 1rem)}
button.askpain-vote {font-size: max(16px, 1rem); min-height: 44px; padding: .45rem .9rem;
  border: 2px solid #1d4ed8; border-radius: 8px; background: #ffffff; color: #1e3a8a; cursor: pointer}
button.askpain-vote:hover {background: #eef4ff}
button.askpain-vote[aria-pressed="true"] {background: #1d4ed8; color: #ffffff}
.dark button.askpain-vote {border-color: #93c5fd; background: #0b1727; color: #e8f1ff}
.dark button.askpain-vote[aria-pressed="true"] {background: #93c5fd; color: #0b1727}

#askpain-question textarea {font-size: max(16px, 1rem)}
.askpain-example {font-size: max(16px, 1rem)}
#askpain-send {background: #c2410c; color: #ffffff}
/* Invisible in colour; drawn in forced colors, where a button would otherwise be bare text. */
#askpain-send, #askpain-new, .askpain-example {border: 2px solid transparent}
#askpain-send:hover {background: #9a3412}

button:focus-visible, a:focus-visible, textarea:focus-visible, input:focus-visible,
summary:focus-visible {outline: 3px solid var(--askpain-focus); outline-offset: 2px}
/* Gradio's text box has `outline: none !important` and only a faint shadow when focused. */
#askpain-question textarea:focus-visible {outline: 3px solid var(--askpain-focus) !important}

/* "Print or save for my care team": only once there is something to print. */
#askpain-print {display: none; border: 2px solid transparent}
.gradio-container:has(#askpain-chat :is(.user-row, .bot-row)) #askpain-print {display: inline-flex}
#askpain-print-heading {display: none}

@media print {
  /* Paper gets the conversation, not the page's controls. */
  #askpain-question, #askpain-buttons, #askpain-examples-title, #askpain-examples, #askpain-intro,
  #askpain-about, .askpain-copy-row, .askpain-vote-row, .askpain-suggestions, .askpain-actions, footer,
  #askpain-chat .icon-button-wrapper, #askpain-chat label[data-testid="block-label"] {
    display: none !important}
  #askpain-print-heading {display: block}
  #askpain-helpnow {position: static}
  /* The whole conversation, not the part that fits the chat's scroll box. */
  #askpain-chat, #askpain-chat .bubble-wrap, #askpain-chat .message-wrap {max-height: none !important;
    height: auto !important; overflow: visible !important}
  /* Every source and the help line opened (reply-links.js does the same for older browsers). */
  details::details-content {content-visibility: visible; display: contents}
  /* Who said what: on paper the bubbles' sides and colours say little. */
  #askpain-chat .user-row .message-content::before {content: "I asked:"; display: block; font-weight: 700}
  #askpain-chat .bot-row [data-testid="bot"]::before {content: "askpain answered:"; display: block;
    font-weight: 700; margin-bottom: .3rem}
  .askpain-card {break-inside: avoid}
}

@media (forced-colors: active) {
  .askpain-card {border: 3px solid CanvasText}
  .askpain-card a.askpain-call {border: 2px solid LinkText}
  .askpain-helpnow, button.askpain-suggest, button.askpain-copy, button.askpain-vote, #askpain-print {
    border: 2px solid CanvasText}
  button.askpain-vote[aria-pressed="true"] {border-width: 4px}
  .askpain-source mark {background: Mark; color: MarkText}
  button:focus-visible, a:focus-visible, textarea:focus-visible, input:focus-visible,
  summary:focus-visible {outline: 3px solid Highlight}
  #askpain-question textarea:focus-visible {outline: 3px solid Highlight !important}
}
"""

# The staff area: the chat page's rules (its answer is shown as the patient sees it) and these.
# Gradio's orange primary buttons (white on #ea580c or #f97316) and red stop buttons fall short
# of 4.5:1; the colours here pass in light and dark mode (white on #c2410c is 5.2:1, on #b91c1c
# 6.5:1). tests/web/test_staff_page.py measures them in the browser.
STAFF_CSS = (
    CSS
    + """
button.primary {background: #c2410c; border: 2px solid #c2410c; color: #ffffff}
button.primary:hover {background: #9a3412; border-color: #9a3412; color: #ffffff}
button.stop {background: #b91c1c; border: 2px solid #b91c1c; color: #ffffff}
button.stop:hover {background: #991b1b; border-color: #991b1b; color: #ffffff}
/* The answer record: JSON, so in a fixed-width font. */
#askpain-staff-record textarea {font-family: var(--font-mono); font-size: .85rem}
#askpain-staff-confirm {align-items: center; border: 2px solid #b91c1c; border-radius: 8px; padding: .6rem}
.dark #askpain-staff-confirm {border-color: #f87171}
"""
)
