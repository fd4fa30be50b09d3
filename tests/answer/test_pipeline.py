"""The answer pipeline end to end: real model, real index, records checked against the schema."""

from __future__ import annotations

import itertools

import jsonschema
import pytest

from askpain.answer.compose import default_wording
from askpain.answer.sentences import SAME_FACT
from askpain.evals.evaluate import answer_sentences
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT
from tests.conftest import answer_schema

CORPUS = {d.doc_id: d.text for d in load_corpus(REPO_ROOT / "corpus")}
WORDING = default_wording()

QUESTIONS = [
    "How long does relief from RFA usually last?",
    "I can't control my bladder since the shot",
    "what is cauda equina?",
    "what's the best pizza in town?",
    "how many mg of gabapentin should I take?",
    "",
    "¿Qué pasa si la inyección no funciona?",
    "<img src=x onerror=alert(1)> what is PRP?",
    "how much does RFA cost?",
    "My back pain is bad. " * 300 + "I also wet myself.",
]


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q[:30] or "empty")
def test_record_follows_the_schema_and_quotes_verbatim(askpain, question):
    record = askpain.ask(question).to_record()
    jsonschema.validate(record, answer_schema())
    assert record["question"] == question
    for c in record["citations"]:
        assert CORPUS[c["doc_id"]][c["start"] : c["start"] + len(c["passage"])] == c["passage"]
    for sentence, n in answer_sentences(record):
        assert sentence in record["citations"][n - 1]["passage"]


def test_factual_answer_quotes_two_to_four_sentences_with_markers(askpain):
    answer = askpain.ask("What is radiofrequency ablation?")
    assert answer.status == "answered"
    assert 2 <= len(answer.sentences) <= 4
    assert answer.answer.startswith(WORDING.answer_lead)
    assert any("radio waves" in s for s, _ in answer.sentences)
    assert answer.answer.rstrip().endswith(WORDING.disclaimer)
    assert WORDING.help_now in answer.answer


def test_the_same_fact_is_not_quoted_twice(askpain):
    answer = askpain.ask("what is RFA and how does it work")
    rows = [(c.passage.chunk_id, c) for c in answer.citations]
    assert rows
    vectors = askpain.scorer.vectors
    for (a, _), (b, _) in itertools.combinations(answer.sentences, 2):
        va = vectors[[k for k, s in enumerate(all_sentences(askpain)) if s == a][0]]
        vb = vectors[[k for k, s in enumerate(all_sentences(askpain)) if s == b][0]]
        assert float(va @ vb) < SAME_FACT


def all_sentences(askpain) -> list[str]:
    return [s for p in askpain.index.passages for s in p.sentence_texts()]


@pytest.mark.parametrize(
    "question",
    [
        "I can't feel the toilet paper when I wipe",  # no answer in the corpus
        "best pizza? also i wet myself",  # out of scope
        "how many mg of oxycodone? I also can't control my bladder",  # needs clinician
        "x " * 24_000 + "I can't control my bladder",  # huge, under the cap
        "¿Quién eres? I can't control my bladder ahora",
    ],
    ids=["no answer", "out of scope", "clinician", "huge", "mixed language"],
)
def test_red_flag_alert_comes_first_whatever_the_status(askpain, question):
    answer = askpain.ask(question)
    assert [f.id for f in answer.red_flags] == ["cauda_equina"]
    assert answer.answer.startswith("> ⚠️ **EMERGENCY")
    assert "cauda equina syndrome" in answer.answer.split("\n\n")[0]


def test_red_flag_cites_the_passage_that_backs_it(askpain):
    record = askpain.ask("I wet myself and didn't feel it").to_record()
    (flag,) = record["red_flags"]
    cited = record["citations"][flag["citation"] - 1]
    assert "Cauda Equina Syndrome (CES)" in cited["passage"]


def test_alert_survives_a_retrieval_failure(askpain, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("index went away")

    monkeypatch.setattr(askpain.retriever, "search", broken)
    answer = askpain.ask("my foot is dragging, what is RFA?")
    assert [f.id for f in answer.red_flags] == ["neurological_deficit"]
    assert answer.answer.startswith("> ⚠️ **URGENT")
    assert answer.status == "no_answer" and "retrieval_error" in answer.notes
    assert WORDING.retrieval_error in answer.answer


def test_guardrail_failure_shows_the_general_warning(askpain, monkeypatch):
    import askpain.guard.engine as guardrail

    def explode(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(guardrail, "_scan", explode)
    answer = askpain.ask("what is RFA?")
    assert answer.guardrail_failed and answer.to_record()["guardrail_failed"] is True
    assert answer.answer.startswith("> ⚠️ **EMERGENCY: We could not check your message")


def test_question_about_a_condition_gets_the_card_and_the_cited_answer(askpain):
    answer = askpain.ask("what is cauda equina syndrome?")
    assert answer.red_flags == () and [c.id for c in answer.cards] == ["cauda_equina"]
    assert answer.answer.startswith("> ℹ️")
    assert any("Cauda Equina Syndrome (CES)" in s for s, _ in answer.sentences)


def test_out_of_scope_says_what_askpain_is_for_and_cites_nothing(askpain):
    answer = askpain.ask("write me a poem about spring")
    assert answer.status == "out_of_scope" and answer.citations == ()
    assert WORDING.out_of_scope in answer.answer
    assert all(q in answer.answer for q in WORDING.examples)


def test_clinician_question_says_the_care_team_decides_and_gives_no_dose(askpain):
    answer = askpain.ask("how many mg of gabapentin should I take?")
    assert answer.status == "needs_clinician"
    assert WORDING.clinician in answer.answer
    assert not any(ch.isdigit() for ch in answer.answer.replace("911", "").replace("988", ""))


def test_no_answer_suggests_questions_the_corpus_does_answer(askpain):
    answer = askpain.ask("how much does RFA cost?")
    assert answer.status == "no_answer" and answer.citations == ()
    suggested = [line[2:] for line in answer.answer.splitlines() if line.startswith("- ")]
    assert 2 <= len(suggested) <= 3
    for question in suggested:
        assert askpain.ask(question).status == "answered", question


@pytest.mark.parametrize(
    ("text", "note"),
    [("", "empty"), ("   \n ", "empty"), ("¿Qué hago ahora con el dolor?", "other_language")],
)
def test_empty_and_other_language_get_a_clear_reply(askpain, text, note):
    answer = askpain.ask(text)
    assert note in answer.notes and answer.citations == ()
    expected = WORDING.empty if note == "empty" else WORDING.other_language
    assert expected in answer.answer


def test_long_message_is_answered_on_a_prefix_with_a_note(askpain):
    answer = askpain.ask("What is PRP therapy? " + "Thanks for your help. " * 500)
    assert "long_input" in answer.notes and WORDING.long_input in answer.answer
    assert answer.status == "answered"


def test_same_question_same_bytes(askpain):
    first = askpain.ask("why didn't my cortisone shot work?").to_record()
    second = askpain.ask("why didn't my cortisone shot work?").to_record()
    first.pop("latency_ms"), second.pop("latency_ms")
    assert first == second


def test_html_is_never_echoed(askpain):
    answer = askpain.ask("<script>alert(1)</script><img src=x onerror=alert(1)>")
    assert "<script" not in answer.answer and "onerror" not in answer.answer


def test_follow_up_is_answered_with_the_message_before_it(askpain):
    answer = askpain.ask("how long does that last?", history=["What is RFA?"])
    assert answer.status == "answered" and answer.trace["follow_up"]
    assert any("six months and a year" in text for text, _ in answer.sentences)


def test_a_cost_question_the_documents_do_not_answer_is_declined_without_quoting(askpain):
    answer = askpain.ask("how much does RFA cost?")
    assert answer.status == "no_answer" and answer.sentences == ()


def test_bank_evidence_puts_the_sentence_that_answers_first(askpain):
    answer = askpain.ask("why didn't my epidural work")
    first = answer.sentences[0][0]
    assert not first.startswith("Epidural steroid injections (ESIs) are a common treatment")
    assert answer.trace["sentences"][0]["bank_question"]
