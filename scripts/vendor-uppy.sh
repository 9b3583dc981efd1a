#!/usr/bin/env bash
# Uppy's browser bundle (its Dashboard and Tus plugins, tus-js-client inside), served by the
# dashboard from the package's own files: no CDN, no Node.js at run time. The built files are
# committed; this is the command that fetched them (from the npm registry, checked by sha256).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=6.0.1
DEST=src/roughy/web/static/vendor/uppy
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack "uppy@$VERSION" --silent >/dev/null && tar xzf "uppy-$VERSION.tgz")
mkdir -p "$DEST"
cp "$work/package/dist/uppy.min.js" "$work/package/dist/uppy.min.css" "$work/package/LICENSE" "$DEST/"
echo "$VERSION" > "$DEST/VERSION"
(cd "$DEST" && sha256sum -c SHA256SUMS)
