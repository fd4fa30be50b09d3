"""Load corpus/ into CorpusDocuments: title, sections (by heading) and the exact text.

A document's text is its file decoded as UTF-8 with the byte-order mark dropped and
line endings made "\\n"; every offset in askpain refers to that text. A file that is not
UTF-8 is still read, with a warning naming it (see decode_text): one handout saved by a
Windows editor must not take the chat page down.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from askpain.errors import CorpusError
from askpain.ingest.questions import QUESTIONS_DIR, BankQuestion, bank_files, parse_bank
from askpain.types import CorpusDocument, Section

log = logging.getLogger(__name__)

METADATA_FILE = "metadata.json"

# A heading is a short line with no closing punctuation. A title may end in "?".
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 12
_HEADING_END = re.compile(r"[.,;:!?][\"'”’)\]]*$")
_TITLE_END = re.compile(r"[.,;:!][\"'”’)\]]*$")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")

_Line = tuple[int, int, str]  # start, end, text (without the newline)


def _lines(text: str) -> list[_Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        out.append((pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return out


def _is_heading(line: str, closing: re.Pattern = _HEADING_END) -> bool:
    line = line.strip()
    return (
        0 < len(line) <= _MAX_HEADING_CHARS
        and len(line.split()) <= _MAX_HEADING_WORDS
        and (line[0].isupper() or line[0].isdigit())
        and not closing.search(line)
    )


def _sections(lines: list[_Line], heading_of: Callable[[str], str | None], body_from: int):
    """Split the lines from offset body_from on into sections at heading lines."""
    sections: list[Section] = []
    heading: str | None = None
    body: list[_Line] = []

    def close() -> None:
        nonempty = [ln for ln in body if ln[2].strip()]
        if nonempty:
            first, last = nonempty[0], nonempty[-1]
            start = first[0] + len(first[2]) - len(first[2].lstrip())
            sections.append(Section(heading, start, last[0] + len(last[2].rstrip())))

    for line in lines:
        if line[0] < body_from:
            continue
        found = heading_of(line[2]) if line[2].strip() else None
        if found is None:
            body.append(line)
        else:
            close()
            heading, body = found, []
    close()
    return tuple(sections)


def parse_plain_text(text: str) -> tuple[str | None, tuple[Section, ...]]:
    """Title (first line, when it is a heading) and sections of a .txt document."""
    lines = _lines(text)
    first = next((ln for ln in lines if ln[2].strip()), None)
    if first is None:
        return None, ()
    title, body_from = None, first[0]
    if _is_heading(first[2], _TITLE_END):
        title, body_from = first[2].strip(), first[1]
    return title, _sections(lines, lambda s: s.strip() if _is_heading(s) else None, body_from)


def parse_markdown(text: str) -> tuple[str | None, tuple[Section, ...]]:
    """Title (a leading "# " heading) and sections of a .md document; headings are "#" lines."""
    lines = _lines(text)
    first = next((ln for ln in lines if ln[2].strip()), None)
    if first is None:
        return None, ()

    def heading_of(line: str) -> str | None:
        match = _MD_HEADING.match(line.strip())
        return match.group(2) if match else None

    title, body_from = None, first[0]
    match = _MD_HEADING.match(first[2].strip())
    if match and len(match.group(1)) == 1:
        title, body_from = match.group(2), first[1]
    return title, _sections(lines, heading_of, body_from)


# Format by file suffix. HTML or PDF loaders plug in here: text in, (title, sections) out.
PARSERS: dict[str, Callable[[str], tuple[str | None, tuple[Section, ...]]]] = {
    ".txt": parse_plain_text,
    ".md": parse_markdown,
}


def decode_text(raw: bytes, name: str = "text") -> tuple[str, str]:
    """The text of a file's bytes and the encoding used to read it.

    UTF-8 (the byte-order mark dropped) is the format. A file that is not UTF-8 is read, with
    a warning naming it, rather than refused: UTF-16 when it starts with a UTF-16 byte-order
    mark (Notepad's "Unicode"), else Windows-1252 (what Windows editors save as "ANSI"; it
    reads every Latin-1 letter the same), else Latin-1, which reads any byte. Western text
    then reads right, curly quotes and accents included; text in another 8-bit encoding
    would read wrong, which the warning says. Line endings become "\\n".
    """
    encoding = "utf-8"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = exc.start
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            candidates = ("utf-16", "cp1252", "latin-1")
        else:
            candidates = ("cp1252", "latin-1")
        for encoding in candidates:  # latin-1 decodes any byte: the loop always ends in a break
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        label = {"utf-16": "UTF-16", "cp1252": "Windows-1252", "latin-1": "Latin-1"}[encoding]
        log.warning(
            "%s is not UTF-8 text (byte %d); read it as %s. Check its accents and quotes, and "
            "save it as UTF-8 to silence this warning",
            name,
            bad,
            label,
        )
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from exc


def read_text(path: Path) -> str:
    """A corpus file's text: UTF-8, or a warned fallback (decode_text)."""
    return decode_text(_read_bytes(path), str(path))[0]


def corpus_files(corpus_dir: Path) -> list[Path]:
    """The document files of corpus_dir, in a stable order."""
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder {corpus_dir} does not exist; set ASKPAIN_CORPUS_DIR")
    files = sorted(p for p in corpus_dir.iterdir() if p.is_file() and p.suffix.lower() in PARSERS)
    if not files:
        kinds = ", ".join(PARSERS)
        raise CorpusError(f"corpus folder {corpus_dir} holds no documents ({kinds})")
    stems = [p.stem for p in files]
    doubled = sorted({s for s in stems if stems.count(s) > 1})
    if doubled:
        raise CorpusError(f"two corpus files share the document id {doubled[0]!r}; rename one")
    return files


def _parse_metadata(path: Path, raw: bytes | None) -> dict[str, dict]:
    if raw is None:
        return {}
    try:
        data = json.loads(decode_text(raw, str(path))[0])
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CorpusError(f'{path} must map document ids to objects, e.g. {{"doc": {{"title": "…"}}}}')
    return data


def load_metadata(corpus_dir: Path) -> dict[str, dict]:
    path = corpus_dir / METADATA_FILE
    return _parse_metadata(path, _read_bytes(path) if path.exists() else None)


def _document(path: Path, text: str, metadata: dict[str, dict] | None) -> CorpusDocument:
    title, sections = PARSERS[path.suffix.lower()](text)
    meta = (metadata or {}).get(path.stem, {})
    title = meta.get("title") or title or next((s.heading for s in sections if s.heading), None)
    if not title:
        raise CorpusError(
            f"{path.name} has no title line; add one to {METADATA_FILE}, "
            f'e.g. {{"{path.stem}": {{"title": "…"}}}}'
        )
    if not sections:
        raise CorpusError(f"{path.name} has no body text")
    return CorpusDocument(path.stem, title, str(path), text, sections)


def load_document(path: Path, metadata: dict[str, dict] | None = None) -> CorpusDocument:
    return _document(path, read_text(path), metadata)


def load_corpus(corpus_dir: Path) -> list[CorpusDocument]:
    return read_corpus(corpus_dir).documents


@dataclass(frozen=True)
class CorpusRead:
    """The documents and the fingerprint of the very bytes they were parsed from."""

    documents: list[CorpusDocument]
    fingerprint: str  # as corpus_fingerprint()
    encodings: dict[str, str]  # doc id -> encoding, for the documents not in UTF-8
    bank: list[BankQuestion]  # corpus/questions/, for the documents read


def _fingerprint(named: list[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, raw in named:
        digest.update(name.encode() + b"\0" + hashlib.sha256(raw).digest())
    return digest.hexdigest()


def read_corpus(corpus_dir: Path) -> CorpusRead:
    """Read each file once: a file edited during a build cannot give passages of one version
    and a fingerprint of another."""
    paths = corpus_files(corpus_dir)
    raws = {path: _read_bytes(path) for path in paths}
    meta_path = corpus_dir / METADATA_FILE
    meta_raw = _read_bytes(meta_path) if meta_path.exists() else None
    metadata = _parse_metadata(meta_path, meta_raw)
    documents, encodings = [], {}
    for path in paths:
        text, encoding = decode_text(raws[path], str(path))
        documents.append(_document(path, text, metadata))
        if encoding != "utf-8":
            encodings[path.stem] = encoding
    named = [(p.name, raws[p]) for p in paths]
    if meta_raw is not None:
        named.append((meta_path.name, meta_raw))
    bank_raws = [(path, _read_bytes(path)) for path in bank_files(corpus_dir)]
    named += [(f"{QUESTIONS_DIR}/{path.name}", raw) for path, raw in bank_raws]
    ids = {d.doc_id for d in documents}
    bank = [q for path, raw in bank_raws for q in parse_bank(path, raw) if q.doc_id in ids]
    return CorpusRead(documents, _fingerprint(named), encodings, bank)


def corpus_fingerprint(corpus_dir: Path) -> str:
    """sha256 over every document's name and bytes, the metadata file and the question bank:
    any edit changes it."""
    paths = corpus_files(corpus_dir)
    if (corpus_dir / METADATA_FILE).exists():
        paths.append(corpus_dir / METADATA_FILE)
    named = [(p.name, _read_bytes(p)) for p in paths]
    named += [(f"{QUESTIONS_DIR}/{p.name}", _read_bytes(p)) for p in bank_files(corpus_dir)]
    return _fingerprint(named)
