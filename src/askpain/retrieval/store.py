"""index/ on disk: build it atomically, verify it on load, never serve a stale or damaged one.

Layout: manifest.json names the current vectors-<hash>.faiss (one row per passage),
sentences-<hash>.faiss (one row per sentence, for quoting) and passages-<hash>.json,
with their sha256. Data files are written first under new names, then the manifest is
replaced in one os.replace: a build killed half way leaves the previous index whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from askpain.errors import (
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexUnusableError,
)
from askpain.ingest.chunking import CHUNKER_VERSION, chunk_corpus
from askpain.ingest.corpus import corpus_fingerprint, load_corpus
from askpain.retrieval.embedding import Embedder, embedding_text, model_fingerprint
from askpain.settings import Settings
from askpain.types import Passage

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_DATA_FILES = ("vectors", "sentences", "passages")
_REQUIRED_PASSAGE_FIELDS = ("chunk_id", "doc_id", "title", "section", "start", "end", "text", "sentences")


@dataclass(frozen=True)
class LoadedIndex:
    manifest: dict
    passages: list[Passage]
    vectors: faiss.Index  # row i is passages[i]
    sentence_vectors: faiss.Index  # rows follow the passages' sentences in order


@dataclass(frozen=True)
class BuildReport:
    documents: int
    passages: int
    embedded: int  # passages whose text was new and had to be encoded
    reused: int  # passages whose vectors came from the previous index
    sentences_embedded: int
    model: str
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write_atomic(target: Path, write: Callable[[Path], None]) -> None:
    """write(tmp) then fsync and rename over target: readers see the old file or the new one."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes 0600; the server may run as another user
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _chunking_settings(settings: Settings) -> dict:
    return {"max_chars": settings.chunk_chars, "chunker_version": CHUNKER_VERSION}


# --- loading and verifying -------------------------------------------------------------


def read_manifest(index_dir: Path) -> dict:
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"no index in {index_dir}; run `askpain index` to build it")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = manifest["files"]
        for key in _DATA_FILES:
            files[key]["name"], files[key]["sha256"]  # noqa: B018 - presence check
        manifest["model"]["fingerprint"], manifest["corpus_sha256"]  # noqa: B018
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"{path} is unreadable ({type(exc).__name__}); run `askpain index`") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(
            f"{path} has format version {manifest.get('format_version')!r}, this askpain reads "
            f"{FORMAT_VERSION}; run `askpain index`"
        )
    return manifest


def _verified_file(index_dir: Path, entry: dict) -> Path:
    path = index_dir / Path(entry["name"]).name  # a manifest may not point outside index/
    if not path.is_file():
        raise IndexCorruptError(f"{path} is missing; run `askpain index`")
    if _sha256(path) != entry["sha256"]:
        raise IndexCorruptError(
            f"{path} does not match its checksum in {MANIFEST} (truncated or altered); run `askpain index`"
        )
    return path


def check_fresh(manifest: dict, settings: Settings) -> None:
    """Raise IndexStaleError naming what changed since the index was built."""
    if manifest["corpus_sha256"] != corpus_fingerprint(settings.corpus_dir):
        raise IndexStaleError(
            f"{settings.index_dir} was built from a different corpus ({settings.corpus_dir} "
            "changed since); run `askpain index`"
        )
    if manifest["model"]["fingerprint"] != model_fingerprint(settings.resolved_model_path()):
        raise IndexStaleError(
            f"{settings.index_dir} was built with the model {manifest['model'].get('path')}, "
            f"not {settings.resolved_model_path()}; run `askpain index`"
        )
    if manifest.get("chunking") != _chunking_settings(settings):
        raise IndexStaleError(
            f"{settings.index_dir} was built with passage settings {manifest.get('chunking')}, "
            f"not {_chunking_settings(settings)}; run `askpain index`"
        )


def _read_faiss(path: Path, rows: int, dimension: int) -> faiss.Index:
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorruptError(f"{path} is not a FAISS index; run `askpain index`") from exc
    if (index.ntotal, index.d) != (rows, dimension):
        raise IndexCorruptError(
            f"{path.parent} is inconsistent: {path.name} has {index.ntotal} vectors of dimension "
            f"{index.d}, expected {rows} of {dimension}; run `askpain index`"
        )
    return index


def _read_files(index_dir: Path, manifest: dict) -> tuple[list[Passage], faiss.Index, faiss.Index]:
    paths = {key: _verified_file(index_dir, manifest["files"][key]) for key in _DATA_FILES}
    try:
        records = json.loads(paths["passages"].read_text(encoding="utf-8"))["passages"]
        missing = [f for r in records for f in _REQUIRED_PASSAGE_FIELDS if f not in r]
        passages = [] if missing else [Passage.from_json(r) for r in records]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise IndexCorruptError(f"{paths['passages']} is unreadable ({exc}); run `askpain index`") from exc
    if missing:
        raise IndexCorruptError(f"{paths['passages']} lacks the field {missing[0]!r}; run `askpain index`")
    if len(passages) != manifest.get("passage_count"):
        raise IndexCorruptError(
            f"{index_dir} is inconsistent: {len(passages)} passages, manifest says "
            f"{manifest.get('passage_count')}; run `askpain index`"
        )
    dimension = manifest["model"].get("dimension")
    vectors = _read_faiss(paths["vectors"], len(passages), dimension)
    sentences = _read_faiss(paths["sentences"], sum(len(p.sentences) for p in passages), dimension)
    return passages, vectors, sentences


def load_index(settings: Settings) -> LoadedIndex:
    """Load and verify index/. Raises an IndexUnusableError subclass that names the cause."""
    manifest = read_manifest(settings.index_dir)
    check_fresh(manifest, settings)
    passages, vectors, sentences = _read_files(settings.index_dir, manifest)
    return LoadedIndex(manifest, passages, vectors, sentences)


# --- building ----------------------------------------------------------------------------


def _texts(passages: list[Passage]) -> dict[str, list[str]]:
    """What each vector file embeds, row by row."""
    return {
        "vectors": [embedding_text(p) for p in passages],
        "sentences": [text for p in passages for text in p.sentence_texts()],
    }


def _previous_vectors(settings: Settings, fingerprint: str) -> dict[str, np.ndarray]:
    """Vectors of the current index by hash of the embedded text, to skip re-encoding it."""
    try:
        manifest = read_manifest(settings.index_dir)
        if manifest["model"]["fingerprint"] != fingerprint:
            return {}
        passages, vectors, sentences = _read_files(settings.index_dir, manifest)
    except IndexUnusableError:
        return {}
    cache = {}
    # Row position in a FAISS index is the text's position in _texts(passages).
    for key, index in (("vectors", vectors), ("sentences", sentences)):
        matrix = index.reconstruct_n(0, index.ntotal)
        cache.update({_text_key(text): matrix[i] for i, text in enumerate(_texts(passages)[key])})
    return cache


def _embed(texts: list[str], cache: dict[str, np.ndarray], embedder: Embedder, progress: bool):
    """Vectors for texts, encoding only those not in cache; returns (matrix, number encoded)."""
    keys = [_text_key(t) for t in texts]
    todo = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    if todo:
        fresh = embedder.encode([texts[i] for i in todo], progress=progress)
        cache.update({keys[i]: fresh[row] for row, i in enumerate(todo)})
    matrix = np.stack([cache[k] for k in keys]).astype(np.float32)
    # Inner product equals cosine similarity on normalized vectors. A flat index is exact,
    # and at clinic-corpus sizes (thousands of passages) a search costs well under 1 ms.
    index = faiss.IndexFlatIP(embedder.dimension)
    index.add(matrix)
    return index, len(todo)


def build_index(settings: Settings, embedder: Embedder, progress: bool = False) -> BuildReport:
    """Chunk the corpus, embed what changed, and write index/ atomically."""
    began = time.perf_counter()
    corpus_sha = corpus_fingerprint(settings.corpus_dir)
    documents = load_corpus(settings.corpus_dir)
    passages = chunk_corpus(documents, settings.chunk_chars)
    settings.index_dir.mkdir(parents=True, exist_ok=True)

    cache = _previous_vectors(settings, embedder.fingerprint)
    texts = _texts(passages)
    vectors, embedded = _embed(texts["vectors"], cache, embedder, progress)
    sentences, sentences_embedded = _embed(texts["sentences"], cache, embedder, progress)

    passages_blob = json.dumps(
        {"passages": [p.to_json() for p in passages]}, ensure_ascii=False, indent=1
    ).encode()
    blobs = {  # file names carry a hash of their content
        "vectors": faiss.serialize_index(vectors).tobytes(),
        "sentences": faiss.serialize_index(sentences).tobytes(),
        "passages": passages_blob,
    }
    suffix = {"vectors": "faiss", "sentences": "faiss", "passages": "json"}
    names = {
        key: f"{key}-{hashlib.sha256(blob).hexdigest()[:16]}.{suffix[key]}" for key, blob in blobs.items()
    }
    _write_atomic(settings.index_dir / names["vectors"], lambda t: faiss.write_index(vectors, str(t)))
    _write_atomic(settings.index_dir / names["sentences"], lambda t: faiss.write_index(sentences, str(t)))
    _write_atomic(settings.index_dir / names["passages"], lambda t: t.write_bytes(passages_blob))

    manifest = {
        "format_version": FORMAT_VERSION,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": {
            "name": embedder.name,
            "path": str(embedder.model_path),
            "fingerprint": embedder.fingerprint,
            "dimension": embedder.dimension,
        },
        "chunking": _chunking_settings(settings),
        "corpus_sha256": corpus_sha,
        "documents": [d.doc_id for d in documents],
        "passage_count": len(passages),
        "sentence_count": len(texts["sentences"]),
        "files": {
            key: {"name": name, "sha256": _sha256(settings.index_dir / name)} for key, name in names.items()
        },
    }
    manifest_blob = json.dumps(manifest, indent=2).encode()
    _write_atomic(settings.index_dir / MANIFEST, lambda t: t.write_bytes(manifest_blob))
    _remove_unreferenced(settings.index_dir, set(names.values()))
    return BuildReport(
        documents=len(documents),
        passages=len(passages),
        embedded=embedded,
        reused=len(passages) - embedded,
        sentences_embedded=sentences_embedded,
        model=embedder.name,
        seconds=time.perf_counter() - began,
    )


def _remove_unreferenced(index_dir: Path, keep: set[str]) -> None:
    for path in index_dir.iterdir():
        stale_data = path.name.startswith(tuple(f"{k}-" for k in _DATA_FILES)) and path.name not in keep
        if stale_data or (path.name.startswith(".") and path.name.endswith(".tmp")):
            path.unlink(missing_ok=True)


def open_index(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    on_rebuild: Callable[[str], None] = lambda reason: None,
    progress: bool = False,
) -> LoadedIndex:
    """Load index/, rebuilding it first when it is missing, stale or damaged (the main command)."""
    try:
        return load_index(settings)
    except IndexUnusableError as exc:
        on_rebuild(str(exc))
    build_index(settings, embedder_factory(), progress=progress)
    return load_index(settings)
