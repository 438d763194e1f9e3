# Shared pieces of the bench/*.sh scripts, sourced after `cd` to the
# checkout: the build flags, and WORK, a scratch directory removed on exit.

. scripts/goflags.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# median_or_na: the median of its input lines, or n/a if any is n/a.
median_or_na() {
  local in
  in=$(cat)
  if grep -q n/a <<< "$in"; then echo n/a; else printf '%.2f' "$(median <<< "$in")"; fi
}

# server_cpu: CPU seconds (user + sys) used so far by the PostgreSQL server
# on this machine: its live processes plus the backends that have exited
# (the postmaster's reaped children). Prints nothing when no server process
# is readable here (a server elsewhere).
server_cpu() {
  local pm p f t=0
  pm=$(pgrep -o -x postgres 2>/dev/null) || return 0
  for p in $(pgrep -x postgres); do
    read -r -a f 2>/dev/null < "/proc/$p/stat" || continue
    t=$((t + f[13] + f[14]))
  done
  read -r -a f 2>/dev/null < "/proc/$pm/stat" || return 0
  echo "($t + ${f[15]} + ${f[16]}) / $(getconf CLK_TCK)" | bc -l
}

# server_mark: the server's process count and CPU before a run (MARK_PROCS,
# MARK_CPU), for server_since.
server_mark() {
  MARK_PROCS=$(pgrep -c -x postgres 2>/dev/null || true)
  MARK_CPU=$(server_cpu)
}

# server_since ROWS: the server's CPU seconds per million rows since
# server_mark, or n/a. It first waits (up to 2 s) for the run's backends to
# exit, so that their CPU is counted in the postmaster's children's.
server_since() {
  local i
  [ -n "$MARK_CPU" ] || { echo n/a; return; }
  for i in $(seq 1 40); do
    [ "$(pgrep -c -x postgres 2>/dev/null || true)" -le "$MARK_PROCS" ] && break
    sleep 0.05
  done
  printf '%.2f' "$(echo "($(server_cpu) - $MARK_CPU) * 1000000 / $1" | bc -l)"
}

# build_wharf DEST: WHARF_BIN copied to DEST if set, else this checkout built there.
build_wharf() {
  if [ -n "${WHARF_BIN:-}" ]; then
    cp "$WHARF_BIN" "$1"
  else
    echo "building wharf..." >&2
    go build -o "$1" ./cmd/wharf
  fi
}

# bench_catalog FILE ENGINE SECRET TABLE: a catalog of one workflow `bench`
# landing TABLE from connection `bench` (ENGINE, SECRET) into the file lake
# $WORK/lake with $COMPRESSION.
bench_catalog() {
  cat > "$1" <<YAML
connections:
  bench:
    engine: $2
    secret: $3
lakes:
  out:
    url: file://$WORK/lake
    compression: $COMPRESSION
workflows:
  - name: bench
    table: $4
YAML
}

# run_wharf BIN CATALOG STATE [PREFIX...]: one `wharf run` of workflow bench
# with SQLite state file STATE, under PREFIX (e.g. /usr/bin/time ...); its
# output is shown only if it fails, and then the script stops.
run_wharf() {
  local bin=$1 catalog=$2 state=$3; shift 3
  "$@" "$bin" run -c "$catalog" --state "sqlite:$state" \
    --log-level warn bench > "$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
}

# timed_run BIN CATALOG: a run into a fresh $WORK/lake and state under
# /usr/bin/time ("user sys maxrss-KB" in $WORK/time); sets WALL to its seconds.
timed_run() {
  rm -rf "$WORK/lake" "$WORK/state.db"*
  local t0
  t0=$(now)
  run_wharf "$1" "$2" "$WORK/state.db" /usr/bin/time -f '%U %S %M' -o "$WORK/time"
  WALL=$(echo "$(now) - $t0" | bc -l)
}
