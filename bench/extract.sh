#!/usr/bin/env bash
# Benchmark: PostgreSQL -> Parquet throughput of `wharf run` against the raw
# `COPY ... TO STDOUT (FORMAT binary)` rate measured in the same run.
#
# Rounds are pairs run back to back (raw COPY, then wharf), so both sides see
# the same machine load; the figure is the median of the pairs' ratios. The
# load average at the start is printed with it: a figure taken on a slowed
# machine flatters wharf (the raw side is then bound by the server).
# Wall ratios are noisy on a shared machine; wharf's own CPU (user + sys
# seconds of the wharf process per million rows) is not, so it is printed
# too, with peak RSS (target < 300 MB) and the lake's size. So is the
# PostgreSQL server's CPU per million rows in each run (when the server runs
# on this machine), which differs between raw COPY, one stream and several,
# and the best ratio that CPU allowed here: raw COPY time over
# max(server / streams, (server + wharf) / cores).
#
#   bash bench/extract.sh [ROWS]        (default 5,000,000 rows; the table is kept between runs)
#
# SHAPE picks the table: "mixed" (default: 12 scalar columns: integers,
# numeric, text, timestamps, date, boolean, jsonb, uuid, double) or "nested"
# (id plus an int[] of 1-8 elements with NULLs, an interval with months, days
# and microseconds, and a jsonb object: the types issue 7 added).
#
# PARALLEL lists the workflow's `parallel` settings to measure, e.g. PARALLEL="1 2 4"
# (default 1): each round runs raw COPY once, then wharf once per setting, and
# every setting gets its own medians against the same raw COPY times.
#
# Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
#      REPEAT (default 5 pairs), COMPRESSION (default zstd),
#      WHARF_BIN (a wharf binary to measure instead of building this checkout),
#      CREATE_ONLY=1 (create the table and stop; bench/cpu.sh uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROWS="${1:-5000000}"
REPEAT="${REPEAT:-5}"
SHAPE="${SHAPE:-mixed}"
COMPRESSION="${COMPRESSION:-zstd}"
PARALLEL="${PARALLEL:-1}"
for n in $PARALLEL; do
  case "$n" in
    [1-9] | [1-5][0-9] | 6[0-4]) ;;
    *) echo "PARALLEL must list numbers from 1 to 64, not \"$n\"" >&2; exit 2 ;;
  esac
done
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
case "$SHAPE" in
  mixed | nested) ;;
  *) echo "SHAPE must be mixed or nested, not \"$SHAPE\"" >&2; exit 2 ;;
esac
TABLE="wharf_bench.${SHAPE}_${ROWS}"

psql_() { psql "$DB" -v ON_ERROR_STOP=1 -qtA "$@"; }

exists=$(psql_ -c "SELECT to_regclass('$TABLE') IS NOT NULL")
if [ "$exists" != "t" ] && [ "$SHAPE" = nested ]; then
  echo "creating $TABLE ($ROWS rows: id, int[], interval, jsonb)..." >&2
  psql_ <<SQL
CREATE SCHEMA IF NOT EXISTS wharf_bench;
CREATE TABLE $TABLE (
  id     bigint PRIMARY KEY,
  ia     integer[],
  span   interval,
  attrs  jsonb
);
INSERT INTO $TABLE
SELECT g,
       CASE WHEN g % 10 = 0 THEN NULL
            ELSE array(SELECT CASE WHEN (g + i) % 13 = 0 THEN NULL ELSE (g * i) % 100000 END
                       FROM generate_series(1, 1 + g % 8) i) END,
       make_interval(months => g % 25 - 12, days => g % 40, secs => (g % 86400) + (g % 1000) / 1000.0),
       jsonb_build_object('k', g % 100, 'tag', 't' || (g % 7), 'xs', jsonb_build_array(g, g % 3))
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE $TABLE;
SQL
elif [ "$exists" != "t" ]; then
  echo "creating $TABLE ($ROWS rows of 12 mixed columns)..." >&2
  psql_ <<SQL
CREATE SCHEMA IF NOT EXISTS wharf_bench;
CREATE TABLE $TABLE (
  id          bigint PRIMARY KEY,
  qty         integer NOT NULL,
  price       numeric(12,2),
  name        text NOT NULL,
  note        varchar(64),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  day         date,
  active      boolean,
  attrs       jsonb,
  ref         uuid,
  score       double precision
);
INSERT INTO $TABLE
SELECT g,
       (g % 1000)::int,
       round((random() * 100000)::numeric, 2),
       'customer ' || g,
       CASE WHEN g % 5 = 0 THEN NULL ELSE md5(g::text) END,
       now() - (g || ' seconds')::interval,
       now() - ((g % 86400) || ' seconds')::interval,
       current_date - (g % 3650),
       g % 2 = 0,
       jsonb_build_object('k', g % 100, 'tag', 't' || (g % 7)),
       md5(g::text)::uuid,
       random() * 1e6
FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE $TABLE;
SQL
fi
[ -n "${CREATE_ONLY:-}" ] && exit 0

build_wharf "$WORK/wharf"

for n in $PARALLEL; do
  bench_catalog "$WORK/catalog-$n.yaml" postgres env:WHARF_BENCH_DSN "$TABLE"
  # parallel: 1 is the default: left out, so WHARF_BIN may be a binary
  # from before the key existed (a before/after pair).
  [ "$n" = 1 ] || echo "    parallel: $n" >> "$WORK/catalog-$n.yaml"
done
export WHARF_BENCH_DSN="$DB"

printf 'load average at start: %s (%d cores)\n' "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
for n in $PARALLEL; do : > "$WORK/pairs-$n"; done
cores=$(nproc)
: > "$WORK/raw-server"
for i in $(seq 1 "$REPEAT"); do
  server_mark
  t0=$(now)
  psql "$DB" -qc "COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT binary)" > /dev/null
  t1=$(now)
  c=$(echo "$t1 - $t0" | bc -l)
  rb=$(server_since "$ROWS")
  echo "$rb" >> "$WORK/raw-server"
  printf 'pair %d: raw COPY %.2fs, server CPU %s s per million rows\n' "$i" "$c" "$rb"

  for n in $PARALLEL; do
    server_mark
    timed_run "$WORK/wharf" "$WORK/catalog-$n.yaml"
    w=$WALL
    b=$(server_since "$ROWS")
    read -r user sys rss < <(tail -n1 "$WORK/time")
    cpu=$(echo "($user + $sys) * 1000000 / $ROWS" | bc -l)
    # The fastest this run could have been on this machine with the CPU it
    # took: its n backends cannot finish before B/n, and the server and
    # wharf together cannot before (B + W)/cores. Raw COPY over that is the
    # best ratio the machine allowed this pair (n/a with a server elsewhere).
    best=n/a
    if [ "$b" != n/a ]; then
      best=$(echo "b = $b / $n; t = ($b + $cpu) / $cores; if (t > b) b = t; $c * 1000000 / $ROWS / b" | bc -l)
      best=$(printf '%.2f' "$best")
    fi
    printf '  wharf run (parallel %d) %.2fs, ratio %.2f (best this machine allowed: %s), wharf CPU %.2fs and server CPU %s s per million rows, peak RSS %d MB\n' \
      "$n" "$w" "$(echo "$c / $w" | bc -l)" "$best" "$cpu" "$b" $((rss / 1024))
    echo "$c $w $cpu $rss $b $best" >> "$WORK/pairs-$n"
  done
done

lake_bytes=$(du -sb "$WORK/lake" | cut -f1)
printf '\ntable: %s\nrows: %d   parquet (%s, last setting): %d bytes\n' "$TABLE" "$ROWS" "$COMPRESSION" "$lake_bytes"
first=${PARALLEL%% *}
med_copy=$(cut -d' ' -f1 "$WORK/pairs-$first" | median)
printf 'median raw COPY:  %.2fs (%.0f rows/s), server CPU %s s per million rows\n' "$med_copy" "$(echo "$ROWS / $med_copy" | bc -l)" "$(median_or_na < "$WORK/raw-server")"
for n in $PARALLEL; do
  pairs="$WORK/pairs-$n"
  med_wharf=$(cut -d' ' -f2 "$pairs" | median)
  ratio=$(awk '{print $1 / $2}' "$pairs" | median)
  cpu=$(cut -d' ' -f3 "$pairs" | median)
  peak_rss=$(cut -d' ' -f4 "$pairs" | sort -n | tail -n1)
  target=""
  case "$SHAPE/$n" in
    mixed/1) target=" (target >= 0.95)" ;;
    mixed/2) target=" (target >= 1.1)" ;;
  esac
  rss_target=300
  [ "$n" -gt 1 ] && rss_target=400
  printf '\nparallel %d:\n' "$n"
  printf '  median wharf run: %.2fs (%.0f rows/s)\n' "$med_wharf" "$(echo "$ROWS / $med_wharf" | bc -l)"
  printf '  median ratio of %d pairs (raw COPY time / wharf time): %.2f%s\n' "$REPEAT" "$ratio" "$target"
  printf '  median wharf CPU (user+sys): %.2fs per million rows\n' "$cpu"
  printf '  median server CPU: %s s per million rows; median best ratio this machine allowed: %s\n' \
    "$(cut -d' ' -f5 "$pairs" | median_or_na)" "$(cut -d' ' -f6 "$pairs" | median_or_na)"
  printf '  wharf peak RSS: %d MB (target < %d MB)\n' $((peak_rss / 1024)) "$rss_target"
done
printf 'load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
