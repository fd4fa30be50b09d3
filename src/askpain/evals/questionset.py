"""Question sets (../shared/spec/question-set.md): load YAML or JSON Lines, report bad items clearly."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import yaml

from askpain.errors import AskpainError
from askpain.guard.hygiene import safe_text

EXPECT_FIELDS = {"status", "sources", "support", "red_flags", "no_red_flags", "no_dose", "must_not_say"}
_LIST_FIELDS = ("sources", "support", "red_flags", "must_not_say")


class QuestionSetError(AskpainError):
    """A question set file is malformed; the message names the item and field."""


def _where(path: Path, index: int, item: object) -> str:
    label = item.get("id") if isinstance(item, dict) else None
    return f"{path.name}, item {index + 1}" + (f" (id {label!r})" if label else "")


def load_question_set(path: Path) -> list[dict]:
    """Items with `id`, `question` and a validated `expect` (lists where the spec allows one)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"cannot read {path}: {exc}") from exc
    try:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            items = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise QuestionSetError(f"{path.name} is not valid {path.suffix.lstrip('.').upper()}: {exc}") from exc
    if not isinstance(items, list) or not items:
        raise QuestionSetError(f"{path.name} must hold a non-empty list of items")
    seen: set[str] = set()
    out = []
    for index, item in enumerate(items):
        where = _where(path, index, item)
        if not isinstance(item, dict):
            raise QuestionSetError(f"{where}: an item must be a mapping with id and question")
        if not isinstance(item.get("id"), str | int) or str(item["id"]) in seen:
            raise QuestionSetError(f"{where}: field 'id' must be present and unique")
        if not isinstance(item.get("question"), str):
            raise QuestionSetError(f"{where}: field 'question' must be text")
        expect = item.get("expect") or {}
        if not isinstance(expect, dict):
            raise QuestionSetError(f"{where}: field 'expect' must be a mapping")
        unknown = sorted(set(expect) - EXPECT_FIELDS)
        if unknown:
            raise QuestionSetError(
                f"{where}: unknown field 'expect.{unknown[0]}' (known: {', '.join(sorted(EXPECT_FIELDS))})"
            )
        expect = dict(expect)
        for field in (*_LIST_FIELDS, "status"):
            if isinstance(expect.get(field), str):
                expect[field] = [expect[field]]
        seen.add(str(item["id"]))
        # A lone surrogate ("\udcff" in YAML) could not be written out: read it as U+FFFD.
        out.append(
            {
                **item,
                "id": safe_text(str(item["id"])),
                "question": safe_text(item["question"]),
                "expect": expect,
            }
        )
    return out


def normalize_for_match(text: str) -> str:
    """Case-folded, whitespace collapsed, curly quotes made straight (the spec's comparison)."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"'}))
    return re.sub(r"\s+", " ", text).strip().casefold()


def contains_phrase(text: str, phrases: list[str]) -> bool:
    haystack = normalize_for_match(text)
    return any(normalize_for_match(p) in haystack for p in phrases)
