#!/usr/bin/env bash
# The peer TUS servers bench/upload measures ours against, installed here and nowhere else:
# @tus/server + @tus/file-store (npm, locked in package-lock.json) and tuspyserver (a venv of
# its own, so that its FastAPI pins never touch Roughy's).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q 'tuspyserver==4.4.3' 'uvicorn[standard]' fastapi
