"""The running askpain behind the web page: one pipeline, swapped whole after a rebuild.

The service watches corpus/, index/ and the index key while it serves
(Settings.watch_seconds, on a daemon thread): each tick compares a cheap fingerprint of
them (names, sizes, mtimes, ctimes, inodes). When it changes, the index on disk is
verified in full (signature, freshness against the corpus, checksums) and, when it is
stale or damaged, rebuilt. The new pipeline replaces the old one in one assignment. Until
then the last good pipeline, held in memory and consistent with the corpus it was built
from, keeps serving, and status() says so: a damaged index on disk is never loaded, so
never served.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from askpain.answer.pipeline import Askpain
from askpain.errors import AskpainError, IndexCorruptError, IndexMissingError, IndexUnusableError
from askpain.ingest.corpus import METADATA_FILE, PARSERS
from askpain.retrieval.embedding import Embedder
from askpain.retrieval.store import LoadedIndex, build_index, load_index, open_index
from askpain.settings import Settings
from askpain.types import Answer

log = logging.getLogger(__name__)

_Snapshot = tuple[tuple[str, tuple], ...]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _folder_snapshot(folder: Path, keep) -> tuple:
    """(name, size, mtime, ctime, inode) of the files of folder that keep() accepts.

    ctime and inode change on every write or replace and cannot be set back, so a file
    rewritten to its old size and mtime still shows."""
    try:
        entries = list(os.scandir(folder))
    except OSError as exc:
        return (("<unreadable>", type(exc).__name__),)
    out = []
    for entry in entries:
        if not keep(entry.name):
            continue
        try:
            st = entry.stat()
        except OSError:
            continue  # removed while listing: the next tick sees it gone
        out.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(sorted(out))


def _same_content(a: dict, b: dict) -> bool:
    """Two manifests naming the same data files (content-addressed, checksummed)."""
    return a.get("files") == b.get("files")


class Service:
    """Example: service = Service.open(Settings.from_env()); service.ask("what is RFA?").

    Service(settings, pipeline) serves pipeline as it is; Service.open() also starts the
    watcher (unless settings.watch_seconds is 0). close() stops it.
    """

    def __init__(self, settings: Settings, pipeline: Askpain) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._build_lock = threading.Lock()  # one build or swap at a time in this process
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self._interval = settings.watch_seconds
        self._seen: _Snapshot | None = None  # None: verify on the next tick
        # What status() reports besides the disk: set in one assignment, read without a lock.
        self._activity: str | None = None  # "rebuilding: why" while a build runs
        self._problem: str | None = None  # why the last check or rebuild failed, until one succeeds
        self.last_check: str | None = None
        self.swaps = 0  # pipelines swapped in since start (for status and tests)

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, watch: bool | None = None) -> Service:
        """Serve a verified index (rebuilt first when missing, stale or damaged), watched
        every settings.watch_seconds (watch=False: not watched)."""

        def on_rebuild(why: str) -> None:
            log.warning("rebuilding: %s", why)

        if embedder is None:
            pipeline = Askpain.open(settings, on_rebuild=on_rebuild)
        else:
            loaded = open_index(settings, lambda: embedder, on_rebuild=on_rebuild)
            pipeline = Askpain(loaded, embedder, settings.max_message_chars)
        service = cls(settings, pipeline)
        if settings.watch_seconds > 0 if watch is None else watch:
            service.start_watching()
        return service

    @property
    def pipeline(self) -> Askpain:
        return self._pipeline

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        return self._pipeline.ask(question, history)  # one read: a swap mid-answer is harmless

    # --- watching ---------------------------------------------------------------------

    def start_watching(self, interval: float | None = None) -> None:
        """Check corpus/ and index/ every interval seconds (default settings.watch_seconds)."""
        if self._watcher is not None:
            return
        self._interval = interval = interval or self.settings.watch_seconds or 3.0
        self._stop.clear()
        self._watcher = threading.Thread(
            target=self._watch, args=(interval,), name="askpain-index-watcher", daemon=True
        )
        self._watcher.start()

    def close(self, timeout: float = 60.0) -> None:
        """Stop watching (a build under way is finished first, up to timeout)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout)
            self._watcher = None

    def __enter__(self) -> Service:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def watching(self) -> bool:
        return self._watcher is not None and self._watcher.is_alive()

    def _watch(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception as exc:  # the watcher must outlive any surprise; staff see it
                log.exception("index check failed")
                self._problem = f"index check failed: {exc}"

    def _snapshot(self) -> _Snapshot:
        def corpus_file(name: str) -> bool:
            return name == METADATA_FILE or Path(name).suffix.lower() in PARSERS

        def index_file(name: str) -> bool:
            return not name.startswith(".")  # not the build lock or a build's temporary files

        key = self.settings.resolved_key_file()
        return (
            ("corpus", _folder_snapshot(self.settings.corpus_dir, corpus_file)),
            ("index", _folder_snapshot(self.settings.index_dir, index_file)),
            ("key", _folder_snapshot(key.parent, lambda name: name == key.name)),
        )

    def check(self) -> bool:
        """One watcher tick: when corpus/ or index/ changed since the last look, verify the
        index on disk, rebuild it if it is stale or damaged, and serve the result. Returns
        whether it looked (something had changed)."""
        with self._build_lock:
            snapshot = self._snapshot()
            if snapshot == self._seen:
                return False
            self.last_check = _now()
            try:
                loaded = load_index(self.settings)
            except IndexUnusableError as exc:
                self._rebuild_locked(str(exc), force=False)
            except AskpainError as exc:  # e.g. the corpus folder is gone: nothing to build from
                log.warning("cannot check the index: %s", exc)
                self._problem = f"cannot check the index: {exc}"
            else:
                self._serve(loaded)  # e.g. `askpain index` was run beside the server
                self._problem = None
            # Compared with the snapshot taken before the work: a change made during a
            # build is looked at on the next tick (our own build's files verify quickly).
            self._seen = snapshot
            return True

    # --- rebuilding ---------------------------------------------------------------------

    def rebuild(self) -> dict:
        """Rebuild index/ from the corpus and serve the new index; the old one serves meanwhile.
        A failed build raises (and shows in status() as "rebuild failed: ..."); the old index
        keeps serving."""
        with self._build_lock:
            self._rebuild_locked("requested by staff", force=True)
        return self.status()

    def _rebuild_locked(self, reason: str, force: bool) -> None:
        """Build (force) or repair the index, load it verified, and swap it in. On failure
        the pipeline in memory keeps serving and the reason shows in status() until a check
        or rebuild succeeds; the watcher tries again when corpus/ or index/ next change."""
        log.warning("rebuilding the index: %s", reason)
        self._activity = f"rebuilding: {reason}"
        try:
            embedder = self._pipeline.embedder
            if force:
                build_index(self.settings, embedder)
                loaded = load_index(self.settings)
            else:  # under the build lock: if another process just built it, that one is used
                loaded = open_index(self.settings, lambda: embedder)
            self._serve(loaded)
            self._problem = None
        except Exception as exc:
            if not isinstance(exc, AskpainError):
                log.exception("rebuild failed")
            else:
                log.warning("rebuild failed: %s", exc)
            self._problem = f"rebuild failed: {exc}"
            if force:  # asked for: the caller hears of the failure
                raise
        finally:
            self._activity = None

    def _serve(self, loaded: LoadedIndex) -> None:
        """Swap in a pipeline over loaded (verified by load_index) unless it is the same index."""
        if _same_content(loaded.manifest, self._pipeline.index.manifest):
            return
        pipeline = Askpain(loaded, self._pipeline.embedder, self.settings.max_message_chars)
        self._pipeline = pipeline  # one assignment: each answer uses the old or the new one
        self.swaps += 1
        log.warning("now serving the index built at %s", loaded.manifest.get("built_at"))

    # --- status -------------------------------------------------------------------------

    def status(self) -> dict:
        """Index status for staff: what is served (documents, passages, model, build time),
        and the index on disk: up to date, stale, damaged, or being rebuilt."""
        serving = self._pipeline.index.manifest
        built = serving.get("built_at")
        activity, problem = self._activity, self._problem
        if activity:
            state = f"{activity}; serving the last good index (built {built}) until the new one is ready"
        else:
            state = self._disk_state(serving)
            if problem:
                state = f"{problem}; serving the last good index (built {built}). Disk: {state}"
        return {
            "state": state,
            "documents": serving.get("documents", []),
            "passages": serving.get("passage_count"),
            "sentences": serving.get("sentence_count"),
            "model": serving.get("model", {}).get("name"),
            "built_at": built,
            "not_utf8": serving.get("encodings", {}),
            "index": str(self.settings.index_dir),
            "watching": f"every {self._interval:g} s" if self.watching else "off",
            "last_check": self.last_check,
        }

    def _disk_state(self, serving: dict) -> str:
        try:
            manifest = load_index(self.settings).manifest  # verified in full: a few ms
        except IndexCorruptError as exc:
            return f"damaged: {exc}"
        except IndexMissingError as exc:
            return f"missing: {exc}"
        except AskpainError as exc:  # stale, or a setting or corpus problem
            return f"stale: {exc}"
        if not _same_content(manifest, serving):
            return "up to date on disk; the served index is older (the watcher swaps it in)"
        return "up to date"
