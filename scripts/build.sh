#!/usr/bin/env bash
# Build wharf release binaries: static (CGO_ENABLED=0: every dependency is
# pure Go, SQLite included), reproducible paths (-trimpath), without the
# symbol table and DWARF (-s -w: about a third of the size), stamped with
# version, commit and build date for `wharf version`.
#
#   bash scripts/build.sh [GOOS/GOARCH ...]     (default: this machine's)
#
# Writes dist/wharf-GOOS-GOARCH. VERSION, COMMIT and BUILD_DATE override the
# stamps (the container build passes them, having no .git).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/goflags.sh

version="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}"
commit="${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}"
date="${BUILD_DATE:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
pkg=github.com/wharf-data/wharf/internal/cli
ldflags="-s -w -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.BuildDate=$date"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=("$(go env GOOS)/$(go env GOARCH)")
fi
mkdir -p dist
for t in "${targets[@]}"; do
  out="dist/wharf-${t%/*}-${t#*/}"
  CGO_ENABLED=0 GOOS="${t%/*}" GOARCH="${t#*/}" go build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/wharf
  printf '%s  %s (%s bytes)\n' "$out" "$version" "$(stat -c %s "$out")"
done
