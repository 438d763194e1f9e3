#!/usr/bin/env bash
# Run every test of wharf: unit tests, conformance suites against real
# databases, and end-to-end tests that drive the built binary.
# Starts (or installs) what the tests need first. With CI=true, a missing
# database fails the run instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-services.sh
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
export TEST_MYSQL_URL="${TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/}"

echo "== go vet"
go vet ./...
echo "== go test"
go test -count=1 -timeout 20m "$@" ./...
