#!/usr/bin/env bash
# Make sure the services wharf's tests need are up: PostgreSQL on 127.0.0.1:5432
# (trust auth, user postgres) and MariaDB on 127.0.0.1:3306 (root, empty
# password). Installs each from Debian's packages when missing, starts it when
# stopped (never restarts a running one), and fails loudly when neither works.
# Then the object stores and the JavaScript Parquet readers the lake tests
# need (scripts/test-objectstores.sh).
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

mariadb_ready() { mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; }

ensure_mariadb() {
  if command -v mariadb-admin >/dev/null && mariadb_ready; then
    log "MariaDB is up"
    return
  fi
  if [ ! -x /usr/sbin/mariadbd ]; then
    log "installing MariaDB from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  if ! pgrep -x mariadbd >/dev/null; then
    log "starting MariaDB"
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  fi
  for _ in $(seq 1 60); do
    mariadb_ready && break
    # A fresh Debian install lets root in through the socket only: allow the
    # tests' TCP login with an empty password too.
    mariadb -uroot -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD('');
      CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
      GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" >/dev/null 2>&1 || true
    sleep 0.5
  done
  if ! mariadb_ready; then
    log "MariaDB did not come up on 127.0.0.1:3306"; exit 1
  fi
  log "MariaDB is up"
}

# Debian's chromium for the console's browser test (e2e/console_test.go).
ensure_chromium() {
  if command -v chromium >/dev/null; then
    log "chromium is installed"
    return
  fi
  log "installing chromium from Debian packages (about a minute)"
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
  command -v chromium >/dev/null || { log "chromium did not install"; exit 1; }
}

ensure_postgres
ensure_mariadb
ensure_chromium
# The test database the README and TEST_DATABASE_URL default to.
psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"

# S3 (versitygw), GCS (fake-gcs-server) and Azure (Azurite) for the lake
# tests, and the Parquet readers they read wharf's files back with.
bash "$(dirname "$0")/test-objectstores.sh"

