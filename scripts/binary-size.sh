#!/usr/bin/env bash
# Where a wharf binary's size goes: the code and read-only data symbol sizes `go tool nm -size`
# reports (types T and R), summed per module (the first path elements of each symbol's
# package), largest first. Writable data and BSS are left out (a 32 MiB BSS
# array of crypto/fips140 is in no file); the rest of the
# file (DWARF, symbol tables, runtime metadata) is the difference to the
# file size, printed last.
#
#   bash scripts/binary-size.sh [BINARY] [TOP]   (default: builds one in a temp dir; top 25)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goflags.sh
bin="${1:-}"
top="${2:-25}"
if [ -z "$bin" ]; then
  bin="$(mktemp -d)/wharf"
  go build -o "$bin" ./cmd/wharf
fi
go tool nm -size "$bin" | awk -v top="$top" -v file="$(stat -c %s "$bin")" '
  $3 ~ /^[TtRr]$/ {
    size = $2; name = $4
    # The package is the symbol up to the first "." after its last "/".
    slash = match(name, /.*\//) ? RLENGTH : 0
    rest = substr(name, slash + 1)
    dot = index(rest, ".")
    pkg = dot ? substr(name, 1, slash + dot - 1) : name
    n = split(pkg, p, "/")
    if (p[1] ~ /\./) {            # a module path: host/owner/repo (3 elements; 2 for golang.org/x-less hosts)
      mod = p[1]
      k = (p[1] ~ /^(github\.com|golang\.org|gitlab\.com)$/) ? 3 : 2
      for (i = 2; i <= k && i <= n; i++) mod = mod "/" p[i]
      if (p[1] == "cloud.google.com" || p[1] == "google.golang.org") mod = p[1] "/" p[2]
    } else if (pkg ~ /^(type:|go:|runtime|internal|sync|reflect)/) {
      mod = "go runtime and type data"
    } else {
      mod = "go standard library"
    }
    sum[mod] += size; total += size
  }
  END {
    n = 0
    for (m in sum) { order[++n] = m }
    # simple selection sort, largest first
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (sum[order[j]] > sum[order[i]]) { t = order[i]; order[i] = order[j]; order[j] = t }
    printf "%-50s %8s %6s\n", "module", "MB", "share"
    for (i = 1; i <= n && i <= top; i++) printf "%-50s %8.1f %5.1f%%\n", order[i], sum[order[i]] / 1e6, 100 * sum[order[i]] / file
    printf "%-50s %8.1f %5.1f%%\n", "(symbols, all modules)", total / 1e6, 100 * total / file
    printf "%-50s %8.1f %5.1f%%\n", "(DWARF, symbol tables, other)", (file - total) / 1e6, 100 * (file - total) / file
    printf "%-50s %8.1f\n", "file", file / 1e6
  }'
