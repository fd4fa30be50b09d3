"""The guard: clean a message once, find red flags in it, and decide its scope. Pure Python."""
