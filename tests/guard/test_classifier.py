"""The guardrail's learned second opinion: verified weights, deterministic, through the context
engine, and failing safe."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from askpain.evals.guardsets import items_digest, training_items
from askpain.guard import classifier as clf_module
from askpain.guard.classifier import ClassifierError, default_classifier, load_classifier, sentence_spans
from askpain.guard.engine import FAIL_SAFE, detect_red_flags
from askpain.guard.rules import RED_FLAG_IDS

WEIGHTS = (resources.files("askpain.guard") / "data" / "classifier.json").read_text(encoding="utf-8")


def test_weights_match_their_checksum_and_the_training_data():
    clf = default_classifier()
    assert clf.ids == RED_FLAG_IDS
    assert clf.hidden_weights.shape == (384, clf.weights.shape[1])  # MiniLM's 384 dimensions in
    assert clf.weights.shape[0] == len(RED_FLAG_IDS)
    # Editing the training data without retraining is caught here: run
    # scripts/train_guard_classifier.py after changing evals/guard/dev/ or the rule table.
    assert clf.meta["training_data_sha256"] == items_digest(training_items())


def test_damaged_weights_are_refused():
    payload = json.loads(WEIGHTS)
    payload["weights"][0][0] += 0.5
    with pytest.raises(ClassifierError, match="checksum"):
        load_classifier(json.dumps(payload))
    payload = json.loads(WEIGHTS)
    payload["hidden_bias"][0] += 0.5
    with pytest.raises(ClassifierError, match="checksum"):
        load_classifier(json.dumps(payload))
    with pytest.raises(ClassifierError):
        load_classifier("not json")


def test_it_catches_wording_the_rules_do_not_know(embedder):
    # Sentences the classifier raises although no phrase or concept matched them.
    result = detect_red_flags(
        "since the epidural its like my brain is being pulled down whenever im up, fine flat",
        encode=embedder.encode,
    )
    layers = {f.id: f.layer for f in result.alerts}
    assert layers.get("spinal_headache") in ("classifier", "concept", "phrase")
    assert "spinal_headache" in layers


def test_its_matches_go_through_the_context_engine(embedder):
    for text in ("Any fever? No. Any hives? No.", "I had a fever years ago, long gone now"):
        result = detect_red_flags(text, encode=embedder.encode)
        assert not result.alerts, (text, result.trace)


def test_same_message_same_result(embedder):
    text = "cant feel my bits and my legs keep giving out, on warfarin, shot was tuesday"
    first = detect_red_flags(text, encode=embedder.encode)
    again = detect_red_flags(text, encode=embedder.encode)
    assert first == again and [t for t in first.trace] == [t for t in again.trace]


def test_trace_says_which_layer_matched_and_the_score(embedder):
    result = detect_red_flags("i think i might be having a stroke", encode=embedder.encode)
    assert result.alerts
    assert all("layer" in t for t in result.trace)
    learned = [t for t in result.trace if t["layer"] == "classifier"]
    assert all(0.0 <= t["score"] <= 1.0 for t in learned)


def test_when_the_classifier_cannot_run_the_rules_still_do_and_the_warning_shows(monkeypatch):
    def broken(texts):
        raise RuntimeError("model went away")

    result = detect_red_flags("I can't control my bladder", encode=broken)
    assert result.degraded
    assert [f.id for f in result.alerts][0] == "cauda_equina"  # the rule's own alert, first
    assert FAIL_SAFE in result.alerts  # and the general warning

    def missing():
        raise ClassifierError("cannot read classifier.json")

    monkeypatch.setattr("askpain.guard.engine.default_classifier", missing)
    calm = detect_red_flags("what is RFA?", encode=lambda texts: np.zeros((len(texts), 384)))
    assert calm.degraded and calm.alerts == (FAIL_SAFE,)


def test_a_huge_message_embeds_a_bounded_number_of_sentences():
    seen = []

    def encode(texts):
        seen.append(len(texts))
        return np.zeros((len(texts), 384), dtype=np.float32)

    text = "My back hurts today. " * 2300 + "I can't feel my groin."  # under the cap
    result = detect_red_flags(text, encode=encode)
    assert "cauda_equina" in {f.id for f in result.alerts}
    assert max(seen) <= clf_module.MAX_UNITS + 1


@pytest.mark.parametrize(
    ("text", "count"),
    [("One. Two? Three!", 3), ("no end mark", 1), ("line one\nline two", 2), ("...", 0), ("", 0)],
)
def test_sentence_spans(text, count):
    assert len(sentence_spans(text)) == count
