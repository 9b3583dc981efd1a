#!/usr/bin/env bash
# Start a real S3-compatible server on loopback for the tests and benchmarks: OpenStack Swift
# (Debian's packages) with its s3api middleware, one process per server, after the recipe in
# ../shared/research/s3-swift.md (its problems and their fixes are noted where they apply).
#
#   S3 endpoint: http://127.0.0.1:$S3_PORT (path-style, SigV4, region us-east-1)
#   credentials: access key "test:tester", secret "testing"
#   stop with:   scripts/s3-server-stop.sh (same S3_SERVER_DIR)
#
# Settings (environment): S3_SERVER_DIR (default /tmp/roughy-s3), S3_PORT (proxy, default 8080),
# S3_BACKEND_PORT (the account, container, object servers and memcached take the four ports from
# it, default 16200), S3_MAX_PARTS (s3api's max_upload_part_num, default 10000; Swift's own
# default is 1000). Each start wipes the store. Root only (installs packages, writes
# /etc/swift/swift.conf, which Swift 2.30 reads from that path alone).
set -euo pipefail

BASE=${S3_SERVER_DIR:-/tmp/roughy-s3}
ETC=$BASE/etc NODE=$BASE/node RUN=$BASE/run LOG=$BASE/log
PORT=${S3_PORT:-8080}
BACK=${S3_BACKEND_PORT:-16200}
ACCT=$BACK CONT=$((BACK + 1)) OBJ=$((BACK + 2)) MC=$((BACK + 3))
MAX_PARTS=${S3_MAX_PARTS:-10000}
PY=/usr/bin/python3  # Swift is a Debian Python package: never a venv's python

log() { echo "[s3-server $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root"

# 1. packages (a temporary policy-rc.d keeps the packages' init scripts from starting Swift)
missing=0
for b in swift-proxy-server swift-account-server swift-container-server swift-object-server \
         memcached curl; do
  command -v "$b" >/dev/null 2>&1 || missing=1
done
if [ $missing = 1 ]; then
  log "installing swift and memcached (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; policy=1
  fi
  apt-cache show swift-proxy >/dev/null 2>&1 || apt-get update -qq
  ok=1
  apt-get install -y -qq --no-install-recommends swift swift-proxy swift-account \
    swift-container swift-object memcached curl >/dev/null || ok=0
  [ $policy = 1 ] && rm -f /usr/sbin/policy-rc.d
  [ $ok = 1 ] || die "apt-get install failed"
fi

# 2. a previous instance in this directory goes; the ports must be free
"$(dirname "$0")/s3-server-stop.sh" >/dev/null 2>&1 || true
busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$ACCT" "$CONT" "$OBJ" "$MC"; do
  busy "$p" && die "port 127.0.0.1:$p is in use (set S3_PORT / S3_BACKEND_PORT)"
done
rm -rf "$NODE"
mkdir -p "$ETC/pymod" "$NODE/d1" "$RUN" "$LOG"

# 3. configuration
cat >"$ETC/swift.conf" <<CONF
[swift-hash]
swift_hash_path_prefix = roughy-test
swift_hash_path_suffix = roughy-test

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
# S3 allows 2 KB of metadata; s3api keeps a multipart part as <key>/<upload-id>/<n>, which
# passes Swift's 1024-byte name limit for long keys (problems 9 and 10 of the note).
max_meta_value_length = 2048
max_meta_overall_size = 2048
max_object_name_length = 1100
CONF
mkdir -p /etc/swift
if [ -f /etc/swift/swift.conf ] && [ ! -f /etc/swift/swift.conf.orig-roughy ] \
   && ! cmp -s "$ETC/swift.conf" /etc/swift/swift.conf; then
  cp -p /etc/swift/swift.conf /etc/swift/swift.conf.orig-roughy
fi
cp "$ETC/swift.conf" /etc/swift/swift.conf

backend() {  # name port
  cat <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
swift_dir = $ETC
devices = $NODE
mount_check = false
disable_fallocate = true
log_name = $1-server

[pipeline:main]
pipeline = healthcheck $1-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:$1-server]
use = egg:swift#$1
CONF
}
backend account "$ACCT" >"$ETC/account-server.conf"
backend container "$CONT" >"$ETC/container-server.conf"
backend object "$OBJ" >"$ETC/object-server.conf"

# s3api 2.30 wants Content-MD5 on DeleteObjects; botocore >= 1.36 sends a CRC32 instead
# (problem 8): this filter checks whatever checksum came and adds the Content-MD5.
cat >"$ETC/pymod/s3_content_md5.py" <<'PY'
import base64, hashlib, io, zlib
from urllib.parse import parse_qs


def _b64(raw):
    return base64.b64encode(raw).decode('ascii')


def _digest(alg, body):
    if alg == 'crc32':
        return _b64((zlib.crc32(body) & 0xffffffff).to_bytes(4, 'big'))
    return _b64(hashlib.new(alg, body).digest())


class ContentMD5(object):
    def __init__(self, app):
        self.app = app

    def __call__(self, env, start_response):
        query = parse_qs(env.get('QUERY_STRING', ''), keep_blank_values=True)
        if env.get('REQUEST_METHOD') == 'POST' and 'delete' in query \
                and 'HTTP_CONTENT_MD5' not in env:
            length = int(env.get('CONTENT_LENGTH') or 0)
            if 0 < length <= 10 * 1024 * 1024:
                body = env['wsgi.input'].read(length)
                env['wsgi.input'] = io.BytesIO(body)
                for alg in ('crc32', 'sha1', 'sha256'):
                    sent = env.get('HTTP_X_AMZ_CHECKSUM_' + alg.upper())
                    if sent and sent != _digest(alg, body):
                        start_response('400 Bad Request', [('Content-Type', 'application/xml')])
                        return [b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest'
                                b'</Code><Message>checksum mismatch</Message></Error>']
                env['HTTP_CONTENT_MD5'] = _b64(hashlib.md5(body).digest())
        return self.app(env, start_response)


def filter_factory(global_conf, **local_conf):
    return ContentMD5
PY

cat >"$ETC/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $PORT
workers = 0
swift_dir = $ETC
log_name = proxy-server

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit content_md5 s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true
# one device: one error must not mark it dead for a minute (problem 12)
error_suppression_interval = 0

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
dns_compliant_bucket_names = true
s3_acl = false
allow_no_owner = false
max_upload_part_num = $MAX_PARTS
max_parts_listing = 1000
max_bucket_listing = 1000

[filter:slo]
use = egg:swift#slo
max_manifest_segments = $MAX_PARTS

[filter:dlo]
use = egg:swift#dlo

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$MC

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl

[filter:ratelimit]
use = egg:swift#ratelimit

[filter:copy]
use = egg:swift#copy

[filter:content_md5]
paste.filter_factory = s3_content_md5:filter_factory
CONF

# 4. the rings (in one Python run: the CLI takes ~2 s a ring) and a user-xattr probe
$PY - "$ETC" "$NODE/d1" "$OBJ" "$CONT" "$ACCT" <<'PY' || die "swift setup failed (no user xattrs under $NODE?)"
import os, sys
import swift.common.middleware.s3api  # noqa: F401  (fails early without s3api)
from swift.common.ring import RingBuilder
etc, dev = sys.argv[1], sys.argv[2]
probe = os.path.join(dev, '.xattr-probe')
open(probe, 'w').close()
try:
    os.setxattr(probe, 'user.swift.probe', b'x' * 1000)
finally:
    os.unlink(probe)
for name, port in (('object', sys.argv[3]), ('container', sys.argv[4]), ('account', sys.argv[5])):
    builder = RingBuilder(8, 1, 1)
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port),
                     'device': 'd1', 'weight': 100, 'meta': ''})
    builder.rebalance()
    builder.save(os.path.join(etc, name + '.builder'))
    builder.get_ring().save(os.path.join(etc, name + '.ring.gz'))
PY

# 5. the servers, each in its own session (a runner killing the caller's group leaves them),
#    -v so they log to stderr rather than only to syslog (problem 5)
MC_USER=memcache; id memcache >/dev/null 2>&1 || MC_USER=nobody
setsid memcached -u "$MC_USER" -l 127.0.0.1 -p "$MC" -U 0 -m 64 >"$LOG/memcached.log" 2>&1 </dev/null &
echo $! >"$RUN/memcached.pid"
for s in account container object proxy; do
  PYTHONPATH="$ETC/pymod" setsid "swift-$s-server" "$ETC/$s-server.conf" -v \
    >"$LOG/$s-server.log" 2>&1 </dev/null &
  echo $! >"$RUN/$s-server.pid"
done

# 6. healthy: every server's /healthcheck, then an authenticated round trip
deadline=$((SECONDS + ${S3_START_TIMEOUT:-90}))
fail() {
  for f in "$RUN"/*.pid; do
    n=$(basename "$f" .pid)
    kill -0 "$(cat "$f")" 2>/dev/null || { log "$n died:"; tail -n 20 "$LOG/$n.log" >&2 || true; }
  done
  "$(dirname "$0")/s3-server-stop.sh" >/dev/null 2>&1 || true
  die "$*"
}
alive() { for f in "$RUN"/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null || return 1; done; }
for p in "$ACCT" "$CONT" "$OBJ" "$PORT"; do
  until curl -fsS -m 2 "http://127.0.0.1:$p/healthcheck" >/dev/null 2>&1; do
    alive || fail "a server died while starting"
    [ $SECONDS -lt $deadline ] || fail "no healthcheck on :$p"
    sleep 0.2
  done
done
until token=$(curl -fsS -m 5 -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' \
                "http://127.0.0.1:$PORT/auth/v1.0" 2>/dev/null \
              | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}') \
      && [ -n "$token" ] \
      && curl -fsS -m 5 -o /dev/null -H "X-Auth-Token: $token" "http://127.0.0.1:$PORT/v1/AUTH_test"; do
  alive || fail "a server died while starting"
  [ $SECONDS -lt $deadline ] || fail "no authenticated answer"
  sleep 0.2
done
log "up: http://127.0.0.1:$PORT (max parts $MAX_PARTS, logs in $LOG)"
