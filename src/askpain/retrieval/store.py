"""index/ on disk: build it atomically, verify it on load, never serve a stale or damaged one.

Layout: manifest.json names the current vectors-<hash>.faiss (one row per passage),
sentences-<hash>.faiss (one row per sentence, for quoting), questions-<hash>.faiss (one row
per question of the bank, corpus/questions/) and passages-<hash>.json (the passages, and the
bank questions tied to their sentences), with their sha256. Data files are written first
under new names, then the manifest is replaced in one os.replace: a build killed half way
leaves the previous index whole.

The manifest is signed (HMAC-SHA256) with a per-install key kept outside index/
(Settings.key_file): an index built elsewhere, or a manifest edited by hand, does not
verify and is rebuilt, never served. Builds hold index/.build.lock (flock), so two
builds of one index, in one process or two, never run at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import logging
import os
import secrets
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from askpain.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMissingError,
    IndexStaleError,
    IndexUnusableError,
    SettingsError,
)
from askpain.ingest.chunking import CHUNKER_VERSION, chunk_corpus
from askpain.ingest.corpus import corpus_fingerprint, read_corpus
from askpain.ingest.questions import IndexedQuestion, tie_to_passages, unasked_passages
from askpain.retrieval.embedding import Embedder, embedding_text, model_fingerprint
from askpain.settings import Settings
from askpain.types import Passage

log = logging.getLogger(__name__)

FORMAT_VERSION = 3  # 2: the manifest is signed with the install's key; 3: the question bank
MANIFEST = "manifest.json"
LOCK_FILE = ".build.lock"  # flock'ed by every build; a dot name, so watchers may ignore it
BUILD_LOCK_TIMEOUT = 900.0  # seconds to wait for another build before giving up
_SIGNATURE = "hmac_sha256"
_KEY_BYTES = 32
_DATA_FILES = ("vectors", "sentences", "questions", "passages")
_REQUIRED_PASSAGE_FIELDS = ("chunk_id", "doc_id", "title", "section", "start", "end", "text", "sentences")


@dataclass(frozen=True)
class LoadedIndex:
    manifest: dict
    passages: list[Passage]
    vectors: faiss.Index  # row i is passages[i]
    sentence_vectors: faiss.Index  # rows follow the passages' sentences in order
    questions: list[IndexedQuestion]  # the question bank, tied to the passages' sentences
    question_vectors: faiss.Index  # row i is questions[i]


@dataclass(frozen=True)
class BuildReport:
    documents: int
    passages: int
    embedded: int  # passages whose text was new and had to be encoded
    reused: int  # passages whose vectors came from the previous index
    sentences_embedded: int
    model: str
    seconds: float
    questions: int = 0  # bank questions indexed
    unasked: tuple[str, ...] = ()  # "document § section" of passages no bank question points into


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


# --- the index folder, the build lock, the signing key ------------------------------------


def _check_index_dir(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise SettingsError(
            f"the index folder {index_dir} is a file, not a folder; set ASKPAIN_INDEX_DIR "
            "(or --index) to a folder"
        )


def _make_index_dir(index_dir: Path) -> None:
    _check_index_dir(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"cannot create the index folder {index_dir} ({exc.strerror or type(exc).__name__}); "
            "set ASKPAIN_INDEX_DIR (or --index) to a folder askpain may write"
        ) from exc


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextmanager
def build_lock(index_dir: Path, timeout: float = BUILD_LOCK_TIMEOUT) -> Iterator[None]:
    """Hold index_dir/.build.lock while building. flock is per open file, so a second
    build waits whether it runs in another thread or another process; the kernel releases
    the lock when its holder exits, so a killed build leaves no stale lock."""
    _make_index_dir(index_dir)
    path = index_dir / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise SettingsError(
            f"cannot open the build lock {path} ({exc.strerror}); check its permissions"
        ) from exc
    try:
        if not _try_lock(fd):
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            log.warning("waiting for another askpain build of %s to finish (%s)", index_dir, holder)
            deadline = time.monotonic() + timeout
            while not _try_lock(fd):
                if time.monotonic() > deadline:
                    raise IndexBusyError(
                        f"another askpain build of {index_dir} ({holder}) did not finish within "
                        f"{timeout:.0f} s; wait for it, or stop it and try again"
                    )
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _read_key(path: Path) -> bytes | None:
    """The key at path, None when there is none yet."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(
                f"the index key {path} is not a file; set ASKPAIN_KEY_FILE to a file path "
                "outside the index folder (askpain creates it on the first build)"
            )
        key = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(
            f"cannot read the index key {path} ({exc.strerror or type(exc).__name__}); "
            "set ASKPAIN_KEY_FILE to a key this user may read"
        ) from exc
    if len(key) < 16:
        raise SettingsError(
            f"the index key {path} is too short ({len(key)} bytes); delete it and run "
            "`askpain index` to make a new one"
        )
    if info.st_mode & 0o007:
        log.warning(
            "the index key %s is open to every user (mode %o); chmod 600 it", path, info.st_mode & 0o777
        )
    return key


def _create_key(path: Path) -> None:
    """A new random key, mode 0600. Linked into place, so it never replaces a key another
    process made first, and no reader ever sees a half-written key."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(_KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                return
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise SettingsError(
            f"cannot create the index key {path} ({exc.strerror or type(exc).__name__}); set "
            "ASKPAIN_KEY_FILE to a path outside the index folder that askpain may write"
        ) from exc
    log.info("created the index key %s", path)


def index_key(settings: Settings, create: bool = False) -> bytes | None:
    """This install's secret for signing manifests (made on the first build when create)."""
    path = settings.resolved_key_file()
    key = _read_key(path)
    if key is None and create:
        _create_key(path)
        key = _read_key(path)
    return key


def _key_id(key: bytes) -> str:
    """Names a key without revealing it: tells "signed elsewhere" from "edited"."""
    return hashlib.sha256(b"askpain index key id\0" + key).hexdigest()[:16]


def _signature(manifest: dict, key: bytes) -> str:
    body = {k: v for k, v in manifest.items() if k != _SIGNATURE}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def sign_manifest(manifest: dict, key: bytes) -> dict:
    """The manifest with key_id and its HMAC-SHA256 over everything else."""
    signed = {k: v for k, v in manifest.items() if k != _SIGNATURE}
    signed["key_id"] = _key_id(key)
    signed[_SIGNATURE] = _signature(signed, key)
    return signed


def verify_manifest(manifest: dict, settings: Settings) -> None:
    """Raise IndexCorruptError unless this install's key signed the manifest as it is."""
    path = settings.index_dir / MANIFEST
    signature = manifest.get(_SIGNATURE)
    if not isinstance(signature, str):
        raise IndexCorruptError(f"{path} is not signed; run `askpain index`")
    key = index_key(settings)
    if key is None:
        raise IndexCorruptError(
            f"{path} cannot be authenticated: there is no index key at "
            f"{settings.resolved_key_file()} (the index was built with another key); run `askpain index`"
        )
    if not hmac.compare_digest(_signature(manifest, key).encode(), signature.encode()):
        why = (
            "it was signed with another key (an index built elsewhere)"
            if manifest.get("key_id") != _key_id(key)
            else "it was altered after it was signed"
        )
        raise IndexCorruptError(f"{path} is not authentic: {why}; run `askpain index`")


# --- loading and verifying -------------------------------------------------------------


def read_manifest(index_dir: Path) -> dict:
    """The manifest as written, parsed; check_fresh() authenticates it."""
    _check_index_dir(index_dir)
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


def _verified_bytes(index_dir: Path, entry: dict) -> tuple[Path, bytes]:
    """A data file read once: what is checked is what is parsed."""
    path = index_dir / Path(entry["name"]).name  # a manifest may not point outside index/
    if not path.is_file():
        raise IndexCorruptError(f"{path} is missing; run `askpain index`")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IndexCorruptError(f"{path} is unreadable ({exc.strerror}); run `askpain index`") from exc
    if hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise IndexCorruptError(
            f"{path} does not match its checksum in {MANIFEST} (truncated or altered); run `askpain index`"
        )
    return path, data


def check_fresh(manifest: dict, settings: Settings) -> None:
    """Raise IndexCorruptError when the manifest is not authentic (its claims cannot be
    trusted), else IndexStaleError naming what changed since the index was built."""
    verify_manifest(manifest, settings)
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


def _read_faiss(path: Path, data: bytes, rows: int, dimension: int) -> faiss.Index:
    try:
        index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
    except RuntimeError as exc:
        raise IndexCorruptError(f"{path} is not a FAISS index; run `askpain index`") from exc
    if (index.ntotal, index.d) != (rows, dimension):
        raise IndexCorruptError(
            f"{path.parent} is inconsistent: {path.name} has {index.ntotal} vectors of dimension "
            f"{index.d}, expected {rows} of {dimension}; run `askpain index`"
        )
    return index


def _read_files(index_dir: Path, manifest: dict) -> tuple:
    """(passages, passage vectors, sentence vectors, bank questions, question vectors)."""
    files = {key: _verified_bytes(index_dir, manifest["files"][key]) for key in _DATA_FILES}
    paths = {key: path for key, (path, _) in files.items()}
    try:
        blob = json.loads(files["passages"][1].decode("utf-8"))
        records = blob["passages"]
        missing = [f for r in records for f in _REQUIRED_PASSAGE_FIELDS if f not in r]
        passages = [] if missing else [Passage.from_json(r) for r in records]
        questions = [IndexedQuestion.from_json(r) for r in blob["questions"]]
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
    vectors = _read_faiss(paths["vectors"], files["vectors"][1], len(passages), dimension)
    rows = sum(len(p.sentences) for p in passages)
    sentences = _read_faiss(paths["sentences"], files["sentences"][1], rows, dimension)
    asked = _read_faiss(paths["questions"], files["questions"][1], len(questions), dimension)
    return passages, vectors, sentences, questions, asked


def load_index(settings: Settings) -> LoadedIndex:
    """Load and verify index/. Raises an IndexUnusableError subclass that names the cause."""
    for attempt in range(3):
        manifest = read_manifest(settings.index_dir)
        check_fresh(manifest, settings)
        try:
            files = _read_files(settings.index_dir, manifest)
        except IndexCorruptError:
            # Another process's build may have swapped the manifest and removed the files the
            # one read here named: read the new one. Damage that stays is reported.
            if attempt < 2 and _manifest_changed(settings.index_dir, manifest):
                continue
            raise
        return LoadedIndex(manifest, *files)
    raise AssertionError("unreachable")


def _manifest_changed(index_dir: Path, manifest: dict) -> bool:
    try:
        return read_manifest(index_dir) != manifest
    except IndexUnusableError:
        return True


# --- building ----------------------------------------------------------------------------


def _texts(passages: list[Passage], questions: list[IndexedQuestion]) -> dict[str, list[str]]:
    """What each vector file embeds, row by row."""
    return {
        "vectors": [embedding_text(p) for p in passages],
        "sentences": [text for p in passages for text in p.sentence_texts()],
        "questions": [q.question for q in questions],
    }


def _previous_vectors(settings: Settings, fingerprint: str) -> dict[str, np.ndarray]:
    """Vectors of the current index by hash of the embedded text, to skip re-encoding it."""
    try:
        manifest = read_manifest(settings.index_dir)
        verify_manifest(manifest, settings)  # never re-use vectors from a foreign index
        if manifest["model"]["fingerprint"] != fingerprint:
            return {}
        passages, vectors, sentences, questions, asked = _read_files(settings.index_dir, manifest)
    except IndexUnusableError:
        return {}
    cache = {}
    texts = _texts(passages, questions)
    # Row position in a FAISS index is the text's position in _texts(passages, questions).
    for key, index in (("vectors", vectors), ("sentences", sentences), ("questions", asked)):
        matrix = index.reconstruct_n(0, index.ntotal) if index.ntotal else []
        cache.update({_text_key(text): matrix[i] for i, text in enumerate(texts[key])})
    return cache


def _embed(texts: list[str], cache: dict[str, np.ndarray], embedder: Embedder, progress: bool):
    """Vectors for texts, encoding only those not in cache; returns (matrix, number encoded)."""
    keys = [_text_key(t) for t in texts]
    todo = sorted({k: i for i, k in enumerate(keys) if k not in cache}.values())
    if todo:
        fresh = embedder.encode([texts[i] for i in todo], progress=progress)
        cache.update({keys[i]: fresh[row] for row, i in enumerate(todo)})
    matrix = np.zeros((len(keys), embedder.dimension), dtype=np.float32)  # an empty bank has no rows
    if keys:
        matrix[:] = np.stack([cache[k] for k in keys])
    # Inner product equals cosine similarity on normalized vectors. A flat index is exact,
    # and at clinic-corpus sizes (thousands of passages) a search costs well under 1 ms.
    index = faiss.IndexFlatIP(embedder.dimension)
    index.add(matrix)
    return index, len(todo)


def build_index(settings: Settings, embedder: Embedder, progress: bool = False) -> BuildReport:
    """Chunk the corpus, embed what changed, and write index/ atomically, holding the build lock."""
    with build_lock(settings.index_dir):
        return _build_locked(settings, embedder, progress)


def _build_locked(settings: Settings, embedder: Embedder, progress: bool) -> BuildReport:
    began = time.perf_counter()
    signing_key = index_key(settings, create=True)  # first: a key problem fails before any work
    corpus = read_corpus(settings.corpus_dir)
    documents = corpus.documents
    passages = chunk_corpus(documents, settings.chunk_chars)

    questions = tie_to_passages(corpus.bank, passages)
    cache = _previous_vectors(settings, embedder.fingerprint)
    texts = _texts(passages, questions)
    vectors, embedded = _embed(texts["vectors"], cache, embedder, progress)
    sentences, sentences_embedded = _embed(texts["sentences"], cache, embedder, progress)
    asked, _ = _embed(texts["questions"], cache, embedder, progress)

    passages_blob = json.dumps(
        {"passages": [p.to_json() for p in passages], "questions": [q.to_json() for q in questions]},
        ensure_ascii=False,
        indent=1,
    ).encode()
    indexes = {"vectors": vectors, "sentences": sentences, "questions": asked}
    blobs = {key: faiss.serialize_index(index).tobytes() for key, index in indexes.items()}
    blobs["passages"] = passages_blob
    names = {  # file names carry a hash of their content
        key: f"{key}-{hashlib.sha256(blob).hexdigest()[:16]}.{'json' if key == 'passages' else 'faiss'}"
        for key, blob in blobs.items()
    }
    for key, index in indexes.items():
        write = lambda t, index=index: faiss.write_index(index, str(t))  # noqa: E731
        _write_atomic(settings.index_dir / names[key], write)
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
        "corpus_sha256": corpus.fingerprint,
        "documents": [d.doc_id for d in documents],
        "encodings": corpus.encodings,  # documents read from another encoding than UTF-8
        "passage_count": len(passages),
        "sentence_count": len(texts["sentences"]),
        "question_count": len(questions),
        "files": {
            key: {"name": name, "sha256": _sha256(settings.index_dir / name)} for key, name in names.items()
        },
    }
    unasked = unasked_passages(passages, questions)
    manifest_blob = json.dumps(sign_manifest(manifest, signing_key), indent=2).encode()
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
        questions=len(questions),
        unasked=tuple(dict.fromkeys(f"{p.doc_id} § {p.section or p.title}" for p in unasked)),
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
    """Load index/, rebuilding it first when it is missing, stale or damaged (the main command).

    The rebuild holds the build lock; a process that waited for another one's build loads
    that build instead of making its own."""
    try:
        return load_index(settings)
    except IndexUnusableError:
        pass
    with build_lock(settings.index_dir):
        try:
            return load_index(settings)
        except IndexUnusableError as exc:
            on_rebuild(str(exc))
        _build_locked(settings, embedder_factory(), progress)
    return load_index(settings)
