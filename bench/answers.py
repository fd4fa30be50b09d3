"""Warm answer latency (guardrail + retrieval + composition) beside the query-encoding floor.

Run: .venv/bin/python bench/answers.py   (uses the index in index/, rebuilt if needed)
"""

from __future__ import annotations

import statistics
import time

from askpain.answer.pipeline import Askpain
from askpain.evals.questionset import load_question_set
from askpain.settings import REPO_ROOT

ROUNDS = 3


def main() -> None:
    askpain = Askpain.open()
    questions = [i["question"] for i in load_question_set(REPO_ROOT / "evals" / "questions.yaml")]
    for q in questions[:10]:  # warm up
        askpain.ask(q)
    floor, answer = [], []
    for _ in range(ROUNDS):
        for q in questions:
            t = time.perf_counter()
            askpain.embedder.encode([q[:2000] or " "])
            floor.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            askpain.ask(q)
            answer.append((time.perf_counter() - t) * 1000)

    def q(values: list[float], p: int) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1]

    print(f"{len(answer)} answers ({len(questions)} questions of evals/questions.yaml x {ROUNDS}), warm:")
    print(f"{'':24}{'p50 ms':>9}{'p95 ms':>9}")
    print(f"{'encode query (floor)':24}{q(floor, 50):9.2f}{q(floor, 95):9.2f}")
    print(f"{'full answer':24}{q(answer, 50):9.2f}{q(answer, 95):9.2f}")
    print(f"{'answer / floor':24}{q(answer, 50) / q(floor, 50):8.2f}x{q(answer, 95) / q(floor, 95):8.2f}x")
    print("target: p95 <= 50 ms on the 2-core machine:", "met" if q(answer, 95) <= 50 else "MISSED")


if __name__ == "__main__":
    main()
