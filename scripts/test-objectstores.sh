#!/usr/bin/env bash
# Make sure the object stores wharf's lake tests need are up on 127.0.0.1,
# installing them from the registries when missing (idempotent: a running
# server is reused):
#   S3     versitygw v1.8.0 (Go module, posix backend)  :7070  TEST_S3_ENDPOINT
#   GCS    fake-gcs-server v1.56.1 (Go module)           :4443  TEST_GCS_EMULATOR
#   Azure  Azurite 3.37.0 (npm, needs Node >= 18)        :10000 TEST_AZURE_ENDPOINT
# and two Parquet readers that share no code with arrow-go or DuckDB, which
# the lake tests read wharf's files back with (internal/testdb/jsread):
# hyparquet and nodejs-polars from npm, pinned, under
# $WHARF_TEST_CACHE/parquet-readers.
# Tests create their own bucket per test (internal/testdb/objectstore.go);
# the defaults below are the ones the tests assume when the variables are
# unset, and the servers listen where the variables point (TEST_S3_ENDPOINT
# http://127.0.0.1:PORT, TEST_GCS_EMULATOR and TEST_AZURE_ADDRESS
# 127.0.0.1:PORT). Logs and data live under $WHARF_TEST_CACHE (default
# ~/.cache/wharf-test).
#
# When WHARF_STARTED_PIDS names a file, the process ID of every server this
# invocation started (not those it found running) is appended to it, one
# "PID NAME" per line: scripts/test.sh stops exactly those when it ends.
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

S3_ADDR="${TEST_S3_ENDPOINT:-http://127.0.0.1:7070}"
S3_ADDR="${S3_ADDR#http://}"
GCS_ADDR="${TEST_GCS_EMULATOR:-127.0.0.1:4443}"
AZURE_ADDR="${TEST_AZURE_ADDRESS:-127.0.0.1:10000}"

start() { # NAME LOG CMD...: run CMD in the background, detached from this shell
  local name="$1" logf="$2"; shift 2
  # setsid makes the server lead its own process group, so a stop reaches
  # its children too (Azurite's node workers).
  nohup setsid "$@" >"$logf" 2>&1 < /dev/null &
  if [ -n "${WHARF_STARTED_PIDS:-}" ]; then
    echo "$! $name" >>"$WHARF_STARTED_PIDS"
  fi
}

ensure_versitygw() {
  local addr="$S3_ADDR"
  if port_open "$addr"; then log "versitygw is up on $addr"; return; fi
  if [ ! -x "$GOBIN_DIR/versitygw" ]; then
    log "building versitygw v1.8.0 from the Go module proxy (~90 s)"
    go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
  fi
  # The posix backend keeps object metadata in extended attributes: the
  # directory must be on a file system with xattrs (ext4, xfs, tmpfs).
  mkdir -p "$CACHE/versitygw"
  start versitygw "$CACHE/versitygw.log" "$GOBIN_DIR/versitygw" --port "$addr" \
    --access "$S3_ACCESS_KEY" --secret "$S3_SECRET_KEY" --region us-east-1 \
    posix "$CACHE/versitygw"
  wait_port "$addr" versitygw "$CACHE/versitygw.log"
}

ensure_fake_gcs() {
  local addr="$GCS_ADDR"
  if port_open "$addr"; then log "fake-gcs-server is up on $addr"; return; fi
  if [ ! -x "$GOBIN_DIR/fake-gcs-server" ]; then
    log "building fake-gcs-server v1.56.1 from the Go module proxy"
    go install github.com/fsouza/fake-gcs-server@v1.56.1
  fi
  start fake-gcs-server "$CACHE/fake-gcs-server.log" "$GOBIN_DIR/fake-gcs-server" -scheme http \
    -host "${addr%:*}" -port "${addr##*:}" -public-host "$addr" -backend memory -log-level warn
  wait_port "$addr" fake-gcs-server "$CACHE/fake-gcs-server.log"
}

ensure_npm() {
  command -v npm >/dev/null && return
  log "installing Node.js and npm from Debian packages"
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
}

ensure_azurite() {
  local addr="$AZURE_ADDR"
  if port_open "$addr"; then log "Azurite is up on $addr"; return; fi
  local bin="$CACHE/azurite/node_modules/.bin/azurite-blob"
  if [ ! -x "$bin" ]; then
    ensure_npm
    log "installing Azurite 3.37.0 from the npm registry"
    mkdir -p "$CACHE/azurite"
    (cd "$CACHE/azurite" && npm install --no-audit --no-fund --silent azurite@3.37.0)
  fi
  mkdir -p "$CACHE/azurite-data"
  start Azurite "$CACHE/azurite.log" "$bin" --blobHost "${addr%:*}" --blobPort "${addr##*:}" \
    --location "$CACHE/azurite-data" --silent --skipApiVersionCheck --loose --disableTelemetry
  wait_port "$addr" Azurite "$CACHE/azurite.log"
}

ensure_parquet_readers() {
  local dir="$CACHE/parquet-readers" platform
  case "$(uname -m)" in
    x86_64) platform=linux-x64-gnu ;;
    aarch64) platform=linux-arm64-gnu ;;
    *) log "no nodejs-polars build for $(uname -m)"; exit 1 ;;
  esac
  local want="hyparquet@1.31.5 hyparquet-compressors@1.1.2 nodejs-polars@0.26.1 nodejs-polars-$platform@0.26.1"
  if [ "$(cat "$dir/installed" 2>/dev/null)" = "$want" ]; then
    log "Parquet readers are installed ($want)"
    return
  fi
  ensure_npm
  log "installing $want from the npm registry"
  mkdir -p "$dir"
  # shellcheck disable=SC2086 # one word per package
  (cd "$dir" && npm install --no-audit --no-fund --silent --save-exact $want)
  echo "$want" >"$dir/installed"
}

ensure_versitygw
ensure_fake_gcs
ensure_azurite
ensure_parquet_readers
