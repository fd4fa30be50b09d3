import shutil
from pathlib import Path

import pytest

from askpain.errors import CorpusError
from askpain.ingest.corpus import corpus_fingerprint, load_corpus, read_corpus
from askpain.settings import REPO_ROOT

CORPUS = REPO_ROOT / "corpus"

TITLES = {
    "back-injections-dont-work": "What Happens If Back Injections Don’t Work?",
    "cortisone-shot-next-step": "What Is the Next Step If a Cortisone Shot Doesn’t Work?",
    "epidural-injection-doesnt-work": "What If an Epidural Injection Doesn’t Work?",
    "steroid-injections-dont-work": "What to Do If Steroid Injections Don’t Work",
    # No title line in the file: the title comes from corpus/metadata.json.
    "steroid-treatment-fails": "When Steroid Treatment Fails",
}


def test_shipped_corpus_matches_shared_source():
    shared = REPO_ROOT.parent / "shared" / "corpus"
    if not shared.is_dir():
        pytest.skip("../shared is not beside this checkout")
    for path in shared.iterdir():
        assert (CORPUS / path.name).read_bytes() == path.read_bytes(), path.name


def test_titles_come_from_title_line_or_metadata():
    assert {d.doc_id: d.title for d in load_corpus(CORPUS)} == TITLES


@pytest.mark.parametrize(
    ("doc_id", "headings"),
    [
        # Blank lines between paragraphs.
        (
            "epidural-injection-doesnt-work",
            [
                None,
                "Defining the Lack of Response",
                "Primary Causes for Failure",
                "Non-Surgical Treatment Pathways",
                "Radiofrequency Ablation (RFA)",
                "Minimally Invasive Decompression",
                "Considering Surgical Intervention",
            ],
        ),
        # Single newlines between paragraphs and no title line.
        (
            "steroid-treatment-fails",
            [
                None,
                "Understanding Why Steroid Treatment Fails",
                "Essential Diagnostic Re-evaluation Following Failure",
                "Non-Surgical Treatment Pathways",
                "When Surgical Intervention Becomes Necessary",
            ],
        ),
    ],
)
def test_sections_follow_headings_in_both_paragraph_styles(doc_id, headings):
    document = next(d for d in load_corpus(CORPUS) if d.doc_id == doc_id)
    assert [s.heading for s in document.sections] == headings
    for section in document.sections:
        body = document.text[section.start : section.end]
        assert body == body.strip() and body
        assert body.split("\n")[0].strip() != section.heading


def test_markdown_handout_loads_with_heading_title(tmp_path):
    (tmp_path / "clinic-handout.md").write_text(
        "# After Your Injection\n\nRest for a day.\n\n## Driving\n\nDo not drive for 24 hours.\n"
    )
    (document,) = load_corpus(tmp_path)
    assert document.title == "After Your Injection"
    assert [s.heading for s in document.sections] == [None, "Driving"]
    assert document.text[document.sections[1].start : document.sections[1].end] == (
        "Do not drive for 24 hours."
    )


def test_document_without_title_or_metadata_is_refused_by_name(tmp_path):
    (tmp_path / "untitled.txt").write_text("This handout starts with a sentence. It has no title.\n")
    with pytest.raises(CorpusError, match=r"untitled\.txt has no title line.*metadata\.json"):
        load_corpus(tmp_path)


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_latin1_document_is_read_with_a_warning_naming_it(tmp_path, caplog):
    """A handout saved as Latin-1 / Windows "ANSI" must not take the page down (review finding)."""
    raw = "Aftercare\n\nCaf\xe9 is fine. Don\x92t drive \x96 rest.\n".encode("latin-1")
    (tmp_path / "latin1.txt").write_bytes(raw)
    with caplog.at_level("WARNING", logger="askpain.ingest.corpus"):
        (document,) = load_corpus(tmp_path)
    assert document.title == "Aftercare"
    assert document.text == "Aftercare\n\nCafé is fine. Don’t drive – rest.\n"  # Windows-1252 quotes
    (warning,) = _warnings(caplog)
    assert "latin1.txt is not UTF-8" in warning and "Windows-1252" in warning and "UTF-8" in warning


def test_bytes_windows_1252_leaves_undefined_are_read_as_latin1(tmp_path, caplog):
    (tmp_path / "odd.txt").write_bytes(b"Odd\n\nA \x81 byte.\n")
    with caplog.at_level("WARNING", logger="askpain.ingest.corpus"):
        (document,) = load_corpus(tmp_path)
    assert document.text == "Odd\n\nA \x81 byte.\n"
    assert "odd.txt is not UTF-8" in _warnings(caplog)[0] and "Latin-1" in _warnings(caplog)[0]


def test_utf16_document_with_a_byte_order_mark_is_read(tmp_path, caplog):
    (tmp_path / "notepad.txt").write_bytes("Rest\r\n\r\nRest for a day.\r\n".encode("utf-16"))
    with caplog.at_level("WARNING", logger="askpain.ingest.corpus"):
        (document,) = load_corpus(tmp_path)
    assert document.text == "Rest\n\nRest for a day.\n"
    assert "UTF-16" in _warnings(caplog)[0]


def test_utf8_documents_give_no_warning(caplog):
    with caplog.at_level("WARNING", logger="askpain.ingest.corpus"):
        load_corpus(CORPUS)
    assert _warnings(caplog) == []


def test_read_corpus_fingerprints_the_bytes_it_parsed_and_names_other_encodings(tmp_path):
    shutil.copytree(CORPUS, tmp_path, dirs_exist_ok=True)
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9\n\nCaf\xe9 au lait.\n".encode("latin-1"))
    read = read_corpus(tmp_path)
    assert read.fingerprint == corpus_fingerprint(tmp_path)
    assert read.encodings == {"latin1": "cp1252"}
    assert [d.doc_id for d in read.documents] == [d.doc_id for d in load_corpus(tmp_path)]


def test_missing_corpus_folder_names_the_setting(tmp_path):
    with pytest.raises(CorpusError, match="ASKPAIN_CORPUS_DIR"):
        load_corpus(tmp_path / "nope")


def test_fingerprint_changes_with_any_edit(tmp_path):
    for path in CORPUS.iterdir():
        if path.is_file():  # the documents and metadata.json, not the questions/ folder
            (tmp_path / path.name).write_bytes(path.read_bytes())
    before = corpus_fingerprint(tmp_path)
    target = Path(tmp_path / "cortisone-shot-next-step.txt")
    target.write_text(target.read_text() + " ")
    assert corpus_fingerprint(tmp_path) != before
