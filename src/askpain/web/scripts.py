"""The patient page's two script files, served by server.py and loaded through the page's <head>.

Script files, not inline or `js=` scripts: the CSP's `script-src 'self'` allows them, so the page
needs neither 'unsafe-inline' nor 'unsafe-eval' and no hash changes. The only Gradio event stays
`/chat`, reached the way a patient reaches it; the one other request is a vote on an answer
(POST /askpain-feedback, a plain route of ours, server.py).
"""

from __future__ import annotations

SHOW_LATEST_PATH = "/askpain-static/show-latest.js"
SHOW_LATEST_JS = """// askpain: scroll to the start of each new reply, so its alert card is what shows first.
(() => {
  let seen = 0;
  const check = () => {
    const replies = document.querySelectorAll('#askpain-chat .bot-row');
    if (replies.length > seen) {
      const reply = replies[replies.length - 1];
      const show = () => reply.scrollIntoView({block: 'start', behavior: 'instant'});
      show();
      // The chat lays the new reply out over the next frames: show its start again then.
      requestAnimationFrame(() => requestAnimationFrame(show));
    }
    seen = replies.length;
  };
  new MutationObserver(check).observe(document.documentElement, {childList: true, subtree: true});
})();
"""

FEEDBACK_PATH = "/askpain-feedback"
REPLY_LINKS_PATH = "/askpain-static/reply-links.js"
REPLY_LINKS_JS = """// askpain: clicks that HTML alone cannot handle (suggestions, sources, copy, print).
(() => {
  const FEEDBACK_PATH = '%FEEDBACK_PATH%';
  const ask = (button) => {
    // A suggested question is asked exactly as if the patient had typed it and pressed Send:
    // the same /chat event, with the conversation so far.
    const box = document.querySelector('#askpain-question textarea');
    const send = document.querySelector('#askpain-send');
    if (!box || !send || send.disabled) return;
    box.value = button.textContent;
    box.dispatchEvent(new Event('input', {bubbles: true}));
    requestAnimationFrame(() => send.click());  // once the text box has passed its value on
  };
  const openSource = (link) => {
    // Browsers that follow the HTML standard open a closed <details> when a link scrolls to
    // something inside it; older ones (Safari before 26) need this.
    const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    const source = target && target.closest('details');
    if (source && !source.open) source.open = true;
  };
  // A reply's plain text: alerts, answer, sources (the passage even while its <details> is
  // closed), help line; not the Call / Text buttons or the copy button itself (the icons are CSS,
  // never text).
  const plain = (el) => el.textContent.replace(/\\s+/g, ' ').trim();
  const replyText = (reply) => {
    const blocks = [];
    for (const part of reply.children) {
      if (part.matches('.askpain-copy-row, .askpain-vote-row')) continue;
      if (part.matches('.askpain-card')) {
        blocks.push([...part.querySelectorAll('p:not(.askpain-actions)')].map(plain).join('\\n'));
      } else if (part.matches('.askpain-sources')) {
        blocks.push('Sources');
        part.querySelectorAll('details').forEach((source) => {
          const [title, passage] = [source.querySelector('summary'), source.querySelector('blockquote')];
          blocks.push(`${plain(title)}\\n"${plain(passage)}"`);
        });
      } else if (part.matches('ul')) {
        blocks.push([...part.querySelectorAll('li')].map((li) => `- ${plain(li)}`).join('\\n'));
      } else {
        blocks.push(plain(part));
      }
    }
    return blocks.filter(Boolean).join('\\n\\n');
  };
  const copyReply = async (button) => {
    const row = button.closest('.askpain-copy-row');
    const status = row.querySelector('.askpain-copy-status');
    try {
      await navigator.clipboard.writeText(replyText(row.parentElement));
      status.textContent = 'Copied';
    } catch {
      status.textContent = 'Could not copy: select the text and copy it instead';
    }
  };
  // "Did this answer help?": the button's ticket (no text) to the server, which counts it.
  const vote = async (button) => {
    const row = button.closest('.askpain-vote-row');
    const status = row.querySelector('.askpain-vote-status');
    const helpful = button.classList.contains('askpain-vote-yes');
    try {
      const response = await fetch(FEEDBACK_PATH, {
        method: 'POST',
        headers: {'content-type': 'application/json'},
        body: JSON.stringify({ticket: button.value, helpful}),
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      for (const b of row.querySelectorAll('button.askpain-vote')) {
        b.setAttribute('aria-pressed', String(b === button));
      }
      status.textContent = 'Thank you. This helps your clinic make askpain better.';
    } catch {
      status.textContent = 'Sorry, that did not go through. Please try again.';
    }
  };
  // Printing shows every source and "When to get help now" opened, whichever way the print
  // starts (our button or the browser's menu), and closes again what was closed.
  let opened = [];
  window.addEventListener('beforeprint', () => {
    const closed = '#askpain-chat details:not([open]), #askpain-helpnow details:not([open])';
    opened = [...document.querySelectorAll(closed)];
    opened.forEach((d) => { d.open = true; });
  });
  window.addEventListener('afterprint', () => {
    opened.forEach((d) => { d.open = false; });
    opened = [];
  });
  document.addEventListener('click', (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest('#askpain-print')) window.print();
    const copy = event.target.closest('#askpain-chat button.askpain-copy');
    if (copy) copyReply(copy);
    const voted = event.target.closest('#askpain-chat button.askpain-vote');
    if (voted) vote(voted);
    const suggestion = event.target.closest('#askpain-chat button.askpain-suggest');
    if (suggestion) ask(suggestion);
    const citation = event.target.closest('#askpain-chat a[href^="#"]');
    if (citation) openSource(citation);
  });
})();
"""

REPLY_LINKS_JS = REPLY_LINKS_JS.replace("%FEEDBACK_PATH%", FEEDBACK_PATH)
SCRIPTS = {SHOW_LATEST_PATH: SHOW_LATEST_JS, REPLY_LINKS_PATH: REPLY_LINKS_JS}
HEAD = "".join(f'<script src="{path}"></script>' for path in SCRIPTS)
