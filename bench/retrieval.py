"""Retrieval speed: index build, passages/s, and search latency beside the query-encoding floor.

Run: .venv/bin/python bench/retrieval.py   (builds into a temp folder; prints figures and ratios)
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from askpain.evals.questionset import load_question_set
from askpain.retrieval.embedding import Embedder
from askpain.retrieval.hybrid import HybridRetriever
from askpain.retrieval.store import build_index, load_index
from askpain.settings import REPO_ROOT, Settings

ROUNDS = 5


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    base = Settings.from_env()
    t = time.perf_counter()
    embedder = Embedder(base.resolved_model_path())
    print(f"model load            {time.perf_counter() - t:8.2f} s")
    questions = [i["question"] for i in load_question_set(REPO_ROOT / "evals" / "retrieval.yaml")]

    with tempfile.TemporaryDirectory() as tmp:
        settings = replace(base, index_dir=Path(tmp))
        cold = build_index(settings, embedder)
        warm = build_index(settings, embedder)
        texts = cold.embedded + cold.sentences_embedded
        print(
            f"index build (cold)    {cold.seconds:8.2f} s  {cold.passages} passages + "
            f"{cold.sentences_embedded} sentences embedded, {texts / cold.seconds:.0f} texts/s, "
            f"{cold.passages / cold.seconds:.0f} passages/s"
        )
        print(f"index build (no edit) {warm.seconds:8.3f} s  ({warm.reused} vectors reused)")
        t = time.perf_counter()
        loaded = load_index(settings)
        print(f"index load + verify   {(time.perf_counter() - t) * 1000:8.1f} ms")
        retriever = HybridRetriever(loaded.passages, loaded.vectors, embedder)

        for q in questions[:5]:  # warm up
            retriever.search(q)
        encode_ms, search_ms = [], []
        for _ in range(ROUNDS):
            for q in questions:
                t = time.perf_counter()
                embedder.encode([q])
                encode_ms.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                retriever.search(q, k=5)
                search_ms.append((time.perf_counter() - t) * 1000)

    n = len(search_ms)
    print(f"\n{n} searches ({len(questions)} questions x {ROUNDS}), same model, same run:")
    print(f"{'':22}{'p50 ms':>9}{'p95 ms':>9}")
    enc50, enc95 = percentile(encode_ms, 50), percentile(encode_ms, 95)
    s50, s95 = percentile(search_ms, 50), percentile(search_ms, 95)
    print(f"{'encode query (floor)':22}{enc50:9.2f}{enc95:9.2f}")
    print(f"{'hybrid search':22}{s50:9.2f}{s95:9.2f}")
    print(f"{'search / floor':22}{s50 / enc50:8.2f}x{s95 / enc95:8.2f}x")
    print(f"{'search - floor':22}{s50 - enc50:9.2f}{s95 - enc95:9.2f}   (FAISS + BM25 + fusion)")


if __name__ == "__main__":
    main()
