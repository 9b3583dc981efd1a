#!/usr/bin/env bash
# What the test suite needs beyond Python packages: ffmpeg (to make real media) and
# tus-js-client under Node (a real browser-grade TUS client).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v ffmpeg >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  else
    echo "ffmpeg is missing: install it (e.g. apt-get install ffmpeg)" >&2
    exit 1
  fi
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: install Node.js 18 or newer" >&2; exit 1; }
done
if [ -f tests/js/package-lock.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi
