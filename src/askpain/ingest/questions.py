"""The question bank beside the corpus: corpus/questions/<doc-id>.yaml lists, per section,
questions patients ask that the section answers, each tied to the sentences that answer it
(copied word for word). Indexed with the passages, a patient question close to a bank question
is strong evidence for that question's sentences (see answer/evidence.py).

Example file:
    doc_id: epidural-injection-doesnt-work
    sections:
    - section: Why an epidural may not work
      questions:
      - question: why didnt my epidural work
        answer:
        - A small percentage of patients are biological non-responders to corticosteroids.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from askpain.errors import CorpusError
from askpain.types import Passage

log = logging.getLogger(__name__)

QUESTIONS_DIR = "questions"
MAX_ANSWER_SENTENCES = 3


@dataclass(frozen=True)
class BankQuestion:
    """One bank question and the sentences (as written in the bank) that answer it."""

    doc_id: str
    section: str
    question: str
    answer: tuple[str, ...]


@dataclass(frozen=True)
class IndexedQuestion:
    """A bank question tied to the indexed sentences that answer it, best first."""

    question: str
    doc_id: str
    section: str
    sentences: tuple[tuple[str, int], ...]  # (chunk_id, start of the sentence in the document)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "doc_id": self.doc_id,
            "section": self.section,
            "sentences": [list(s) for s in self.sentences],
        }

    @classmethod
    def from_json(cls, record: dict) -> IndexedQuestion:
        return cls(
            question=record["question"],
            doc_id=record["doc_id"],
            section=record["section"],
            sentences=tuple((str(c), int(s)) for c, s in record["sentences"]),
        )


def bank_files(corpus_dir: Path) -> list[Path]:
    """The bank files, in a stable order; none when the folder is absent (the bank is optional)."""
    folder = corpus_dir / QUESTIONS_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".yaml", ".yml"))


def parse_bank(path: Path, raw: bytes) -> list[BankQuestion]:
    """A bank file's questions. A malformed file raises CorpusError naming the file and item."""
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
        doc_id = str(data["doc_id"])
        out = []
        for section in data["sections"]:
            for item in section["questions"]:
                answer = tuple(str(a) for a in item["answer"])
                if not str(item["question"]).strip() or not 1 <= len(answer) <= MAX_ANSWER_SENTENCES:
                    raise ValueError(f"question {item.get('question')!r} needs 1-3 answer sentences")
                out.append(BankQuestion(doc_id, str(section["section"]), str(item["question"]), answer))
    except (UnicodeDecodeError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise CorpusError(
            f"{path} is not a question bank ({type(exc).__name__}: {exc}); see corpus/questions/"
        ) from exc
    return out


def _normal(text: str) -> str:
    return " ".join(text.split())


def tie_to_passages(bank: Sequence[BankQuestion], passages: Sequence[Passage]) -> list[IndexedQuestion]:
    """Each bank question with its answer sentences found in the passages of its document.
    A question whose sentence is not in the documents (edited since) is left out, with a
    warning: a stale bank entry must never point at the wrong sentence."""
    where: dict[tuple[str, str], tuple[str, int]] = {}
    for p in passages:
        for span, text in zip(p.sentences, p.sentence_texts(), strict=True):
            where.setdefault((p.doc_id, _normal(text)), (p.chunk_id, span.start))
    tied, dropped = [], []
    for q in bank:
        found = [where.get((q.doc_id, _normal(a))) for a in q.answer]
        if None in found:
            found = [_containing(q.doc_id, a, where) for a in q.answer]
        if None in found:
            dropped.append(q)
            continue
        tied.append(IndexedQuestion(q.question, q.doc_id, q.section, tuple(found)))  # type: ignore[arg-type]
    if dropped:
        log.warning(
            "%d bank question(s) left out: an answer sentence is not in %s (first: %r)",
            len(dropped), dropped[0].doc_id, dropped[0].question,
        )  # fmt: skip
    return tied


def _containing(doc_id: str, answer: str, where: dict) -> tuple[str, int] | None:
    """The indexed sentence holding `answer` (the bank quoted part of a sentence), if one does."""
    wanted = _normal(answer)
    for (doc, text), place in where.items():
        if doc == doc_id and wanted in text:
            return place
    return None


def unasked_passages(passages: Sequence[Passage], tied: Sequence[IndexedQuestion]) -> list[Passage]:
    """Passages no bank question points into: staff should add questions for them."""
    asked = {chunk_id for q in tied for chunk_id, _ in q.sentences}
    return [p for p in passages if p.chunk_id not in asked]
