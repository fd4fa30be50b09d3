"""askpain's hybrid retriever as a LangChain retriever (langchain_core only)."""

from __future__ import annotations

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from askpain.retrieval.hybrid import HybridRetriever


class AskpainRetriever(BaseRetriever):
    """Example: AskpainRetriever(hybrid=retriever, k=3).invoke("what is RFA?") -> [Document, ...]."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hybrid: HybridRetriever
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        documents = []
        for hit in self.hybrid.search(query, k=self.k):
            metadata = hit.to_json()
            text = metadata.pop("text")
            documents.append(Document(page_content=text, metadata=metadata, id=hit.passage.chunk_id))
        return documents
