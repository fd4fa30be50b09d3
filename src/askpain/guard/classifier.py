"""The guardrail's learned second opinion: a small neural network over the sentence embeddings
of the same MiniLM model that retrieval uses (one hidden layer shared by all ids, then one
logistic output per red-flag id).

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

import base64
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
    weights: np.ndarray  # (ids, hidden units): the output layer
    bias: np.ndarray  # (ids,)
    thresholds: np.ndarray  # (ids,) a sentence at or above raises a candidate match
    meta: dict
    hidden_weights: np.ndarray | None = None  # (dimension, hidden units); None: a linear model
    hidden_bias: np.ndarray | None = None  # (hidden units,)

    def scores(self, vectors: np.ndarray) -> np.ndarray:
        """Probability per text (row) and red-flag id (column)."""
        x = vectors.astype(np.float64)
        if self.hidden_weights is not None:
            x = np.maximum(x @ self.hidden_weights.astype(np.float64) + self.hidden_bias, 0.0)
        logits = x @ self.weights.T.astype(np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-logits))


_SIGNED = ("ids", "weights", "bias", "thresholds", "hidden_weights", "hidden_bias")


def pack(array: np.ndarray) -> dict:
    """A float32 matrix as JSON: its shape and its little-endian bytes in base64."""
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "float32_base64": base64.b64encode(data.tobytes()).decode("ascii")}


def unpack(packed: dict) -> np.ndarray:
    raw = base64.b64decode(packed["float32_base64"], validate=True)
    return np.frombuffer(raw, dtype="<f4").reshape(packed["shape"]).astype(np.float32)


def weights_digest(payload: dict) -> str:
    """sha256 of the weights in a canonical JSON form (what the checksum in the file covers)."""
    body = {k: payload[k] for k in _SIGNED if k in payload}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_classifier(text: str) -> SignClassifier:
    """Parse and verify a classifier file; ClassifierError when it is damaged."""
    try:
        payload = json.loads(text)
        digest = weights_digest(payload)
        hidden = unpack(payload["hidden_weights"]) if "hidden_weights" in payload else None
        hidden_bias = np.asarray(payload["hidden_bias"], dtype=np.float64) if hidden is not None else None
    except (ValueError, KeyError, TypeError) as exc:
        raise ClassifierError(f"classifier.json is not a valid weights file: {exc}") from exc
    if digest != payload.get("weights_sha256"):
        raise ClassifierError("classifier.json does not match its checksum; retrain it")
    return SignClassifier(
        ids=tuple(payload["ids"]),
        weights=np.asarray(payload["weights"], dtype=np.float32),
        bias=np.asarray(payload["bias"], dtype=np.float64),
        thresholds=np.asarray(payload["thresholds"], dtype=np.float64),
        meta={k: v for k, v in payload.items() if k not in _SIGNED[1:3] + _SIGNED[4:]},
        hidden_weights=hidden,
        hidden_bias=hidden_bias,
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
