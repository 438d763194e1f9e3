#!/usr/bin/env bash
# Make sure the object stores wharf's lake tests need are up on 127.0.0.1,
# installing them from the registries when missing (idempotent: a running
# server is reused):
#   S3     versitygw v1.8.0 (Go module, posix backend)  :7070  TEST_S3_ENDPOINT
#   GCS    fake-gcs-server v1.56.1 (Go module)           :4443  TEST_GCS_EMULATOR
#   Azure  Azurite 3.37.0 (npm, needs Node >= 18)        :10000 TEST_AZURE_ENDPOINT
# Tests create their own bucket per test (internal/testdb/objectstore.go);
# the defaults below are the ones the tests assume when the variables are
# unset. Logs and data live under $WHARF_TEST_CACHE (default ~/.cache/wharf-test).
set -euo pipefail

log() { printf 'test-objectstores: %s\n' "$*" >&2; }

CACHE="${WHARF_TEST_CACHE:-$HOME/.cache/wharf-test}"
GOBIN_DIR="$(go env GOPATH)/bin"
S3_ACCESS_KEY="${TEST_S3_ACCESS_KEY:-wharftest}"
S3_SECRET_KEY="${TEST_S3_SECRET_KEY:-wharftest-secret}"
mkdir -p "$CACHE"

# port_open HOST:PORT
port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

# wait_port HOST:PORT NAME LOG
wait_port() {
  for _ in $(seq 1 120); do
    port_open "$1" && { log "$2 is up on $1"; return; }
    sleep 0.5
  done
  log "$2 did not come up on $1; its log ($3):"
  tail -n 30 "$3" >&2 || true
  exit 1
}

start() { # LOG CMD...: run CMD in the background, detached from this shell
  local logf="$1"; shift
  nohup setsid "$@" >"$logf" 2>&1 < /dev/null &
}

ensure_versitygw() {
  local addr=127.0.0.1:7070
  if port_open "$addr"; then log "versitygw is up on $addr"; return; fi
  if [ ! -x "$GOBIN_DIR/versitygw" ]; then
    log "building versitygw v1.8.0 from the Go module proxy (~90 s)"
    go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
  fi
  # The posix backend keeps object metadata in extended attributes: the
  # directory must be on a file system with xattrs (ext4, xfs, tmpfs).
  mkdir -p "$CACHE/versitygw"
  start "$CACHE/versitygw.log" "$GOBIN_DIR/versitygw" --port "$addr" \
    --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" --region us-east-1 \
    posix "$CACHE/versitygw"
  wait_port "$addr" versitygw "$CACHE/versitygw.log"
}

ensure_fake_gcs() {
  local addr=127.0.0.1:4443
  if port_open "$addr"; then log "fake-gcs-server is up on $addr"; return; fi
  if [ ! -x "$GOBIN_DIR/fake-gcs-server" ]; then
    log "building fake-gcs-server v1.56.1 from the Go module proxy"
    go install github.com/fsouza/fake-gcs-server@v1.56.1
  fi
  start "$CACHE/fake-gcs-server.log" "$GOBIN_DIR/fake-gcs-server" -scheme http \
    -host 127.0.0.1 -port 4443 -public-host "$addr" -backend memory -log-level warn
  wait_port "$addr" fake-gcs-server "$CACHE/fake-gcs-server.log"
}

ensure_azurite() {
  local addr=127.0.0.1:10000
  if port_open "$addr"; then log "Azurite is up on $addr"; return; fi
  local bin="$CACHE/azurite/node_modules/.bin/azurite-blob"
  if [ ! -x "$bin" ]; then
    if ! command -v npm >/dev/null; then
      log "installing Node.js and npm from Debian packages"
      apt-get update -qq
      apt-get install -y -qq nodejs npm >/dev/null
    fi
    log "installing Azurite 3.37.0 from the npm registry"
    mkdir -p "$CACHE/azurite"
    (cd "$CACHE/azurite" && npm install --no-audit --no-fund --silent azurite@3.37.0)
  fi
  mkdir -p "$CACHE/azurite-data"
  start "$CACHE/azurite.log" "$bin" --blobHost 127.0.0.1 --blobPort 10000 \
    --location "$CACHE/azurite-data" --silent --skipApiVersionCheck --loose --disableTelemetry
  wait_port "$addr" Azurite "$CACHE/azurite.log"
}

ensure_versitygw
ensure_fake_gcs
ensure_azurite
