"""BM25 over passages, for the exact terms patients and documents share ("RFA", "SNRB", "mild")."""

from __future__ import annotations

import logging
import re

import bm25s
import numpy as np
import Stemmer

from askpain.retrieval.embedding import embedding_text
from askpain.types import Passage

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")
# Function words only: "not", "no" and medical words stay searchable.
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


class LexicalIndex:
    """BM25 scores of every passage for a query. Example: LexicalIndex(passages).scores("rfa")."""

    def __init__(self, passages: list[Passage]) -> None:
        self._stemmer = Stemmer.Stemmer("english")
        self._bm25 = bm25s.BM25()
        self._bm25.index([self.tokens(embedding_text(p)) or [""] for p in passages], show_progress=False)
        self._size = len(passages)

    def tokens(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower().replace("’", "'"))
        words = [w.removesuffix("'s") for w in words]
        words = [w for w in words if w not in _STOPWORDS and "'" not in w and not w.isdigit()]
        return self._stemmer.stemWords(words)

    def scores(self, query: str) -> np.ndarray:
        known = [t for t in self.tokens(query) if t in self._bm25.vocab_dict]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
