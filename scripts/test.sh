#!/usr/bin/env bash
# The tests: set up .venv (and Debian's chromium for the browser tests) when missing, then
# lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-venv.sh
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the browser tests..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing; the browser tests will be skipped (run as root, or: sudo apt-get install chromium)" >&2
  fi
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
