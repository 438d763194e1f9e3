#!/usr/bin/env bash
# Benchmark (not a test): the scheduler under load. N workflows over tiny
# tables (quickstart's HR tables, a few rows each) all fire in the same
# minute (hourly cron at one minute); it reports the time from that fire time
# to the last of their runs finished (every workflow has a succeeded run:
# a failed attempt waits for its retry), the CPU and peak RSS of the wharf
# processes meanwhile, and checks that every workflow ran exactly once for
# that fire time (runs with trigger "schedule" per workflow: none lost, none
# doubled, none skipped).
#
#   bash bench/schedule.sh [WORKFLOWS] [MAX_SECONDS]    (defaults 10000 and 300)
#
# Env:
#   STATE     state URL (default: a SQLite file in a temporary directory;
#             a postgres://...&search_path=S URL measures PostgreSQL; the
#             schema S must exist and be empty)
#   WORKER=1  also start a `wharf worker` (a two-process fleet)
#   SERVE_ARGS extra flags for serve and worker (e.g. "--workers 8")
#   IDLE=SECS measure an idle serve instead: the workflows fire an hour
#             from now; CPU and peak RSS over SECS seconds
#   BIN       a wharf binary to measure instead of building this checkout
#   LEAD      seconds from start to the fire time (default 150: deploy and
#             start-up of 10,000 workflows on a loaded machine)
#   PROFILE=DIR  write Go CPU profiles of serve (DIR/serve.prof) and worker
#             (DIR/worker.prof) for `go tool pprof`, and their heap profiles
#             at exit (DIR/serve.mem, DIR/worker.mem: `go tool pprof
#             -sample_index=inuse_space` for the live heap)
#
# Every workflow lands through the catalog's one connection, so the most runs
# in flight at once is what that connection saw; with --per-connection N in
# SERVE_ARGS it must not exceed N (checked from the runs' start and end
# times, across all processes).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goflags.sh

N="${1:-10000}"
MAX="${2:-300}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${BIN:-}" ]; then W="$BIN"; else go build -o "$WORK/wharf" ./cmd/wharf; W="$WORK/wharf"; fi
cd "$WORK"
"$W" quickstart --dir qs >/dev/null 2>&1

# The fire minute: far enough ahead for deploy and start-up (or an hour away
# when measuring idle).
lead=${LEAD:-150}
[ -n "${IDLE:-}" ] && lead=1800
fire=$(( ( $(date +%s) + lead + 59 ) / 60 * 60 ))
minute=$(date -u -d "@$fire" +%M | sed 's/^0//')
# One table may land into one lake once (validate refuses a second
# workflow landing it): each group of five workflows (one per table) has a
# lake of its own, all through quickstart's one connection.
{
  sed -n '/^connections:/,/^lakes:/p' qs/wharf.yaml
  for g in $(seq 0 $(( (N - 1) / 5 ))); do printf '  l%05d:\n    url: file://%s/lakes/l%05d\n' "$g" "$WORK" "$g"; done
  printf 'defaults:\n  connection: hr\nworkflows:\n'
  tables=(regions countries locations departments jobs)
  for i in $(seq 1 "$N"); do
    printf '  - {name: wf_%05d, table: %s, lake: l%05d, schedule: "cron(%d * * * ? *)"}\n' "$i" "${tables[$((i % 5))]}" $(( (i - 1) / 5 )) "$minute"
  done
} > catalog.yaml

export WHARF_STATE="${STATE:-sqlite:$WORK/state.db}" WHARF_CATALOG="$WORK/catalog.yaml"
start=$(date +%s.%N)
"$W" deploy >/dev/null
printf 'deploy of %d workflows: %.1f s\n' "$N" "$(echo "$(date +%s.%N) - $start" | bc)"

prof() { [ -n "${PROFILE:-}" ] && mkdir -p "$PROFILE" && echo "--cpuprofile $(realpath "$PROFILE")/$1.prof --memprofile $(realpath "$PROFILE")/$1.mem"; true; }
"$W" serve --log-level warn $(prof serve) ${SERVE_ARGS:-} 2>serve.log &
PIDS+=($!)
if [ -n "${WORKER:-}" ]; then
  "$W" worker --log-level warn $(prof worker) ${SERVE_ARGS:-} 2>worker.log &
  PIDS+=($!)
fi

hz=$(getconf CLK_TCK)
ticks() { local s=0; for p in "${PIDS[@]}"; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$s"; }
rss() { local s=0; for p in "${PIDS[@]}"; do s=$((s + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status"))); done; echo "$s"; }

if [ -n "${IDLE:-}" ]; then
  sleep 15 # start-up and first schedule sync
  t0=$(ticks); s0=$(date +%s.%N); peak=0
  for _ in $(seq 1 "$IDLE"); do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 1; done
  t1=$(ticks); s1=$(date +%s.%N)
  p=${PIDS[0]}
  mb() { awk "/^$1:/ {print \$2 / 1024}" "/proc/$p/status"; }
  printf 'idle serve, %d hourly workflows, %ds: CPU %s%% of one core, peak RSS %.0f MB; at the end VmRSS %.0f MB (anonymous %.0f, file %.0f), VmHWM %.0f MB; load average %s\n' "$N" "$IDLE" \
    "$(echo "scale=2; 100 * ($t1 - $t0) / $hz / ($s1 - $s0)" | bc)" "$(echo "$peak / 1024" | bc -l)" \
    "$(mb VmRSS)" "$(mb RssAnon)" "$(mb RssFile)" "$(mb VmHWM)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

# Counts straight from the state database (wharf runs --json over 10,000
# runs is too slow to poll).
if [[ "$WHARF_STATE" == postgres* ]]; then
  sp=$(sed -n 's/.*[?&]search_path=\([^&]*\).*/\1/p' <<<"$WHARF_STATE")
  pgurl=$(sed 's/[?&]search_path=[^&]*//' <<<"$WHARF_STATE")
  q() { PGOPTIONS="${sp:+-c search_path=$sp}" psql "$pgurl" -Atqc "$1"; }
  epoch() { echo "extract(epoch from $1)"; }
  micros() { echo "(extract(epoch from $1) * 1000000)::bigint"; }
else
  q() { sqlite3 -cmd '.timeout 10000' "${WHARF_STATE#sqlite:}" "$1"; }
  epoch() { echo "$1 / 1e6"; }
  micros() { echo "$1"; }
fi

# PostgreSQL: the database's committed transactions and row writes
# (pg_stat_database; River's included, and anything else using the
# database: give the bench a database of its own to read them per run).
pgstat() { [[ "$WHARF_STATE" == postgres* ]] && q "SELECT pg_stat_force_next_flush(); SELECT xact_commit || ' ' || (tup_inserted + tup_updated + tup_deleted) FROM pg_stat_database WHERE datname = current_database()" | tail -1; true; }

now=$(date +%s)
[ "$now" -lt "$fire" ] || { echo "start-up took past the fire time; raise lead" >&2; exit 1; }
sleep $((fire - now))
st0=$(pgstat)
t0=$(ticks); peak=0; drained=""
for s in $(seq 1 "$MAX"); do
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  if [ $((s % 5)) -eq 0 ]; then
    ran=$(q "SELECT count(DISTINCT workflow) FROM wharf_runs WHERE status = 'succeeded'")
    active=$(q "SELECT count(*) FROM wharf_runs WHERE status IN ('queued', 'running')")
    if [ "$ran" -ge "$N" ] && [ "$active" -eq 0 ]; then drained=$s; break; fi
  fi
  sleep 1
done
t1=$(ticks); el=$(( $(date +%s) - fire ))
sleep 1; st1=$(pgstat)
cpu=$(echo "scale=1; 100 * ($t1 - $t0) / $hz / $el" | bc)

echo "runs by trigger and status: $(q "SELECT run_trigger || ' ' || status || ' ' || count(*) FROM wharf_runs GROUP BY run_trigger, status" | tr '\n' ',')"
printf 'first run started %.1f s after the fire time\n' \
  "$(q "SELECT $(epoch "min(started_at)") - $fire FROM wharf_runs WHERE run_trigger = 'schedule' AND status <> 'queued'")"
printf 'fire time -> last run finished: %.1f s (%s of %d workflows ran; measured for %d s)\n' \
  "$(q "SELECT coalesce($(epoch "max(finished_at)") - $fire, -1) FROM wharf_runs")" \
  "$(q "SELECT count(DISTINCT workflow) FROM wharf_runs WHERE run_trigger = 'schedule'")" "$N" "$el"
echo "lost: $(q "SELECT $N - count(DISTINCT workflow) FROM wharf_runs WHERE run_trigger = 'schedule'")," \
  "without a succeeded run: $(q "SELECT $N - count(DISTINCT workflow) FROM wharf_runs WHERE status = 'succeeded'")," \
  "doubled: $(q "SELECT count(*) FROM (SELECT workflow FROM wharf_runs WHERE run_trigger = 'schedule' GROUP BY workflow HAVING count(*) > 1) d")," \
  "skipped: $(q "SELECT count(*) FROM wharf_runs WHERE status = 'skipped'")"
# Runs in flight at once: a sweep over start (+1) and end (-1) times; an
# end sorts before a start at the same instant.
inflight=$(q "SELECT $(micros started_at) || ' 1' FROM wharf_runs WHERE started_at IS NOT NULL AND finished_at IS NOT NULL
  UNION ALL SELECT $(micros finished_at) || ' 0' FROM wharf_runs WHERE started_at IS NOT NULL AND finished_at IS NOT NULL" |
  sort -k1,1n -k2,2n | awk '{ n += ($2 == 1 ? 1 : -1); if (n > m) m = n } END { print m + 0 }')
cap=$(sed -n 's/.*--per-connection[= ]\([0-9]*\).*/\1/p' <<<"${SERVE_ARGS:-}")
echo "most runs in flight at once on the one connection: $inflight${cap:+ (--per-connection $cap)}"
if [ -n "$cap" ] && [ "$cap" -gt 0 ] && [ "$inflight" -gt "$cap" ]; then echo "PER-CONNECTION CAP EXCEEDED"; fi
printf 'CPU %s%% of one core (all wharf processes, fire time to end), peak RSS %.0f MB (sum)\n' "$cpu" "$(echo "$peak / 1024" | bc -l)"
printf 'CPU per run: %.1f ms\n' "$(echo "1000 * ($t1 - $t0) / $hz / $(q "SELECT count(*) FROM wharf_runs WHERE finished_at IS NOT NULL")" | bc -l)"
if [ -n "$st0" ]; then
  read -r x0 w0 <<<"$st0"; read -r x1 w1 <<<"$st1"
  n=$(q "SELECT count(*) FROM wharf_runs WHERE finished_at IS NOT NULL")
  printf 'database %s, per finished run: %.1f transactions committed, %.1f rows written (pg_stat_database)\n' \
    "$(q "SELECT current_database()")" "$(echo "($x1 - $x0) / $n" | bc -l)" "$(echo "($w1 - $w0) / $n" | bc -l)"
fi
[ -n "$drained" ] || echo "NOT DRAINED within $MAX s"
echo "WARN+ERROR log lines: $(cat serve.log ${WORKER:+worker.log} | grep -c 'level=WARN\|level=ERROR')"
cat serve.log ${WORKER:+worker.log} | grep 'level=WARN\|level=ERROR' | sed 's/.*msg="\([^"]*\)".*/  \1/' | sort | uniq -c || true
