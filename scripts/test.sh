#!/usr/bin/env bash
# Run every test of wharf: unit tests, conformance suites against real
# databases, and end-to-end tests that drive the built binary.
# Starts (or installs) what the tests need first. With CI=true, a missing
# database fails the run instead of skipping tests.
#
#   bash scripts/test.sh [--keep] [go test flags...]
#
# The object stores this run starts (versitygw, fake-gcs-server, Azurite:
# scripts/test-objectstores.sh) are stopped when it ends, pass or fail;
# --keep leaves them running for the next run. Servers that were already
# running are never stopped, and neither are PostgreSQL and MariaDB.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goflags.sh

keep=false
if [ "${1:-}" = "--keep" ]; then
  keep=true
  shift
fi

log() { printf 'test: %s\n' "$*" >&2; }

WHARF_STARTED_PIDS="$(mktemp -t wharf-test-pids.XXXXXX)"
export WHARF_STARTED_PIDS

# stop_started stops the servers this run started (their process groups),
# waiting up to 10 s for each before killing it.
stop_started() {
  local pid name
  while read -r pid name; do
    [ -n "$pid" ] || continue
    if $keep; then
      log "leaving $name running (pid $pid; --keep)"
      continue
    fi
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    log "stopped $name (pid $pid)"
  done <"$WHARF_STARTED_PIDS"
  rm -f "$WHARF_STARTED_PIDS"
}
trap stop_started EXIT

bash scripts/test-services.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m "$@" ./...
# Each fuzz target briefly, from its corpus (testdata/fuzz/) on: a parser
# change that panics or loses an error's position fails here.
echo "== go test -fuzz (${WHARF_FUZZTIME:=10s} per target)"
for target in FuzzWharfCatalog FuzzGlueCatalog; do
  go test -run '^$' -fuzz "^${target}\$" -fuzztime "$WHARF_FUZZTIME" ./internal/catalog
done
