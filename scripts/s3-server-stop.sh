#!/usr/bin/env bash
# Stop what scripts/s3-server-start.sh started (same S3_SERVER_DIR), by PID file: TERM, then
# KILL after 10 s. A zombie counts as gone (the servers are re-parented to PID 1, which may reap
# late). S3_SERVER_PURGE=1 removes the stored objects too.
set -uo pipefail
BASE=${S3_SERVER_DIR:-/tmp/roughy-s3}
RUN=$BASE/run
running() { [ -r "/proc/$1/stat" ] && awk '{ sub(/^.*\) /, ""); exit ($1 == "Z") }' "/proc/$1/stat" 2>/dev/null; }
pids=()
for f in "$RUN"/proxy-server.pid "$RUN"/object-server.pid "$RUN"/container-server.pid \
         "$RUN"/account-server.pid "$RUN"/memcached.pid; do
  [ -f "$f" ] || continue
  p=$(cat "$f")
  if [ -n "$p" ] && running "$p"; then kill -TERM "$p" 2>/dev/null && pids+=("$p"); fi
  rm -f "$f"
done
for _ in $(seq 100); do
  left=0
  for p in "${pids[@]}"; do running "$p" && left=1; done
  [ $left = 0 ] && break
  sleep 0.1
done
for p in "${pids[@]}"; do running "$p" && kill -KILL "$p" 2>/dev/null; done
[ "${S3_SERVER_PURGE:-0}" = 1 ] && rm -rf "$BASE/node"
echo "[s3-server] stopped ${#pids[@]} process(es)" >&2
exit 0
