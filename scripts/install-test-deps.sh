#!/usr/bin/env bash
# What the test suite needs beyond Python packages: ffmpeg (to make real media), espeak-ng and
# sox (to make real speech with exact labels), tus-js-client under Node (a real
# browser-grade TUS client), and Debian's Chromium, which Playwright drives headless for the
# browser tests (never a browser download).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for tool in ffmpeg espeak-ng sox chromium; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "missing: ${missing[*]} (e.g. apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: install Node.js 18 or newer" >&2; exit 1; }
done
if [ -f tests/js/package-lock.json ]; then
  npm ci --prefix tests/js --no-audit --no-fund --loglevel=error
fi
