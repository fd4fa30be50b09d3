"""One pipeline for the CLI, the chat page and the evals: guard → retrieval → composition.
It only orchestrates: each stage lives in its own module.

Example:
    askpain = Askpain.open(Settings.from_env())
    answer = askpain.ask("How long does RFA relief last?")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np

from askpain.answer.compose import Situation, compose_answer, default_wording
from askpain.answer.evidence import QuestionBank
from askpain.answer.query import DocumentVocabulary, default_query_terms, expand_query, is_follow_up
from askpain.answer.sentences import SentenceScorer, amounts_asked, rank, select_sentences, uncovered
from askpain.guard.engine import (
    EARLIER_TURNS,
    GuardrailResult,
    backing_passage,
    detect_in_conversation,
    detect_red_flags,
)
from askpain.guard.message import MAX_MESSAGE_CHARS, is_probably_english, read_message
from askpain.guard.scope import classify_scope
from askpain.retrieval.embedding import Embedder
from askpain.retrieval.hybrid import HybridRetriever
from askpain.retrieval.store import LoadedIndex, open_index
from askpain.settings import Settings
from askpain.types import Answer

log = logging.getLogger(__name__)

# Sentences are drawn from this many top passages.
CANDIDATE_PASSAGES = 6


class Askpain:
    def __init__(
        self, loaded: LoadedIndex, embedder: Embedder, max_message_chars: int = MAX_MESSAGE_CHARS
    ) -> None:
        self.index = loaded
        self.max_message_chars = max_message_chars
        self.embedder = embedder
        self.retriever = HybridRetriever(loaded.passages, loaded.vectors, embedder)
        sentence_vectors = loaded.sentence_vectors.reconstruct_n(0, loaded.sentence_vectors.ntotal)
        self.scorer = SentenceScorer(
            loaded.passages, sentence_vectors, self.retriever.tokens, loaded.questions
        )
        asked = loaded.question_vectors.reconstruct_n(0, len(loaded.questions))
        self.bank = QuestionBank(loaded.questions, asked)
        self.wording = default_wording()
        self.terms = default_query_terms()
        # Words the documents use: a question whose topic word is none of these and no
        # everyday word is likely one the documents do not answer.
        self.vocabulary = DocumentVocabulary(
            loaded.passages, self.terms, self.retriever.tokens, [q.question for q in loaded.questions]
        )
        self._suggestion_vectors = embedder.encode(list(self.wording.suggestions))
        # Earlier messages of a conversation are checked again on every turn: remember the
        # last few results (in memory only, never on disk).
        self._detect = lru_cache(maxsize=256)(self._check)

    def _check(self, text: str) -> GuardrailResult:
        """The guardrail on one text: rules, then the classifier's second opinion."""
        return detect_red_flags(read_message(text, self.max_message_chars), encode=self.embedder.encode)

    @classmethod
    def open(
        cls, settings: Settings | None = None, on_rebuild: Callable[[str], None] = lambda reason: None
    ) -> Askpain:
        """Load the model and a verified index (rebuilt first when missing, stale or damaged)."""
        settings = settings or Settings.from_env()
        embedder = Embedder(settings.resolved_model_path())
        loaded = open_index(settings, lambda: embedder, on_rebuild=on_rebuild)
        return cls(loaded, embedder, settings.max_message_chars)

    def _suggestions(self, query_vector: np.ndarray, n: int = 3) -> tuple[str, ...]:
        scores = self._suggestion_vectors @ query_vector[0]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:n]
        return tuple(self.wording.suggestions[i] for i in order)

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        """Answer one message; `history` holds the patient's earlier messages of the same
        conversation, oldest first. Red flags are found first and are in every reply, those of
        earlier messages included."""
        began = time.perf_counter()
        message = read_message(question, self.max_message_chars)
        turns = [*history[-EARLIER_TURNS:], message.text]
        current = detect_red_flags(message, encode=self.embedder.encode)
        guard = detect_in_conversation(turns, self._detect, current=current)
        backing = []
        for flag in (*guard.alerts, *guard.cards):
            passage = backing_passage(flag, self.index.passages)
            if passage is not None:
                backing.append((flag.id, passage))
        situation = Situation(message, guard, backing=tuple(backing))
        trace: dict = {"guardrail": list(guard.trace)}
        if message.text and not is_probably_english(message.text):
            situation = replace(situation, other_language=True)
        elif message.text:
            try:
                situation, found = self._retrieve(situation, history[-1:])
                trace.update(found)
            except Exception:  # the alerts must still reach the patient; log for staff
                log.exception("retrieval failed")
                situation = replace(situation, retrieval_failed=True)
        answer = compose_answer(situation, self.wording)
        latency = (time.perf_counter() - began) * 1000
        return replace(answer, latency_ms=latency, trace=trace)

    def _retrieve(self, situation: Situation, earlier: Sequence[str] = ()) -> tuple[Situation, dict]:
        """Search, score sentences and decide scope; the situation gains what was found. A short
        follow-up is read together with the patient's message before it (`earlier`)."""
        message, guard = situation.message, situation.guard
        amounts = amounts_asked(message.answer_canonical.text)  # asked by this message itself
        follow_up = is_follow_up(message.answer_canonical, earlier)
        if follow_up:
            message = read_message(f"{earlier[-1]} {message.answer_text}", self.max_message_chars)
        canonical = message.answer_canonical
        query = expand_query(message.answer_text, canonical, self.terms, self.vocabulary.spelling)
        query_vector = self.embedder.encode([query])
        hits = self.retriever.search(query, k=CANDIDATE_PASSAGES, query_vector=query_vector)
        evidence = self.bank.evidence(query_vector)
        candidates = self.scorer.score(hits, set(self.retriever.tokens(query)), query_vector, evidence)
        best = max((h.dense_score for h in hits), default=0.0)
        scope = classify_scope(canonical, best, best_question=evidence.best())
        flagged = tuple(t["words"] for t in guard.trace if "words" in t)  # answered by the guard
        unknown = self.vocabulary.unknown_terms(canonical, flagged)
        topic = self.vocabulary.topic_terms(canonical, flagged)
        chosen = select_sentences(candidates, self.scorer.similarity, topic, amounts)
        ranked = sorted(candidates, key=lambda c: (-rank(c), c.passage.chunk_id, c.start))
        situation = replace(
            situation, scope=scope, chosen=tuple(chosen), suggestions=self._suggestions(query_vector)
        )
        trace = {
            "scope": {"status": scope.status, "reason": scope.reason, "matched": scope.matched},
            "passages": [h.to_json() for h in hits],
            "sentences": [
                {"text": c.text, "chunk_id": c.passage.chunk_id, "rank": round(rank(c), 4),
                 "score": round(c.score, 4), "dense": round(c.dense, 4), "overlap": round(c.overlap, 3),
                 "evidence": round(c.evidence, 4), "bank_question": c.asked}
                for c in ranked[:10]
            ],
            "unknown_terms": unknown,
            "uncovered_terms": uncovered(topic, chosen or ranked[:2]),
            "amounts_asked": list(amounts),
            "follow_up": follow_up,
        }  # fmt: skip
        return situation, trace
