"""Red-flag message sets for the guardrail: the development split the rules and the classifier
are tuned and trained on (evals/guard/dev/), the frozen check split nothing is tuned on
(evals/guard/check/), and the rule table's own test table (tests/guard/red_flags.yaml).

A set is JSON Lines: {"text": ..., "flags": [ids], "kind": ...} for one message, or
{"turns": [...], "flags": [ids], "kind": "conversation"} for several; flags [] is a near-miss.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from askpain.errors import AskpainError
from askpain.evals.questionset import load_question_set
from askpain.settings import REPO_ROOT

GUARD_SETS = REPO_ROOT / "evals" / "guard"
RULE_TABLE = REPO_ROOT / "tests" / "guard" / "red_flags.yaml"


@dataclass(frozen=True)
class GuardItem:
    turns: tuple[str, ...]  # one message, or a conversation's messages in order
    flags: tuple[str, ...]  # ids that must be raised; () for a near-miss
    kind: str
    source: str  # file:line

    @property
    def text(self) -> str:
        return self.turns[-1]


def load_guard_split(split: str, root: Path = GUARD_SETS) -> list[GuardItem]:
    """Every item of evals/guard/<split>/*.jsonl, in file and line order."""
    files = sorted((root / split).glob("*.jsonl"))
    if not files:
        raise AskpainError(f"no red-flag set in {root / split}; expected *.jsonl files")
    items = []
    for path in files:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                turns = tuple(row["turns"]) if "turns" in row else (row["text"],)
                items.append(GuardItem(turns, tuple(row["flags"]), row.get("kind", ""), f"{path.name}:{n}"))
            except (ValueError, KeyError, TypeError) as exc:
                raise AskpainError(f"{path}:{n}: not a red-flag set line ({exc})") from exc
    return items


def load_rule_table(path: Path = RULE_TABLE) -> list[GuardItem]:
    """The rule table's test rows as items: positives, multi, near-misses, and asked (no alert)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [
        GuardItem((text,), (flag_id,), "table positive", path.name)
        for flag_id, texts in data["positives"].items()
        for text in texts
    ]
    items += [
        GuardItem((row["text"],), tuple(row["expect"]), "table multi", path.name) for row in data["multi"]
    ]
    items += [GuardItem((text,), (), "table near-miss", path.name) for text in data["near_misses"]]
    items += [
        GuardItem((text,), (), "table asked", path.name) for texts in data["asked"].values() for text in texts
    ]
    return items


def training_items() -> list[GuardItem]:
    """What the guardrail's classifier is trained on (scripts/train_guard_classifier.py): the dev
    split, the rule table's rows, and the answer dev sets' questions as everyday messages with
    no red flag. Never the check split, never the eval set."""
    questions = [
        GuardItem((item["question"],), (), "everyday question", name)
        for name in ("retrieval.yaml", "dev_no_answer.yaml")
        for item in load_question_set(REPO_ROOT / "evals" / name)
    ]
    return load_guard_split("dev") + load_rule_table() + questions


def items_digest(items: list[GuardItem]) -> str:
    """sha256 of the items' turns and flags: identifies a training set."""
    body = json.dumps([[list(i.turns), list(i.flags)] for i in items], ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
