"""The running askpain behind the web page: one pipeline, swapped whole after a rebuild."""

from __future__ import annotations

import logging
import threading

from askpain.answer.pipeline import Askpain
from askpain.errors import IndexUnusableError
from askpain.retrieval.store import build_index, check_fresh, read_manifest
from askpain.settings import Settings
from askpain.types import Answer

log = logging.getLogger(__name__)


class Service:
    """Example: service = Service.open(Settings.from_env()); service.ask("what is RFA?")."""

    def __init__(self, settings: Settings, pipeline: Askpain) -> None:
        self.settings = settings
        self._pipeline = pipeline
        self._rebuild_lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> Service:
        return cls(
            settings, Askpain.open(settings, on_rebuild=lambda why: log.warning("rebuilding: %s", why))
        )

    @property
    def pipeline(self) -> Askpain:
        return self._pipeline

    def ask(self, question: str) -> Answer:
        return self._pipeline.ask(question)

    def status(self) -> dict:
        """Index status for staff: documents, passages, model, build time, stale or not."""
        try:
            manifest = read_manifest(self.settings.index_dir)
        except IndexUnusableError as exc:
            return {"state": f"unusable: {exc}"}
        try:
            check_fresh(manifest, self.settings)
            state = "up to date"
        except IndexUnusableError as exc:
            state = f"stale: {exc}"
        return {
            "state": state,
            "documents": manifest.get("documents", []),
            "passages": manifest.get("passage_count"),
            "sentences": manifest.get("sentence_count"),
            "model": manifest["model"].get("name"),
            "built_at": manifest.get("built_at"),
            "index": str(self.settings.index_dir),
        }

    def rebuild(self) -> dict:
        """Rebuild index/ from the corpus and serve the new index; the old one serves meanwhile."""
        with self._rebuild_lock:
            embedder = self._pipeline.embedder
            build_index(self.settings, embedder)
            from askpain.retrieval.store import load_index

            self._pipeline = Askpain(load_index(self.settings), embedder)
        return self.status()
