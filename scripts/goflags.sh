# Sourced by every script that builds wharf (scripts/*.sh, bench/*.sh), so
# the release binary, the tests' binary and the benchmarks' binary are built
# alike. One rule, one place:
#
#   disable_grpc_modules  cloud.google.com/go/storage's documented build tag:
#                         leaves out the gRPC DirectPath (xDS) transport and
#                         with it envoyproxy/go-control-plane, 12.7 MB of the
#                         release binary and ~18 MB of every wharf process's
#                         resident memory (its pages are touched at start).
#                         wharf reaches GCS over the JSON API; gs:// URLs with
#                         grpc=true still dial gRPC, only DirectPath is gone.
#
# A plain `go build ./cmd/wharf` without it makes a working, larger binary.
WHARF_TAGS="disable_grpc_modules"
# GOFLAGS as go sees it (the environment's, else `go env -w`'s, which a
# GOFLAGS in the environment would otherwise replace), plus the tags.
_goflags="$(go env GOFLAGS)"
case " $_goflags " in
  *" -tags="*) ;; # the caller chose its own tags
  *) export GOFLAGS="${_goflags:+$_goflags }-tags=$WHARF_TAGS" ;;
esac
unset _goflags
