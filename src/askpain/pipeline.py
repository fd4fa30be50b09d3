"""One pipeline for the CLI, the chat page and the evals: guardrail → retrieval → composition.

Example:
    askpain = Askpain.open(Settings.from_env())
    answer = askpain.ask("How long does RFA relief last?")
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

import numpy as np
import yaml

from askpain.compose import Situation, compose_answer, default_wording
from askpain.embedding import Embedder
from askpain.guardrail import backing_passage, detect_red_flags
from askpain.retriever import HybridRetriever
from askpain.scope import classify_scope
from askpain.settings import Settings
from askpain.store import LoadedIndex, open_index
from askpain.textnorm import Corrector, canonicalize, clean_message, is_probably_english
from askpain.types import Answer, ScoredSentence

log = logging.getLogger(__name__)

# Sentences are drawn from this many top passages.
CANDIDATE_PASSAGES = 6
# A sentence's score: its own similarity to the question, its passage's, and the share of
# the question's terms it contains. Tuned on evals/retrieval.yaml (bench/answer_tuning.py).
WEIGHTS = {"sentence": 0.6, "passage": 0.25, "overlap": 0.15}


@dataclass(frozen=True)
class QueryTerms:
    synonyms: tuple[tuple[re.Pattern, str], ...]
    generic: frozenset[str]


@cache
def default_query_terms() -> QueryTerms:
    data = yaml.safe_load(
        (resources.files("askpain") / "data" / "query_terms.yaml").read_text(encoding="utf-8")
    )
    synonyms = tuple(
        (re.compile(rf"(?<![\w']){pattern}(?![\w'])"), words) for pattern, words in data["synonyms"].items()
    )
    return QueryTerms(synonyms, frozenset(data["generic"].split()))


def expand_query(text: str, terms: QueryTerms, spelling: Corrector | None = None) -> str:
    """The message plus the documents' words for the patient's words: synonyms ("gel shots" ->
    hyaluronic) and spelling ("exercizes" -> exercises). Only adds words, never removes any."""
    canonical = canonicalize(text)
    extra = [words for pattern, words in terms.synonyms if pattern.search(canonical.text)]
    if spelling is not None:
        extra += [fixed for w in canonical.tokens if (fixed := spelling.correct(w)) != w]
    return " ".join([text, *extra])


class Askpain:
    def __init__(self, loaded: LoadedIndex, embedder: Embedder) -> None:
        self.index = loaded
        self.embedder = embedder
        self.retriever = HybridRetriever(loaded.passages, loaded.vectors, embedder)
        self._sentences = loaded.sentence_vectors.reconstruct_n(0, loaded.sentence_vectors.ntotal)
        # Row of each sentence in the sentence index, and its search terms, computed once.
        self._row_of: dict[tuple[str, int], int] = {}
        self._sentence_terms: list[frozenset[str]] = []
        for p in loaded.passages:
            for span, text in zip(p.sentences, p.sentence_texts(), strict=True):
                self._row_of[(p.chunk_id, span.start)] = len(self._sentence_terms)
                self._sentence_terms.append(frozenset(self.retriever.tokens(text)))
        self.wording = default_wording()
        self.terms = default_query_terms()
        tokens = self.retriever.tokens
        # Words the documents use (stemmed): a question whose topic word is none of these
        # and no everyday word is likely one the documents do not answer.
        self._known = set(tokens(" ".join(f"{p.title} {p.section or ''} {p.text}" for p in loaded.passages)))
        self._known |= set(tokens(" ".join(self.terms.generic)))
        words = {w.lower() for p in loaded.passages for w in re.findall(r"[A-Za-z]+", p.text)}
        self.spelling = Corrector(words)
        self._suggestion_vectors = embedder.encode(list(self.wording.suggestions))

    @classmethod
    def open(
        cls, settings: Settings | None = None, on_rebuild: Callable[[str], None] = lambda reason: None
    ) -> Askpain:
        """Load the model and a verified index (rebuilt first when missing, stale or damaged)."""
        settings = settings or Settings.from_env()
        embedder = Embedder(settings.resolved_model_path())
        return cls(open_index(settings, lambda: embedder, on_rebuild=on_rebuild), embedder)

    def _similarity(self, a: ScoredSentence, b: ScoredSentence) -> float:
        va = self._sentences[self._row_of[(a.passage.chunk_id, a.start)]]
        vb = self._sentences[self._row_of[(b.passage.chunk_id, b.start)]]
        return float(va @ vb)

    def unknown_terms(self, text: str, ignore: tuple[str, ...] = ()) -> list[str]:
        """Topic words of a question that the documents never use, after spelling correction,
        and that no synonym maps onto the documents' words. Words in `ignore` (the red-flag
        words the guardrail already answered) do not count."""
        canonical = canonicalize(text, self.spelling.correct)
        mapped = {
            stem
            for pattern, _ in self.terms.synonyms
            for match in pattern.finditer(canonical.text)
            for stem in self.retriever.tokens(match.group())
        }
        ignored = set(self.retriever.tokens(" ".join(ignore)))
        return [
            t
            for t in self.retriever.tokens(canonical.text)
            if t not in self._known and t not in mapped and t not in ignored
        ]

    def _candidates(self, text: str, query_vector: np.ndarray):
        hits = self.retriever.search(text, k=CANDIDATE_PASSAGES, query_vector=query_vector)
        terms = set(self.retriever.tokens(text))
        out = []
        for hit in hits:
            p = hit.passage
            for sentence, span in zip(p.sentence_texts(), p.sentences, strict=True):
                row = self._row_of[(p.chunk_id, span.start)]
                dense = float(self._sentences[row] @ query_vector[0])
                overlap = len(terms & self._sentence_terms[row]) / len(terms) if terms else 0.0
                score = (
                    WEIGHTS["sentence"] * dense
                    + WEIGHTS["passage"] * hit.dense_score
                    + WEIGHTS["overlap"] * overlap
                )
                out.append(ScoredSentence(sentence, p, span.start, score, dense, overlap))
        return hits, out

    def _suggestions(self, query_vector: np.ndarray, n: int = 3) -> tuple[str, ...]:
        scores = self._suggestion_vectors @ query_vector[0]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:n]
        return tuple(self.wording.suggestions[i] for i in order)

    def ask(self, question: str) -> Answer:
        """Answer one message. Red flags are found first and are in every reply."""
        began = time.perf_counter()
        cleaned = clean_message(question)
        guard = detect_red_flags(cleaned.text)
        backing = []
        for flag in (*guard.alerts, *guard.cards):
            passage = backing_passage(flag, self.index.passages)
            if passage is not None:
                backing.append((flag.id, passage))
        situation = Situation(question, cleaned, guard, backing=tuple(backing))
        trace: dict = {"guardrail": list(guard.trace)}
        if cleaned.text and not is_probably_english(cleaned.text):
            situation = replace(situation, other_language=True)
        elif cleaned.text:
            try:
                query = expand_query(cleaned.answer_text, self.terms, self.spelling)
                query_vector = self.embedder.encode([query])
                hits, candidates = self._candidates(query, query_vector)
                best = max((h.dense_score for h in hits), default=0.0)
                scope = classify_scope(cleaned.answer_text, best)
                unknown = self.unknown_terms(cleaned.answer_text, tuple(t["words"] for t in guard.trace))
                situation = replace(
                    situation,
                    scope=scope,
                    candidates=tuple(candidates),
                    suggestions=self._suggestions(query_vector),
                    unknown_terms=tuple(unknown),
                )
                trace.update(
                    scope={"status": scope.status, "reason": scope.reason, "matched": scope.matched},
                    passages=[h.to_json() for h in hits],
                    sentences=[
                        {"text": c.text, "chunk_id": c.passage.chunk_id, "score": round(c.score, 4),
                         "dense": round(c.dense, 4), "overlap": round(c.overlap, 3)}
                        for c in sorted(candidates, key=lambda c: -c.score)[:10]
                    ],
                )  # fmt: skip
            except Exception:  # the alerts must still reach the patient; log for staff
                log.exception("retrieval failed")
                situation = replace(situation, retrieval_failed=True)
        answer = compose_answer(situation, self._similarity, self.wording)
        latency = (time.perf_counter() - began) * 1000
        return replace(answer, latency_ms=latency, trace=trace)
