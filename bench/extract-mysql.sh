#!/usr/bin/env bash
# Benchmark: MariaDB/MySQL -> Parquet throughput of `wharf run` against the
# raw read rate of the server's own client measured in the same run
# (`mariadb --quick -e "SELECT * FROM t" > /dev/null`), plus wharf's peak RSS.
# Rounds interleave the two; the figure is the median of the per-round
# ratios (raw time / wharf time: >= 1.0 means wharf keeps up with the client).
# Targets: ratio >= 1.0, peak RSS < 300 MB. On a shared machine the figures
# are noisy: the load average is printed with them.
#
#   bash bench/extract-mysql.sh [ROWS]      (default 2,000,000 rows; the table is kept between runs)
#
# Env: BENCH_MYSQL (default "-h 127.0.0.1 -P 3306 -u root": mariadb client options),
#      BENCH_MYSQL_URL (default mysql://root@127.0.0.1:3306/wharf_bench, the same server for wharf),
#      ROUNDS (default 3), COMPRESSION (default zstd).
# Needs MariaDB's built-in sequence tables (seq_1_to_N) to fill the table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

ROWS="${1:-2000000}"
ROUNDS="${ROUNDS:-3}"
COMPRESSION="${COMPRESSION:-zstd}"
read -r -a CLIENT <<< "${BENCH_MYSQL:--h 127.0.0.1 -P 3306 -u root}"
URL="${BENCH_MYSQL_URL:-mysql://root@127.0.0.1:3306/wharf_bench}"
TABLE="mixed_${ROWS}"

my() { mariadb "${CLIENT[@]}" --default-character-set=utf8mb4 "$@"; }

my -e "CREATE DATABASE IF NOT EXISTS wharf_bench CHARACTER SET utf8mb4"
exists=$(my -N -e "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA='wharf_bench' AND TABLE_NAME='$TABLE'")
if [ "$exists" != "1" ]; then
  echo "creating wharf_bench.$TABLE ($ROWS rows of 12 mixed columns)..." >&2
  my wharf_bench <<SQL
CREATE TABLE $TABLE (
  id          bigint PRIMARY KEY,
  qty         int NOT NULL,
  price       decimal(12,2),
  name        varchar(40) NOT NULL,
  note        varchar(64),
  created_at  timestamp(6) NOT NULL,
  updated_at  datetime(6) NOT NULL,
  day         date,
  active      tinyint(1),
  attrs       json,
  ref         char(36),
  score       double
) ENGINE=InnoDB;
INSERT INTO $TABLE
SELECT seq,
       seq % 1000,
       ROUND(RAND(seq) * 100000, 2),
       CONCAT('customer ', seq),
       IF(seq % 5 = 0, NULL, MD5(seq)),
       TIMESTAMP('2024-01-01') - INTERVAL seq SECOND,
       TIMESTAMP('2024-01-01') - INTERVAL (seq % 86400) SECOND,
       DATE('2024-01-01') - INTERVAL (seq % 3650) DAY,
       seq % 2,
       JSON_OBJECT('k', seq % 100, 'tag', CONCAT('t', seq % 7)),
       UUID(),
       RAND(seq + 1) * 1e6
FROM seq_1_to_${ROWS};
ANALYZE TABLE $TABLE;
SQL
fi

echo "building wharf..." >&2
go build -o "$WORK/wharf" ./cmd/wharf

bench_catalog "$WORK/catalog.yaml" mysql env:WHARF_BENCH_URL "wharf_bench.$TABLE"
export WHARF_BENCH_URL="$URL"

ratios=(); peak_rss=0
for i in $(seq 1 "$ROUNDS"); do
  t0=$(now)
  my --quick -e "SELECT * FROM wharf_bench.$TABLE" > /dev/null
  t1=$(now)
  raw=$(echo "$t1 - $t0" | bc -l)

  timed_run "$WORK/wharf" "$WORK/catalog.yaml"
  w=$WALL
  read -r _ _ rss < <(tail -n1 "$WORK/time")
  r=$(echo "$raw / $w" | bc -l)
  ratios+=("$r")
  printf 'round %d: raw mariadb --quick %.2fs, wharf run %.2fs, ratio %.2f, wharf peak RSS %d MB, load %s\n' \
    "$i" "$raw" "$w" "$r" $((rss / 1024)) "$(cut -d' ' -f1-3 /proc/loadavg)"
  (( rss > peak_rss )) && peak_rss=$rss
done

median=$(printf '%s\n' "${ratios[@]}" | median)
lake_bytes=$(du -sb "$WORK/lake" | cut -f1)
printf '\nrows: %d x 12 columns   parquet (%s): %d MB\n' "$ROWS" "$COMPRESSION" $((lake_bytes / 1024 / 1024))
printf 'median ratio raw client time / wharf time over %d interleaved rounds: %.2f (target >= 1.0)\n' "$ROUNDS" "$median"
printf 'wharf peak RSS: %d MB (target < 300 MB)\n' $((peak_rss / 1024))
printf 'load average: %s (a shared machine: figures are noisy)\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
