"""Helpful / not helpful on each answer: counts in memory, never text.

Each reply on the patient page carries a ticket: a random id, the answer's status and the
documents it cites, signed with a key made when the server starts. A vote sends the ticket back
(reply-links.js, POST /askpain-feedback); the server counts it under that status and those
documents. The ticket holds no patient text, and nothing is written to disk: the counts live as
long as the server process (the staff issue's storage setting will keep them).

A patient may change their mind: a second vote on the same ticket moves the count. A forged or
altered ticket counts nothing, so the counts can only say what real answers were.

Example:
    feedback = Feedback()
    ticket = feedback.ticket(answer)              # into the reply's HTML
    feedback.vote(ticket, helpful=True)           # True: counted
    feedback.summary()["helpful"]                 # 1
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import Counter, OrderedDict

from askpain.types import Answer

MAX_TICKETS = 100_000  # votes remembered for a change of mind; the oldest are forgotten first
_TICKET = re.compile(r"[A-Za-z0-9_-]{12}\.[a-z_]{1,40}\.[A-Za-z0-9_-]{0,2000}\.[A-Za-z0-9_-]{22}")


class Feedback:
    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._votes: OrderedDict[str, tuple[str, tuple[str, ...], bool]] = OrderedDict()
        self._counts: Counter[tuple[str, bool]] = Counter()
        self._documents: Counter[tuple[str, bool]] = Counter()

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")

    def ticket(self, answer: Answer) -> str:
        """A signed ticket for one reply: random id, status, cited document ids."""
        # Document ids are file stems, which may hold any character: base64 keeps the dots ours.
        documents = "\n".join(sorted({c.passage.doc_id for c in answer.citations}))
        packed = base64.urlsafe_b64encode(documents.encode()).decode().rstrip("=")
        body = f"{secrets.token_urlsafe(9)}.{answer.status}.{packed}"
        return f"{body}.{self._sign(body)}"

    def vote(self, ticket: object, *, helpful: bool) -> bool:
        """Count a vote; False (and nothing counted) for a ticket this server did not sign."""
        if not isinstance(ticket, str) or not _TICKET.fullmatch(ticket):
            return False
        body, _, signature = ticket.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            return False
        nonce, status, packed = body.split(".")
        documents = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
        docs = tuple(d for d in documents.split("\n") if d)
        with self._lock:
            earlier = self._votes.pop(nonce, None)
            if earlier is not None:  # a change of mind: the earlier vote no longer counts
                self._count(*earlier, -1)
            self._votes[nonce] = (status, docs, helpful)
            self._count(status, docs, helpful, 1)
            while len(self._votes) > MAX_TICKETS:
                self._votes.popitem(last=False)
        return True

    def _count(self, status: str, docs: tuple[str, ...], helpful: bool, step: int) -> None:
        self._counts[status, helpful] += step
        for doc in docs:
            self._documents[doc, helpful] += step

    def summary(self) -> dict:
        """Votes since the server started: in all, by answer status, by cited document."""
        with self._lock:
            counts, documents = +self._counts, +self._documents  # + drops the zeros

        def split(counter: Counter, key_of) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for (key, helpful), n in sorted(counter.items()):
                out.setdefault(key_of(key), {"helpful": 0, "not_helpful": 0})
                out[key_of(key)]["helpful" if helpful else "not_helpful"] += n
            return out

        return {
            "helpful": sum(n for (_, h), n in counts.items() if h),
            "not_helpful": sum(n for (_, h), n in counts.items() if not h),
            "by_status": split(counts, str),
            "by_document": split(documents, str),
        }
