#!/usr/bin/env bash
# The main job: set up .venv and the index when missing or stale, then answer a sample search.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-venv.sh
export HF_HUB_OFFLINE=1
.venv/bin/askpain index --if-needed
.venv/bin/askpain search "${1:-How long does relief from RFA usually last?}" -k 3
