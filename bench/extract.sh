#!/usr/bin/env bash
# Benchmark: PostgreSQL -> Parquet throughput of `wharf run` against the raw
# `COPY ... TO STDOUT (FORMAT binary)` rate measured in the same run, plus
# wharf's peak RSS. Prints the ratio (target >= 0.9) and peak RSS (target < 300 MB).
#
#   bash bench/extract.sh [ROWS]        (default 5,000,000 rows; the table is kept between runs)
#
# Env: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable),
#      REPEAT (default 3: best of N for both sides), COMPRESSION (default zstd).
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${1:-5000000}"
REPEAT="${REPEAT:-3}"
COMPRESSION="${COMPRESSION:-zstd}"
DB="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
TABLE="wharf_bench.mixed_${ROWS}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

psql_() { psql "$DB" -v ON_ERROR_STOP=1 -qtA "$@"; }

exists=$(psql_ -c "SELECT to_regclass('$TABLE') IS NOT NULL")
if [ "$exists" != "t" ]; then
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

echo "building wharf..." >&2
go build -o "$WORK/wharf" ./cmd/wharf

cat > "$WORK/catalog.yaml" <<YAML
connections:
  bench:
    engine: postgres
    secret: env:WHARF_BENCH_DSN
lakes:
  out:
    url: file://$WORK/lake
    compression: $COMPRESSION
workflows:
  - name: bench
    table: $TABLE
YAML
export WHARF_BENCH_DSN="$DB"

now() { date +%s.%N; }
best_copy=""; best_wharf=""; peak_rss=0
for i in $(seq 1 "$REPEAT"); do
  t0=$(now)
  psql "$DB" -qc "COPY (SELECT * FROM $TABLE) TO STDOUT (FORMAT binary)" > /dev/null
  t1=$(now)
  c=$(echo "$t1 - $t0" | bc -l)

  rm -rf "$WORK/lake" "$WORK/state.db"*
  t0=$(now)
  /usr/bin/time -f '%M' -o "$WORK/rss" "$WORK/wharf" run -c "$WORK/catalog.yaml" --state "sqlite:$WORK/state.db" \
    --log-level warn bench > "$WORK/out" 2>&1 || { cat "$WORK/out"; exit 1; }
  t1=$(now)
  w=$(echo "$t1 - $t0" | bc -l)
  rss=$(tail -n1 "$WORK/rss")
  printf 'round %d: raw COPY %.2fs, wharf run %.2fs, wharf peak RSS %d MB\n' "$i" "$c" "$w" $((rss / 1024))
  if [ -z "$best_copy" ] || (( $(echo "$c < $best_copy" | bc -l) )); then best_copy=$c; fi
  if [ -z "$best_wharf" ] || (( $(echo "$w < $best_wharf" | bc -l) )); then best_wharf=$w; fi
  (( rss > peak_rss )) && peak_rss=$rss
done

lake_bytes=$(du -sb "$WORK/lake" | cut -f1)
ratio=$(echo "$best_copy / $best_wharf" | bc -l)
printf '\nrows: %d   parquet (%s): %d MB\n' "$ROWS" "$COMPRESSION" $((lake_bytes / 1024 / 1024))
printf 'best raw COPY:  %.2fs (%.0f rows/s)\n' "$best_copy" "$(echo "$ROWS / $best_copy" | bc -l)"
printf 'best wharf run: %.2fs (%.0f rows/s)\n' "$best_wharf" "$(echo "$ROWS / $best_wharf" | bc -l)"
printf 'ratio wharf/raw COPY rate: %.2f (target >= 0.90)\n' "$ratio"
printf 'wharf peak RSS: %d MB (target < 300 MB)\n' $((peak_rss / 1024))
