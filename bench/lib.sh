# Shared pieces of the bench/*.sh scripts, sourced after `cd` to the
# checkout: the build flags, and WORK, a scratch directory removed on exit.

. scripts/goflags.sh
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

now() { date +%s.%N; }
median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

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
