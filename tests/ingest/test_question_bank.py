"""The question bank beside the corpus (corpus/questions/<doc-id>.yaml): for every section of every
document, questions patients ask that the section answers, each tied to the sentences that answer
it, copied word for word. The answers issue indexes it; these tests keep it true to the corpus and
apart from the eval sets (a bank written from the eval questions would measure nothing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"
BANK = CORPUS / "questions"
MIN_PER_SECTION = 8
DOCUMENTS = {d.doc_id: d for d in load_corpus(CORPUS)}


def _sections(doc) -> dict[str, str]:
    """Section name (its heading, or "Introduction" for the text before the first) -> its text."""
    return {s.heading or "Introduction": doc.text[s.start : s.end] for s in doc.sections}


def _bank(doc_id: str) -> dict:
    return yaml.safe_load((BANK / f"{doc_id}.yaml").read_text(encoding="utf-8"))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


@pytest.mark.parametrize("doc_id", sorted(DOCUMENTS))
def test_every_section_of_every_document_has_questions(doc_id):
    bank = _bank(doc_id)
    assert bank["doc_id"] == doc_id
    counts = {s["section"]: len(s["questions"]) for s in bank["sections"]}
    for section in _sections(DOCUMENTS[doc_id]):
        assert counts.get(section, 0) >= MIN_PER_SECTION, (doc_id, section, counts.get(section, 0))


@pytest.mark.parametrize("doc_id", sorted(DOCUMENTS))
def test_every_answer_is_a_sentence_of_its_own_section_word_for_word(doc_id):
    sections = _sections(DOCUMENTS[doc_id])
    for section in _bank(doc_id)["sections"]:
        assert section["section"] in sections, (doc_id, section["section"])
        text = sections[section["section"]]
        for item in section["questions"]:
            assert item["question"].strip() and 1 <= len(item["answer"]) <= 3, item
            for sentence in item["answer"]:
                assert sentence in text, (doc_id, section["section"], sentence)


def test_no_question_is_asked_twice_in_a_document_or_taken_from_the_eval_sets():
    # The same question may stand in two documents that both answer it ("what is RFA?").
    asked = set()
    for doc_id in DOCUMENTS:
        mine = [_norm(q["question"]) for s in _bank(doc_id)["sections"] for q in s["questions"]]
        assert len(mine) == len(set(mine)), doc_id
        asked |= set(mine)
    evals = set()
    for path in (REPO_ROOT / "evals").rglob("*.yaml"):
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(items, list):
            evals |= {_norm(i["question"]) for i in items if isinstance(i, dict) and "question" in i}
    assert evals, "no eval questions found"
    assert not asked & evals, sorted(asked & evals)[:5]


def test_the_bank_is_not_read_as_a_corpus_document():
    """corpus/questions/ sits beside the documents; indexing reads only the files at the top."""
    assert {Path(d.path).parent for d in DOCUMENTS.values()} == {CORPUS}
    assert len(DOCUMENTS) == 5 and BANK.is_dir()
