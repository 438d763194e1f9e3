#!/usr/bin/env bash
# Make sure the services wharf's tests need are up: PostgreSQL on 127.0.0.1:5432
# (trust auth, user postgres). Installs it from Debian's packages when missing,
# starts it when stopped, and fails loudly when neither works.
set -euo pipefail

log() { printf 'test-services: %s\n' "$*" >&2; }

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
  if command -v pg_isready >/dev/null && pg_ready; then
    log "PostgreSQL is up"
    return
  fi
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL from Debian packages"
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -n1)
  if [ -z "$ver" ]; then
    log "no PostgreSQL cluster found under /etc/postgresql"; exit 1
  fi
  # Trust local TCP connections for the test user, as this machine kind does.
  local hba="/etc/postgresql/$ver/main/pg_hba.conf"
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 60); do
    pg_ready && break
    sleep 0.5
  done
  if ! pg_ready; then
    log "PostgreSQL did not come up on 127.0.0.1:5432"; exit 1
  fi
  log "PostgreSQL is up"
}

ensure_postgres
# The test database the README and TEST_DATABASE_URL default to.
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"

# S3 (versitygw), GCS (fake-gcs-server) and Azure (Azurite) for the lake tests.
bash "$(dirname "$0")/test-objectstores.sh"
