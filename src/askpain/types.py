"""Data types shared by every stage of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """A run of body text under one heading; heading is None before the first heading."""

    heading: str | None
    start: int
    end: int


@dataclass(frozen=True)
class CorpusDocument:
    """One source document. Offsets everywhere refer to `text`."""

    doc_id: str
    title: str
    path: str
    text: str
    sections: tuple[Section, ...]


@dataclass(frozen=True)
class Span:
    """A sentence inside a document: text[start:end]."""

    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """A retrievable chunk: document text[start:end], never crossing a section boundary."""

    chunk_id: str
    doc_id: str
    title: str
    section: str | None
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]

    def to_json(self) -> dict:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "section": self.section,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "sentences": [[s.start, s.end] for s in self.sentences],
        }

    @classmethod
    def from_json(cls, record: dict) -> Passage:
        return cls(
            chunk_id=record["chunk_id"],
            doc_id=record["doc_id"],
            title=record["title"],
            section=record["section"],
            start=record["start"],
            end=record["end"],
            text=record["text"],
            sentences=tuple(Span(a, b) for a, b in record["sentences"]),
        )

    def sentence_texts(self) -> list[str]:
        """The passage's sentences, verbatim."""
        return [self.text[s.start - self.start : s.end - self.start] for s in self.sentences]


@dataclass(frozen=True)
class SearchHit:
    """A passage with its place in the dense, lexical and fused rankings (rank 1 is best)."""

    passage: Passage
    fused_score: float
    dense_score: float
    lexical_score: float
    dense_rank: int
    lexical_rank: int

    def to_json(self) -> dict:
        record = self.passage.to_json()
        del record["sentences"]
        record.update(
            fused_score=round(self.fused_score, 6),
            dense_score=round(self.dense_score, 6),
            lexical_score=round(self.lexical_score, 6),
            dense_rank=self.dense_rank,
            lexical_rank=self.lexical_rank,
        )
        return record


@dataclass(frozen=True)
class RedFlag:
    """A red-flag rule that fired. asked=False: the patient reports the sign (an alert, listed
    in the record's red_flags); asked=True: they ask about the condition (an info card)."""

    id: str
    urgency: str  # "emergency" or "urgent"
    title: str
    message: str
    matched: str  # the words of the message that triggered it
    asked: bool = False
    backed_by: str | None = None  # a phrase of the corpus passage that backs the warning
    layer: str = "phrase"  # what found it: "phrase", "concept" or "classifier"
    score: float | None = None  # the classifier's probability, when it found it
    someone_else: bool = False  # the sign is another person's, now: the alert speaks to the helper
    turn: int | None = None  # raised from an earlier message of the conversation (its index)


@dataclass(frozen=True)
class Citation:
    """A cited passage; n is the [n] marker used in the answer text."""

    n: int
    passage: Passage
    score: float

    def to_json(self) -> dict:
        p = self.passage
        return {
            "n": self.n,
            "doc_id": p.doc_id,
            "title": p.title,
            "section": p.section,
            "chunk_id": p.chunk_id,
            "passage": p.text,
            "start": p.start,
            "score": round(self.score, 6),
        }


@dataclass(frozen=True)
class ScoredSentence:
    """A corpus sentence considered for an answer, with how well it answers the question."""

    text: str
    passage: Passage
    start: int  # offset in the document
    score: float
    dense: float
    overlap: float
    evidence: float = 0.0  # similarity of the closest bank question pointing here (0: none)
    asked: str = ""  # that bank question
    words: frozenset[str] = frozenset()  # its terms, its section's and its bank questions'


@dataclass(frozen=True)
class Answer:
    """One reply: what the patient sees (answer, Markdown) and what backs it."""

    question: str
    status: str  # answered | no_answer | out_of_scope | needs_clinician
    answer: str
    citations: tuple[Citation, ...]
    red_flags: tuple[RedFlag, ...]  # alerts: signs the patient reports
    red_flag_citations: tuple[tuple[str, int], ...] = ()  # (alert or card id, citation n)
    cards: tuple[RedFlag, ...] = ()  # conditions asked about
    sentences: tuple[tuple[str, int], ...] = ()  # (quoted sentence, citation n)
    body: str = ""  # the middle of `answer` (between alerts and the help-now note), Markdown
    notes: tuple[str, ...] = ()  # why the reply looks as it does (empty, long, language, errors)
    guardrail_failed: bool = False
    latency_ms: float = 0.0
    trace: dict | None = None  # guardrail, scope and retrieval details for staff

    def to_record(self) -> dict:
        """The JSON record of ../shared/spec/answer.schema.json (plus a few extra fields)."""
        cited = dict(self.red_flag_citations)
        return {
            "question": self.question,
            "status": self.status,
            "answer": self.answer,
            "citations": [c.to_json() for c in self.citations],
            "red_flags": [
                {
                    "id": f.id,
                    "urgency": f.urgency,
                    "message": f.message,
                    "matched": f.matched,
                    "citation": cited.get(f.id),
                    "layer": f.layer,
                    **({"score": f.score} if f.score is not None else {}),
                    **({"someone_else": True} if f.someone_else else {}),
                    **({"from_turn": f.turn} if f.turn is not None else {}),
                }
                for f in self.red_flags
            ],
            "warning_cards": [{"id": c.id, "urgency": c.urgency, "message": c.message} for c in self.cards],
            "notes": list(self.notes),
            "guardrail_failed": self.guardrail_failed,
            "latency_ms": round(self.latency_ms, 3),
        }
