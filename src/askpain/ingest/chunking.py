"""Split documents into passages of whole sentences that never cross a section boundary."""

from __future__ import annotations

import re
from collections.abc import Iterable

from askpain.types import CorpusDocument, Passage, Span

# A sentence ends at . ! or ? (plus closing quotes or brackets) followed by space and
# a capital, digit or opening quote; a line break ends one too when the document
# puts one sentence per line or a list item follows.
# Bump when the splitting rules change: an index built by other rules is stale.
CHUNKER_VERSION = 1

_BOUNDARY = re.compile(
    r"""(?<=[.!?])["'”’)\]]*\s+(?=["'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*(?:[-*+•]|\d+[.)])\s)"""
)
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Dr.", "Mr.", "Mrs.", "Ms.", "St.", "approx.", "No.")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def split_sentences(text: str, offset: int = 0) -> list[Span]:
    """Sentence spans of text (shifted by offset), trimmed of surrounding whitespace."""
    spans, start = [], 0
    for match in _BOUNDARY.finditer(text):
        head = text[start : match.start()]
        if head.rstrip().endswith(_ABBREVIATIONS):
            continue
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        piece = text[a:b]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece.rstrip())
        if piece.strip():
            out.append(Span(offset + a + lead, offset + a + trail))
    return out


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Paragraph spans inside text[start:end]: blank-line separated, or one per line when
    the section has no blank lines (documents that use single newlines)."""
    body = text[start:end]
    separator = _PARAGRAPH_BREAK if _PARAGRAPH_BREAK.search(body) else re.compile(r"\n")
    out, pos = [], 0
    for match in separator.finditer(body):
        out.append((start + pos, start + match.start()))
        pos = match.end()
    out.append((start + pos, end))
    return [(a, b) for a, b in out if text[a:b].strip()]


def _pack(sentences: list[Span], paragraph_ends: set[int], max_chars: int) -> Iterable[list[Span]]:
    """Group sentences into runs of at most max_chars (a longer sentence stands alone),
    closing a run early at a paragraph end when the next paragraph would not fit whole."""
    run: list[Span] = []
    for i, sentence in enumerate(sentences):
        if run and sentence.end - run[0].start > max_chars:
            yield run
            run = []
        run.append(sentence)
        if sentence.end in paragraph_ends and i + 1 < len(sentences):
            next_paragraph_end = next(s.end for s in sentences[i + 1 :] if s.end in paragraph_ends)
            if next_paragraph_end - run[0].start > max_chars:
                yield run
                run = []
    if run:
        yield run


def chunk_document(document: CorpusDocument, max_chars: int) -> list[Passage]:
    """Passages of document in reading order; chunk ids are "<doc_id>:<nnn>", stable per corpus."""
    passages: list[Passage] = []
    for section in document.sections:
        sentences: list[Span] = []
        paragraph_ends: set[int] = set()
        for a, b in _paragraphs(document.text, section.start, section.end):
            found = split_sentences(document.text[a:b], offset=a)
            sentences.extend(found)
            if found:
                paragraph_ends.add(found[-1].end)
        for run in _pack(sentences, paragraph_ends, max_chars):
            start, end = run[0].start, run[-1].end
            passages.append(
                Passage(
                    chunk_id=f"{document.doc_id}:{len(passages):03d}",
                    doc_id=document.doc_id,
                    title=document.title,
                    section=section.heading,
                    start=start,
                    end=end,
                    text=document.text[start:end],
                    sentences=tuple(run),
                )
            )
    return passages


def chunk_corpus(documents: list[CorpusDocument], max_chars: int) -> list[Passage]:
    return [p for document in documents for p in chunk_document(document, max_chars)]
