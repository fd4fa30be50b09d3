"""Answers: pick the sentences that answer, compose the reply, and run guard → retrieval → compose."""
