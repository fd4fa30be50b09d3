"""The textbook LangChain recipe, to measure askpain against: RecursiveCharacterTextSplitter(1000,
200), the same model, a FAISS inner-product index, top-3 chunks cited as they are. No guardrail,
no scope, no sentence selection. (The recipe's FAISS wrapper lives in the deprecated
langchain-community; faiss is used directly here, which is what that wrapper does.)"""

from __future__ import annotations

import time

import faiss
from langchain_text_splitters import RecursiveCharacterTextSplitter

from askpain.ingest.corpus import load_corpus
from askpain.retrieval.embedding import Embedder
from askpain.settings import Settings

TOP_K = 3


class LangChainBaseline:
    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        self.chunks = []
        for doc in load_corpus(settings.corpus_dir):
            for chunk in splitter.create_documents([doc.text], metadatas=[{"doc_id": doc.doc_id}]):
                chunk.metadata["title"] = doc.title
                self.chunks.append(chunk)
        self.embedder = embedder
        self.index = faiss.IndexFlatIP(embedder.dimension)
        self.index.add(embedder.encode([c.page_content for c in self.chunks]))

    def ask(self, question: str) -> dict:
        began = time.perf_counter()
        _, ids = self.index.search(self.embedder.encode([question or " "]), TOP_K)
        citations = []
        for n, i in enumerate(ids[0], start=1):
            chunk = self.chunks[int(i)]
            citations.append(
                {
                    "n": n,
                    "doc_id": chunk.metadata["doc_id"],
                    "title": chunk.metadata["title"],
                    "section": None,
                    "passage": chunk.page_content,
                    "start": chunk.metadata["start_index"],
                }
            )
        return {
            "question": question,
            "status": "answered",
            "answer": "\n\n".join(f"{c['passage']} [{c['n']}]" for c in citations),
            "citations": citations,
            "red_flags": [],
            "latency_ms": (time.perf_counter() - began) * 1000,
        }
