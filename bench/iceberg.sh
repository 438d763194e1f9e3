#!/usr/bin/env bash
# Benchmark: the same PostgreSQL table landed by `wharf run` into a parquet
# lake and into an iceberg lake (catalog in the SQLite state file), in
# interleaved pairs (the order alternates), so both sides see the same load.
# Figures: the median of the pairs' ratios parquet time / iceberg time
# (target >= 0.95), and the same ratio of CPU seconds (user + sys of the
# wharf process), which a loaded machine does not distort; peak RSS of each.
#
#   bash bench/iceberg.sh [ROWS]     (default 5,000,000 rows; the mixed table of bench/extract.sh)
#
# Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
#      REPEAT (default 3 pairs), WHARF_BIN (a wharf binary instead of building this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROWS="${1:-5000000}"
REPEAT="${REPEAT:-3}"
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
TABLE="wharf_bench.mixed_${ROWS}"

if [ "$(psql "$DB" -qtAc "SELECT to_regclass('$TABLE') IS NOT NULL")" != "t" ]; then
  echo "creating $TABLE with bench/extract.sh (one pair)..." >&2
  REPEAT=1 SHAPE=mixed bash bench/extract.sh "$ROWS" > /dev/null
fi
build_wharf "$WORK/wharf"

for format in parquet iceberg; do
  cat > "$WORK/$format.yaml" <<YAML
connections:
  bench: {engine: postgres, secret: env:WHARF_BENCH_DSN}
lakes:
  out: {url: "file://$WORK/lake-$format", format: $format}
workflows:
  - {name: bench, table: $TABLE}
YAML
done
export WHARF_BENCH_DSN="$DB"

# land FORMAT: prints "wall cpu rss" of one run into a fresh lake and state.
land() {
  rm -rf "$WORK/lake-$1" "$WORK/state-$1.db"*
  local t0 t1 user sys rss
  t0=$(now)
  run_wharf "$WORK/wharf" "$WORK/$1.yaml" "$WORK/state-$1.db" /usr/bin/time -f '%U %S %M' -o "$WORK/time"
  t1=$(now)
  read -r user sys rss < <(tail -n1 "$WORK/time")
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$user + $sys" | bc -l) $rss"
}

printf 'load average at start: %s (%d cores)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
: > "$WORK/pairs"
for i in $(seq 1 "$REPEAT"); do
  if [ $((i % 2)) = 1 ]; then p=$(land parquet); c=$(land iceberg); else c=$(land iceberg); p=$(land parquet); fi
  read -r pw pc pr <<< "$p"
  read -r iw ic ir <<< "$c"
  printf 'pair %d: parquet %.2fs (CPU %.2fs, RSS %d MB), iceberg %.2fs (CPU %.2fs, RSS %d MB), ratio %.3f, CPU ratio %.3f\n' \
    "$i" "$pw" "$pc" $((pr / 1024)) "$iw" "$ic" $((ir / 1024)) "$(echo "$pw / $iw" | bc -l)" "$(echo "$pc / $ic" | bc -l)"
  echo "$pw $iw $pc $ic $pr $ir" >> "$WORK/pairs"
done

printf '\ntable: %s, %d rows; lake sizes: parquet %d bytes, iceberg %d bytes (of which metadata %d)\n' "$TABLE" "$ROWS" \
  "$(du -sb "$WORK/lake-parquet" | cut -f1)" "$(du -sb "$WORK/lake-iceberg" | cut -f1)" \
  "$(find "$WORK/lake-iceberg" -path '*/metadata/*' -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
printf 'median ratio of %d pairs (parquet time / iceberg time): %.3f (target >= 0.95)\n' "$REPEAT" "$(awk '{print $1 / $2}' "$WORK/pairs" | median)"
printf 'median CPU ratio (parquet CPU / iceberg CPU): %.3f; median CPU parquet %.2fs, iceberg %.2fs\n' \
  "$(awk '{print $3 / $4}' "$WORK/pairs" | median)" "$(cut -d' ' -f3 "$WORK/pairs" | median)" "$(cut -d' ' -f4 "$WORK/pairs" | median)"
printf 'peak RSS: parquet %d MB, iceberg %d MB\n' $(($(cut -d' ' -f5 "$WORK/pairs" | sort -n | tail -n1) / 1024)) $(($(cut -d' ' -f6 "$WORK/pairs" | sort -n | tail -n1) / 1024))
printf 'load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
