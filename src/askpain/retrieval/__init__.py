"""Retrieval: embed passages, keep them in a verified FAISS + BM25 index, and search it."""
