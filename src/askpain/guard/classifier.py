"""The guardrail's learned second opinion: one logistic-regression head per red-flag id over
the sentence embeddings of the same MiniLM model that retrieval uses.

It only proposes: every sentence it scores above its id's threshold becomes a match that goes
through the same context engine as the rules (negated, past, someone else's, asked → no alert).
Weights come from `scripts/train_guard_classifier.py` (fixed seed, data in evals/guard/dev/),
saved in data/classifier.json with their checksum and the training data's hash. Pure numpy:
the caller passes the function that embeds text.

Example:
    clf = default_classifier()
    scores = clf.scores(encode(["my bits have gone numb"]))  # one row per text, one column per id
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from askpain.errors import AskpainError

Encode = Callable[[list[str]], np.ndarray]

# A message is scored sentence by sentence, and as a whole when it is short: a sign told
# over two sentences ("My groin. It's gone numb.") is still seen.
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# At most this many sentences are embedded per message (those the lexicons flag first), so a
# huge message costs a bounded time; the rules still read every word of it.
MAX_UNITS = 12
WHOLE_MESSAGE_MAX_CHARS = 400


class ClassifierError(AskpainError):
    """The classifier's weights are missing, damaged or do not match their checksum."""


@dataclass(frozen=True)
class SignClassifier:
    ids: tuple[str, ...]
    weights: np.ndarray  # (ids, dimension)
    bias: np.ndarray  # (ids,)
    thresholds: np.ndarray  # (ids,) a sentence at or above raises a candidate match
    meta: dict

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Probability per text (row) and red-flag id (column)."""
        logits = vectors.astype(np.float64) @ self.weights.T.astype(np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


def weights_digest(payload: dict) -> str:
    """sha256 of the weights in a canonical JSON form (what the checksum in the file covers)."""
    body = {k: payload[k] for k in ("ids", "weights", "bias", "thresholds")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_classifier(text: str) -> SignClassifier:
    """Parse and verify a classifier file; ClassifierError when it is damaged."""
    try:
        payload = json.loads(text)
        digest = weights_digest(payload)
    except (ValueError, KeyError, TypeError) as exc:
        raise ClassifierError(f"classifier.json is not a valid weights file: {exc}") from exc
    if digest != payload.get("weights_sha256"):
        raise ClassifierError("classifier.json does not match its checksum; retrain it")
    return SignClassifier(
        ids=tuple(payload["ids"]),
        weights=np.asarray(payload["weights"], dtype=np.float32),
        bias=np.asarray(payload["bias"], dtype=np.float64),
        thresholds=np.asarray(payload["thresholds"], dtype=np.float64),
        meta={k: v for k, v in payload.items() if k not in ("weights", "bias")},
    )


@cache
def default_classifier() -> SignClassifier:
    path = resources.files("askpain.guard") / "data" / "classifier.json"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassifierError(f"cannot read {path}: {exc}") from exc
    return load_classifier(text)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a message, whitespace trimmed, empty ones dropped."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if any(ch.isalnum() for ch in text[start:end]):
            spans.append((start, end))
    return spans
