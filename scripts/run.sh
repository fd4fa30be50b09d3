#!/usr/bin/env bash
# The main job: set up .venv and the index when missing or stale, then serve the chat page
# (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT, default 127.0.0.1:7860).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-venv.sh
export HF_HUB_OFFLINE=1
.venv/bin/askpain index --if-needed -q
exec .venv/bin/python app.py
