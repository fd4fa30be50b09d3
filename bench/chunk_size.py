"""Choose the passage size by retrieval quality: support@k on evals/retrieval.yaml per size.

Run: .venv/bin/python bench/chunk_size.py   (builds throwaway indexes in a temp folder)
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from askpain.evals.questionset import contains_phrase, load_question_set
from askpain.retrieval.embedding import Embedder
from askpain.retrieval.hybrid import HybridRetriever
from askpain.retrieval.store import build_index, load_index
from askpain.settings import REPO_ROOT, Settings

SIZES = (250, 350, 500, 700, 1000, 1500)


def support_at(retriever: HybridRetriever, items: list[dict], k: int, mode: str = "hybrid") -> float:
    hits = 0
    for item in items:
        found = retriever.search(item["question"], k=30)
        if mode == "dense":
            found = sorted((h for h in found if h.dense_rank), key=lambda h: h.dense_rank)
        elif mode == "lexical":
            found = sorted((h for h in found if h.lexical_rank), key=lambda h: h.lexical_rank)
        hits += any(contains_phrase(h.passage.text, item["expect"]["support"]) for h in found[:k])
    return hits / len(items)


def main() -> None:
    items = load_question_set(REPO_ROOT / "evals" / "retrieval.yaml")
    base = Settings.from_env()
    embedder = Embedder(base.resolved_model_path())
    print(f"{len(items)} questions; support@k = share whose top k passages hold the expected phrase\n")
    print(f"{'chars':>6} {'passages':>8} {'mean len':>8} {'@1':>6} {'@3':>6} {'@5':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            settings = replace(base, index_dir=Path(tmp) / str(size), chunk_chars=size)
            build_index(settings, embedder)
            loaded = load_index(settings)
            retriever = HybridRetriever(loaded.passages, loaded.vectors, embedder)
            mean_len = statistics.mean(len(p.text) for p in loaded.passages)
            at = [support_at(retriever, items, k) for k in (1, 3, 5)]
            print(
                f"{size:>6} {len(loaded.passages):>8} {mean_len:>8.0f} " + " ".join(f"{a:>6.1%}" for a in at)
            )
            if size == base.chunk_chars:
                modes = {m: support_at(retriever, items, 1, m) for m in ("dense", "lexical", "hybrid")}
                chosen = (size, modes)
    size, modes = chosen
    print(f"\nAt {size} chars, support@1 by method: " + ", ".join(f"{m} {v:.1%}" for m, v in modes.items()))


if __name__ == "__main__":
    main()
