#!/usr/bin/env bash
# Benchmark (not a test): the scheduler under load. N workflows over tiny
# tables (quickstart's HR tables, a few rows each) all fire in the same
# minute (hourly cron at one minute); it reports the time from that fire time
# to the last of their runs finished, the CPU and peak RSS of the wharf
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
set -euo pipefail
cd "$(dirname "$0")/.."

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
lead=150
[ -n "${IDLE:-}" ] && lead=1800
fire=$(( ( $(date +%s) + lead + 59 ) / 60 * 60 ))
minute=$(date -u -d "@$fire" +%M | sed 's/^0//')
{
  sed -n '/^connections:/,/^workflows:/p' qs/wharf.yaml | sed '/^  schedule:/d; /^  cursor:/d'
  tables=(regions countries locations departments jobs)
  for i in $(seq 1 "$N"); do
    printf '  - {name: wf_%05d, table: %s, schedule: "cron(%d * * * ? *)"}\n' "$i" "${tables[$((i % 5))]}" "$minute"
  done
} > catalog.yaml

export WHARF_STATE="${STATE:-sqlite:$WORK/state.db}" WHARF_CATALOG="$WORK/catalog.yaml"
start=$(date +%s.%N)
"$W" deploy >/dev/null
printf 'deploy of %d workflows: %.1f s\n' "$N" "$(echo "$(date +%s.%N) - $start" | bc)"

"$W" serve --log-level warn ${SERVE_ARGS:-} 2>serve.log &
PIDS+=($!)
if [ -n "${WORKER:-}" ]; then
  "$W" worker --log-level warn ${SERVE_ARGS:-} 2>worker.log &
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
  printf 'idle serve, %d hourly workflows, %ds: CPU %s%% of one core, peak RSS %.0f MB\n' "$N" "$IDLE" \
    "$(echo "scale=2; 100 * ($t1 - $t0) / $hz / ($s1 - $s0)" | bc)" "$(echo "$peak / 1024" | bc -l)"
  exit 0
fi

now=$(date +%s)
[ "$now" -lt "$fire" ] || { echo "start-up took past the fire time; raise lead" >&2; exit 1; }
sleep $((fire - now))
t0=$(ticks); peak=0; drained=""
count() { "$W" runs --json --limit $((N * 3)) 2>/dev/null | python3 -c '
import json, sys
fire = int(sys.argv[1])
runs = [r for r in json.load(sys.stdin) if r["trigger"] in ("schedule", "retry")]
done = [r for r in runs if r["finished_at"] and r["status"] in ("succeeded", "failed", "skipped", "cancelled")]
print(len([r for r in done if r["trigger"] == "schedule"]), len(runs))' "$fire"; }
for s in $(seq 1 "$MAX"); do
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  if [ $((s % 5)) -eq 0 ]; then
    read -r finished _ < <(count)
    if [ "$finished" -ge "$N" ]; then drained=$s; break; fi
  fi
  sleep 1
done
t1=$(ticks); el=$(( $(date +%s) - fire ))
cpu=$(echo "scale=1; 100 * ($t1 - $t0) / $hz / $el" | bc)

"$W" runs --json --limit $((N * 3)) | python3 -c '
import json, sys, collections, datetime
fire, n, el = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ts = lambda s: datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
runs = [r for r in json.load(sys.stdin) if r["trigger"] in ("schedule", "retry")]
sched = collections.Counter(r["workflow"] for r in runs if r["trigger"] == "schedule")
status = collections.Counter(r["status"] for r in runs)
lost = n - len(sched)
doubled = sum(1 for c in sched.values() if c > 1)
ends = [ts(r["finished_at"]) for r in runs if r["finished_at"]]
starts = sorted(ts(r["started_at"]) - fire for r in runs if r["started_at"] and r["trigger"] == "schedule")
last = max(ends) - fire if ends else float("nan")
print("runs by status: %s" % dict(status))
print("first run started %.1f s after the fire time" % (starts[0] if starts else float("nan")))
print("fire time -> last run finished: %.1f s (%d of %d workflows ran; measured for %d s)" % (last, len(sched), n, el))
print("lost: %d, doubled: %d, skipped: %d" % (lost, doubled, status.get("skipped", 0)))
' "$fire" "$N" "$el"
printf 'CPU %s%% of one core (all wharf processes, fire time to end), peak RSS %.0f MB (sum)\n' "$cpu" "$(echo "$peak / 1024" | bc -l)"
[ -n "$drained" ] || echo "NOT DRAINED within $MAX s"
grep -c 'level=WARN\|level=ERROR' serve.log | sed 's/^/serve WARN+ERROR lines: /'
