#!/usr/bin/env bash
# Create .venv at the repo root and install askpain with pinned versions, when missing or
# when pyproject.toml / constraints.txt changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${ASKPAIN_PYTHON:-$(command -v python3.11 || command -v python3 || true)}
if [ -z "$python" ] || ! "$python" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 11))'; then
  echo "askpain needs Python 3.11 (set ASKPAIN_PYTHON to its path)" >&2
  exit 1
fi

want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
stamp=.venv/.askpain-installed
if [ -x .venv/bin/python ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi

echo "Setting up .venv (first run, or dependencies changed)..." >&2
[ -x .venv/bin/python ] || "$python" -m venv .venv
# torch first, pinned: the CPU build. Left to the resolver, pip would pull GBs of CUDA packages.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
echo "$want" > "$stamp"
