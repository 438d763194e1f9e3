// Package crashpoint kills the process at named points of a landing run, for
// fault-injection tests only: they prove that a run killed anywhere leaves
// nothing that its retry does not clean up.
//
// WHARF_TEST_CRASH_AT=POINT[:N] makes the process kill itself with SIGKILL
// (no deferred clean-up, no state update: as a power cut or kill -9 would)
// the N-th time (default the first) any run of the process reaches POINT.
// When the variable is unset, Hit is a comparison of two strings. Never set
// it in production.
package crashpoint

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Env is the environment variable that arms a crash point.
const Env = "WHARF_TEST_CRASH_AT"

// The points a run passes, in order.
const (
	// UploadPart: a Parquet object's multipart upload is under way: a part
	// was sent (or is being sent) and the next is half filled. Hit once
	// per part after the first.
	UploadPart = "upload-part"
	// FileWritten: a Parquet object was completed (more may follow; files
	// close in the background, so the count is in the order closes finish).
	FileWritten = "file-written"
	// BeforeCommit: every object of the run is written; the state
	// transaction has not started.
	BeforeCommit = "before-commit"
	// AfterCommit: the state transaction committed; the run's snapshot
	// (Iceberg lakes) and manifest are not written yet.
	AfterCommit = "after-commit"
	// AfterManifest: the run's manifest is written.
	AfterManifest = "after-manifest"
	// AfterSnapshot: an Iceberg lake's catalog committed the run's
	// snapshot; the manifest is not written yet.
	AfterSnapshot = "after-snapshot"
	// OtherChunk: a process reading a chunk of a run that another process
	// coordinates (a run read in chunks by a fleet) has read a batch of
	// it; the chunk is not recorded done. Hit once per batch. Only
	// processes that are not the run's own hit it, so a fleet can be
	// armed alike.
	OtherChunk = "other-chunk"
)

// Points lists every crash point.
var Points = []string{UploadPart, FileWritten, BeforeCommit, AfterCommit, AfterSnapshot, AfterManifest, OtherChunk}

var (
	target string
	nth    int64 = 1
	hits   atomic.Int64
)

func init() { arm(os.Getenv(Env)) }

func arm(spec string) {
	target, nth = "", 1
	hits.Store(0)
	if spec == "" {
		return
	}
	name, count, hasCount := strings.Cut(spec, ":")
	target = name
	if hasCount {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "wharf: %s=%q: want POINT or POINT:N with N >= 1; crash point ignored\n", Env, spec)
			target = ""
			return
		}
		nth = n
	}
}

// Hit kills the process if point is the armed crash point and this is its
// N-th hit.
func Hit(point string) {
	if target == "" || point != target {
		return
	}
	if hits.Add(1) != nth {
		return
	}
	fmt.Fprintf(os.Stderr, "wharf: %s=%s: killing the process\n", Env, point)
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill() // SIGKILL
	}
	time.Sleep(time.Hour) // the signal is on its way
}
