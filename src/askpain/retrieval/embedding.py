"""The sentence-transformers model, loaded from a local path only (never from a hub)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from askpain.errors import ModelLoadError
from askpain.types import Passage

# Files whose bytes identify the model; the weights are identified by size (hashing
# 90 MB on every start would cost more than the check is worth).
_IDENTITY_FILES = ("config.json", "modules.json", "tokenizer.json", "sentence_bert_config.json")


def model_fingerprint(model_path: Path) -> str:
    """A cheap identity of a local model folder: small config files by content, the rest by size."""
    if not model_path.is_dir():
        raise ModelLoadError(f"model folder {model_path} does not exist; set ASKPAIN_MODEL_PATH")
    digest = hashlib.sha256()
    for path in sorted(p for p in model_path.rglob("*") if p.is_file()):
        name = path.relative_to(model_path).as_posix()
        digest.update(name.encode() + b"\0")
        if path.name in _IDENTITY_FILES:
            digest.update(path.read_bytes())
        else:
            digest.update(str(path.stat().st_size).encode())
    return digest.hexdigest()


def embedding_text(passage: Passage) -> str:
    """What gets embedded: the section heading gives a short passage its topic."""
    return f"{passage.section}. {passage.text}" if passage.section else passage.text


class Embedder:
    """Normalized sentence embeddings. Example: Embedder(path).encode(["what is RFA?"])."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = Path(model_path)
        self.fingerprint = model_fingerprint(self.model_path)
        # Offline by construction: a missing file must fail here, not trigger a download.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()

            self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"cannot load the embedding model from {self.model_path}: {exc}") from exc
        self.dimension = int(self._model.get_embedding_dimension())

    @property
    def name(self) -> str:
        return self.model_path.name if self.model_path.name != "model" else self.model_path.parent.name

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """float32 rows of unit length: inner product equals cosine similarity."""
        vectors = self._model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)
