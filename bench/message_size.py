"""Guardrail time against message size, 1 KB to 1 MB: it must grow linearly.

    .venv/bin/python bench/message_size.py

Each message is patient-like text full of red-flag words, each one negated (the worst case:
every match needs a verdict, none ends the search), with one sign at the very end. A second
table reads the dev split's own messages, run together, as one long message. "rules" reads
the whole message (no cap); "whole guardrail" is what the chat page runs: the message cut to
the cap (Settings.max_message_chars, 50,000 by default), the rules over all of it, then the
classifier over at most MAX_UNITS sentences.
"""

from __future__ import annotations

import logging
import statistics
import time

from askpain.evals.guardsets import load_guard_split
from askpain.guard.classifier import MAX_UNITS
from askpain.guard.engine import detect_red_flags
from askpain.guard.message import MAX_MESSAGE_CHARS, read_message
from askpain.retrieval.embedding import Embedder
from askpain.settings import Settings

FILLER = (
    "My back is no better and my bladder is fine, no numbness down there, no fever years ago, "
    "the shot site was red but went away. What about physio or the nerve burning? "
)
SIZES_KB = [1, 10, 100, 1000]


def timed(run, rounds: int) -> float:
    values = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        values.append((time.perf_counter() - began) * 1000)
    return statistics.median(values)


def main() -> None:
    logging.disable(logging.WARNING)
    embedder = Embedder(Settings.from_env().resolved_model_path())
    detect_red_flags("warm up: I can't pee", encode=embedder.encode)
    print(
        f"{'size':>8} {'rules ms':>10} {'ms per KB':>10} {'whole guardrail at the cap ms':>30} {'found':>7}"
    )
    for kb in SIZES_KB:
        text = (FILLER * (kb * 1024 // len(FILLER) + 1))[: kb * 1024 - 20] + " I can't pee at all."
        whole = read_message(text, max_chars=len(text) + 1)
        rounds = 5 if kb <= 100 else 1
        rules = timed(lambda whole=whole: detect_red_flags(whole), rounds)
        capped = read_message(text)  # what every entry point reads
        full = timed(lambda capped=capped: detect_red_flags(capped, encode=embedder.encode), rounds)
        found = "cauda_equina" in {f.id for f in detect_red_flags(whole).alerts}
        print(f"{kb:>6} KB {rules:>10.1f} {rules / kb:>10.2f} {full:>30.1f} {str(found):>7}")
    stories = " ".join(t for item in load_guard_split("dev") for t in item.turns)
    print(f"\n{'dev-split messages as one':>26} {'rules ms':>10} {'ms per KB':>10}")
    for kb in (10, 100):
        whole = read_message(stories[: kb * 1024], max_chars=kb * 1024 + 1)
        rules = timed(lambda whole=whole: detect_red_flags(whole), 5)
        print(f"{kb:>23} KB {rules:>10.1f} {rules / kb:>10.2f}")
    print(f"\nmessage cap {MAX_MESSAGE_CHARS:,} characters; the classifier embeds at most {MAX_UNITS} "
          "sentences (those the rules flagged first, then the first ones)")  # fmt: skip
    print("targets: rules <= 50 ms at 100 KB; whole guardrail <= 1 s at the cap")


if __name__ == "__main__":
    main()
