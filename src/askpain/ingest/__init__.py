"""Ingest: the clinic's documents in, passages out. Pure text processing, no model or index."""
