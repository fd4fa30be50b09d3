#!/usr/bin/env bash
# The tests: set up .venv (and Debian's chromium, pdftotext and axe-core for the browser tests) when
# missing, then lint and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-venv.sh
# Debian's chromium drives the browser tests; poppler-utils' pdftotext reads the printed page.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's ${missing[*]} for the browser tests..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "${missing[*]} missing; the browser tests that need it will be skipped (run as root, or: sudo apt-get install ${missing[*]})" >&2
  fi
fi
# axe-core for tests/web/test_accessibility.py, pinned here and nowhere else; installed into a
# git-ignored folder (the test reads .cache/axe/node_modules/axe-core/axe.min.js).
AXE_CORE_VERSION=4.14.1
axe_dir=.cache/axe
axe_installed=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$axe_dir/node_modules/axe-core/package.json" 2>/dev/null || true)
if [ "$axe_installed" != "$AXE_CORE_VERSION" ] || [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's npm to fetch axe-core for the accessibility tests..." >&2
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm is missing; it installs axe-core@$AXE_CORE_VERSION for the accessibility tests (sudo apt-get install npm)" >&2
    exit 1
  fi
  echo "Installing axe-core@$AXE_CORE_VERSION into $axe_dir for the accessibility tests..." >&2
  mkdir -p "$axe_dir"
  if ! npm install --prefix "$axe_dir" --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
      --loglevel=error "axe-core@$AXE_CORE_VERSION" >&2 \
    || [ ! -f "$axe_dir/node_modules/axe-core/axe.min.js" ]; then
    echo "could not install axe-core@$AXE_CORE_VERSION into $axe_dir with npm (is the npm registry reachable?)" >&2
    exit 1
  fi
fi
export HF_HUB_OFFLINE=1
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
