#!/usr/bin/env bash
# The tests: set up .venv when missing, then lint and run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-venv.sh
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
