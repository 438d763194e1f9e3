#!/usr/bin/env bash
# Benchmark: wharf's own CPU cost per row, PostgreSQL -> Parquet, in figures
# that a loaded machine does not distort (wall times are not printed):
#   - instructions of one `wharf run` (valgrind --tool=callgrind, with
#     GODEBUG=asyncpreemptoff=1 so the count does not depend on scheduling,
#     and cpu.rdtscp=off: valgrind's CPUID offers RDTSCP on hosts that lack
#     it, and then cannot run it, so a Go runtime that waits on a lock died
#     of SIGILL in runtime.cputicks),
#     with the top functions by inclusive count;
#   - CPU seconds (user + sys) per million rows, median of REPEAT runs;
#   - peak RSS and the Parquet bytes written.
#
#   bash bench/cpu.sh [ROWS]      (default 200,000 rows of SHAPE=mixed, see bench/extract.sh)
#
# BASELINE_BIN=/path/to/old/wharf measures that binary too, its runs
# interleaved with this checkout's, and prints both columns side by side:
# the before/after figures of a change.
#
# Env: BENCH_DATABASE_URL, SHAPE, COMPRESSION (as bench/extract.sh),
#      REPEAT (default 5 runs per binary for CPU seconds),
#      CALLGRIND=0 (skip the instruction count; it takes minutes),
#      KEEP=DIR (keep the callgrind files there: callgrind_annotate DIR/cg.new),
#      WHARF_BIN (measure this binary instead of building the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROWS="${1:-200000}"
REPEAT="${REPEAT:-5}"
SHAPE="${SHAPE:-mixed}"
COMPRESSION="${COMPRESSION:-zstd}"
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
TABLE="wharf_bench.${SHAPE}_${ROWS}"

CREATE_ONLY=1 ROWS="$ROWS" SHAPE="$SHAPE" BENCH_DATABASE_URL="$DB" bash bench/extract.sh "$ROWS"

build_wharf "$WORK/new"
bins=(new)
if [ -n "${BASELINE_BIN:-}" ]; then
  cp "$BASELINE_BIN" "$WORK/old"
  bins=(old new)
fi

bench_catalog "$WORK/catalog.yaml" postgres env:WHARF_BENCH_DSN "$TABLE"
export WHARF_BENCH_DSN="$DB"

# run BIN [PREFIX...]: one fresh run of the workflow.
run() {
  local bin=$1; shift
  rm -rf "$WORK/lake" "$WORK/state.db"*
  run_wharf "$WORK/$bin" "$WORK/catalog.yaml" "$WORK/state.db" "$@"
}

printf 'load average at start: %s (%d cores)\ntable: %s (%d rows), compression %s\n' \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)" "$TABLE" "$ROWS" "$COMPRESSION"
for i in $(seq 1 "$REPEAT"); do
  for b in "${bins[@]}"; do
    run "$b" /usr/bin/time -f '%U %S %M' -o "$WORK/time"
    read -r user sys rss < <(tail -n1 "$WORK/time")
    echo "$(echo "($user + $sys) * 1000000 / $ROWS" | bc -l) $rss" >> "$WORK/cpu.$b"
  done
done
CG_GODEBUG=asyncpreemptoff=1,cpu.rdtscp=off
for b in "${bins[@]}"; do
  run "$b"
  du -sb "$WORK/lake" | cut -f1 > "$WORK/bytes.$b"
  if [ "${CALLGRIND:-1}" != 0 ]; then
    GODEBUG=$CG_GODEBUG run "$b" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$b" -q
    # Process start (package initialisation) costs the same whatever the
    # table: `wharf --help` measures it, to be taken off the per-row figure.
    GODEBUG=$CG_GODEBUG valgrind --tool=callgrind --callgrind-out-file="$WORK/cgstart.$b" -q \
      "$WORK/$b" --help > /dev/null
    callgrind_annotate "$WORK/cgstart.$b" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' > "$WORK/start.$b"
    callgrind_annotate "$WORK/cg.$b" 2>/dev/null > "$WORK/cga.$b"
    [ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$WORK/cg.$b" "$KEEP/"
  fi
done

for b in "${bins[@]}"; do
  label=$b; [ "$b" = new ] && label=this; [ "$b" = old ] && label=baseline
  printf '\n%s:\n' "$label"
  printf '  CPU (user+sys), median of %d: %.3fs per million rows\n' "$REPEAT" "$(cut -d' ' -f1 "$WORK/cpu.$b" | median)"
  printf '  peak RSS: %d MB\n' $(( $(cut -d' ' -f2 "$WORK/cpu.$b" | sort -n | tail -n1) / 1024 ))
  printf '  parquet bytes: %d\n' "$(cat "$WORK/bytes.$b")"
  if [ -f "$WORK/cga.$b" ]; then
    ir=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}' "$WORK/cga.$b")
    start=$(cat "$WORK/start.$b")
    printf '  instructions: %d; process start (wharf --help) %d; per row, start excluded: %.0f\n' \
      "$ir" "$start" "$(echo "($ir - $start) / $ROWS" | bc -l)"
    echo '  top functions, self:'
    awk '/PROGRAM TOTALS/ {p=1; next} p && /^ *[0-9,]+ \(/ {print "   ", $0; n++} n==15 {exit}' "$WORK/cga.$b"
  fi
done
printf '\nload average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
