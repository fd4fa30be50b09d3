import pytest

from askpain.ingest.chunking import chunk_corpus, split_sentences
from askpain.ingest.corpus import load_corpus
from askpain.settings import REPO_ROOT

DOCUMENTS = load_corpus(REPO_ROOT / "corpus")
TEXTS = {d.doc_id: d.text for d in DOCUMENTS}


@pytest.mark.parametrize("max_chars", [250, 700, 1500])
def test_every_passage_and_sentence_is_verbatim_at_its_offsets(max_chars):
    passages = chunk_corpus(DOCUMENTS, max_chars)
    assert passages
    for p in passages:
        assert TEXTS[p.doc_id][p.start : p.end] == p.text
        for sentence in p.sentences:
            assert p.start <= sentence.start < sentence.end <= p.end
        assert p.sentence_texts()[0] == p.text[: len(p.sentence_texts()[0])]


@pytest.mark.parametrize("max_chars", [250, 700])
def test_passages_never_cross_a_section(max_chars):
    sections = {(d.doc_id, s.heading): (s.start, s.end) for d in DOCUMENTS for s in d.sections}
    for p in chunk_corpus(DOCUMENTS, max_chars):
        start, end = sections[(p.doc_id, p.section)]
        assert start <= p.start and p.end <= end, p.chunk_id


def test_every_sentence_of_the_corpus_is_in_exactly_one_passage():
    passages = chunk_corpus(DOCUMENTS, 700)
    covered = [(p.doc_id, s.start, s.end) for p in passages for s in p.sentences]
    assert len(covered) == len(set(covered))
    for d in DOCUMENTS:
        body = "".join(d.text[s.start : s.end] for s in d.sections)
        in_passages = "".join(TEXTS[d.doc_id][a:b] for doc, a, b in covered if doc == d.doc_id)
        assert len(in_passages.replace(" ", "")) == len(body.replace(" ", "").replace("\n", "")), d.doc_id


def test_passages_respect_the_size_unless_one_sentence_is_longer():
    for p in chunk_corpus(DOCUMENTS, 300):
        assert len(p.text) <= 300 or len(p.sentences) == 1


def test_ids_and_order_are_stable_across_builds():
    first = chunk_corpus(load_corpus(REPO_ROOT / "corpus"), 700)
    second = chunk_corpus(load_corpus(REPO_ROOT / "corpus"), 700)
    assert [(p.chunk_id, p.start, p.end) for p in first] == [(p.chunk_id, p.start, p.end) for p in second]
    assert len({p.chunk_id for p in first}) == len(first)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("One. Two? Three!", ["One.", "Two?", "Three!"]),
        ("Use ice, e.g. a cold pack. Then rest.", ["Use ice, e.g. a cold pack.", "Then rest."]),
        ("Success is a 50% drop. 3 weeks later, check.", ["Success is a 50% drop.", "3 weeks later, check."]),
        ("It “silences” nerves. Relief lasts.", ["It “silences” nerves.", "Relief lasts."]),
        ("A heading-free line\nNext line starts here.", ["A heading-free line\nNext line starts here."]),
        ("Steps:\n- rest\n- ice", ["Steps:", "- rest", "- ice"]),
    ],
)
def test_sentence_splitting(text, sentences):
    assert [text[s.start : s.end] for s in split_sentences(text)] == sentences
