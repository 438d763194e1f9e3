#!/usr/bin/env bash
# Benchmark: an idle `wharf serve` with 1,000 scheduled workflows (daily cron
# schedules that do not fire during the measurement) on the embedded SQLite
# state: its RSS and CPU over a window (targets: < 100 MB, < 2% of one core),
# then the wall time of `wharf trigger --wait` for a 10-row table from a
# separate process, start-up included (target < 300 ms; the in-process
# figure is BenchmarkTriggerToFinished in internal/engine).
#
#   bash bench/serve.sh [WORKFLOWS] [SECONDS]   (defaults 1000 and 60)
#
# Env: STATE (default: a SQLite file in a temporary directory; a
# postgres:// URL measures the PostgreSQL state instead), SCHED (the
# workflows' schedule instead of daily crons, e.g. on_demand to compare).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goflags.sh

N="${1:-1000}"
SECS="${2:-60}"
WORK="$(mktemp -d)"
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/wharf" ./cmd/wharf
W="$WORK/wharf"
cd "$WORK"
"$W" quickstart --dir qs >/dev/null 2>&1

# A 10-row table for the trigger latency.
python3 - "$WORK/qs" <<'PY'
import sqlite3, sys, glob
db = glob.glob(sys.argv[1] + "/source/*.db")[0]
c = sqlite3.connect(db)
c.execute("DROP TABLE IF EXISTS ten")
c.execute("CREATE TABLE ten (id INTEGER PRIMARY KEY, note TEXT, updated_at TEXT)")
c.executemany("INSERT INTO ten VALUES (?, ?, ?)", [(i, "row %d" % i, "2026-01-01 00:00:%02d" % i) for i in range(1, 11)])
c.commit()
PY

# The catalog: quickstart's connection and lake, N scheduled workflows over
# its tables, and the on-demand 10-row table (a full load each time).
{
  sed -n '/^connections:/,/^workflows:/p' qs/wharf.yaml | sed '/^  schedule:/d; /^  cursor:/d'
  echo "  - {name: ten, table: ten}"
  tables=(regions countries locations departments jobs employees job_history)
  for i in $(seq 1 "$N"); do
    t=${tables[$((i % 7))]}
    sched="cron($((i % 60)) 3 * * ? *)"
    [ -n "${SCHED:-}" ] && sched="$SCHED"
    printf '  - {name: wf_%04d, table: %s, cursor: updated_at, schedule: "%s"}\n' "$i" "$t" "$sched"
  done
} > catalog.yaml

export WHARF_STATE="${STATE:-sqlite:$WORK/state.db}" WHARF_CATALOG="$WORK/catalog.yaml"
start=$(date +%s.%N)
"$W" deploy >/dev/null
printf 'deploy of %d workflows: %.2f s\n' "$((N + 1))" "$(echo "$(date +%s.%N) - $start" | bc)"

"$W" serve --log-level warn ${SERVE_ARGS:-} 2>serve.log &
SERVE_PID=$!
sleep 10 # start-up, first schedule sync, River's maintenance warm-up

hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$SERVE_PID/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
peak=0
for _ in $(seq 1 "$SECS"); do
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVE_PID/status")
  [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 1
done
t1=$(ticks); s1=$(date +%s.%N)
cpu=$(echo "scale=3; 100 * ($t1 - $t0) / $hz / ($s1 - $s0)" | bc)
printf 'idle serve, %d scheduled workflows, %ds: peak RSS %.1f MB (target < 100), CPU %s%% of one core (target < 2)\n' \
  "$N" "$SECS" "$(echo "$peak / 1024" | bc -l)" "$cpu"

# Trigger -> finished run, from a separate process (start-up included).
best=999999; total=0; runs=20
for _ in $(seq 1 $runs); do
  a=$(date +%s%N)
  "$W" trigger ten --wait >/dev/null 2>trigger.log || { cat trigger.log; exit 1; }
  b=$(date +%s%N)
  ms=$(( (b - a) / 1000000 ))
  total=$((total + ms)); [ "$ms" -lt "$best" ] && best=$ms
  sleep "0.$((RANDOM % 500 + 300))" # a random phase against the poll interval
done
printf 'wharf trigger ten --wait (10 rows, separate process): mean %d ms, best %d ms over %d (target < 300)\n' "$((total / runs))" "$best" "$runs"
"$W" status | tail -1
