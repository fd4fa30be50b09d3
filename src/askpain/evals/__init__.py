"""Evals: question sets, checks and figures, the HTML report, and the LangChain baseline."""
