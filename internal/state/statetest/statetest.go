// Package statetest is the conformance suite every state store backend
// passes: call Run from the backend's tests with a way to get a fresh, empty
// database per test and the backend's own open function (a store factory):
// the suite knows no backend, so a new one runs it without being known to
// package stateurl.
package statetest

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

// Backend describes the backend under test.
type Backend struct {
	// NewURL returns the state URL of a fresh, empty database that lives as
	// long as t. Every call returns a different database; opening the same
	// URL twice shares one.
	NewURL func(t *testing.T) string
	// Open opens (and migrates) the store at a URL NewURL returned.
	Open func(ctx context.Context, url string) (state.Store, error)
	// FailFileInsert changes the (already migrated) database at url so that
	// inserting a wharf_files row whose path is path fails inside the
	// database, e.g. with a trigger. The suite uses it to check that a
	// CommitRun failing halfway through its transaction changes nothing.
	FailFileInsert func(t *testing.T, url, path string)
}

// Run runs the whole suite against a backend.
func Run(t *testing.T, b Backend) {
	if b.NewURL == nil || b.Open == nil || b.FailFileInsert == nil {
		t.Fatal("statetest.Run: Backend.NewURL, Backend.Open and Backend.FailFileInsert are required")
	}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"WatermarkEveryKind", testWatermarkEveryKind},
		{"WatermarkNoneAndReset", testWatermarkNoneAndReset},
		{"WatermarkRejected", testWatermarkRejected},
		{"StartRunRoundTrip", testStartRunRoundTrip},
		{"StartRunRejected", testStartRunRejected},
		{"CommitRun", testCommitRun},
		{"RecordLakePrefix", testRecordLakePrefix},
		{"CommitRunWithoutWatermark", testCommitRunWithoutWatermark},
		{"CommitRunNotRunning", testCommitRunNotRunning},
		{"CommitRunRollsBackHalfDone", testCommitRunRollsBackHalfDone},
		{"FinishRun", testFinishRun},
		{"FinishRunRejected", testFinishRunRejected},
		{"StaleRuns", testStaleRuns},
		{"RunsOrderFilterLimit", testRunsOrderFilterLimit},
		{"RunAndFilesNotFound", testRunAndFilesNotFound},
		{"MigrationIdempotent", testMigrationIdempotent},
		{"ConcurrentOpen", testConcurrentOpen},
		{"ConcurrentCommits", testConcurrentCommits},
		{"CommitRacesFinish", testCommitRacesFinish},
		{"DeployRoundTrip", testDeployRoundTrip},
		{"DeployUpdateKeepsHistory", testDeployUpdateKeepsHistory},
		{"DeployDeleteAndReset", testDeployDeleteAndReset},
		{"DeployAtomic", testDeployAtomic},
		{"DeployIdempotent", testDeployIdempotent},
		{"DeployBasisConflict", testDeployBasisConflict},
		{"DeployConcurrentCreate", testDeployConcurrentCreate},
		{"SetFireTimes", testSetFireTimes},
		{"DueAndClaimFires", testDueAndClaimFires},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each test has a database (schema or file) of its own
			tc.fn(t, b)
		})
	}
}

// open opens a store at url, closed when t ends.
func open(t *testing.T, b Backend, url string) state.Store {
	t.Helper()
	s, err := b.Open(t.Context(), url)
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fresh opens a store on a fresh database.
func fresh(t *testing.T, b Backend) state.Store {
	t.Helper()
	return open(t, b, b.NewURL(t))
}

var idSeq atomic.Int64

// newID returns a unique run ID that sorts after every earlier one, like a
// UUIDv7.
func newID() string {
	return fmt.Sprintf("0199a000-0000-7000-8000-%012d", idSeq.Add(1))
}

// base is a fixed instant with sub-microsecond digits, in a non-UTC zone.
var base = time.Date(2025, 3, 1, 10, 0, 0, 123456789, time.FixedZone("UTC+2", 2*3600))

// startRun records a new running run of workflow, started at `at`.
func startRun(t *testing.T, s state.Store, workflow string, at time.Time) *state.Run {
	t.Helper()
	r := &state.Run{ID: newID(), Workflow: workflow, Trigger: state.TriggerSchedule, StartedAt: at}
	if err := s.StartRun(t.Context(), r); err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	return r
}

func mustRun(t *testing.T, s state.Store, id string) *state.Run {
	t.Helper()
	r, err := s.Run(t.Context(), id)
	if err != nil {
		t.Fatalf("Run(%s): %v", id, err)
	}
	return r
}

func mustFiles(t *testing.T, s state.Store, runID string) []state.File {
	t.Helper()
	fs, err := s.Files(t.Context(), runID)
	if err != nil {
		t.Fatalf("Files(%s): %v", runID, err)
	}
	return fs
}

// checkWatermark asserts the workflow's watermark and cursor (want nil:
// none).
func checkWatermark(t *testing.T, s state.Store, workflow string, want *coltype.Watermark, wantCursor string) {
	t.Helper()
	got, cursor, err := s.Watermark(t.Context(), workflow)
	if err != nil {
		t.Fatalf("Watermark(%s): %v", workflow, err)
	}
	if !reflect.DeepEqual(got, want) || cursor != wantCursor {
		t.Fatalf("Watermark(%s) = %+v, %q; want %+v, %q", workflow, got, cursor, want, wantCursor)
	}
	// The batch read (status tables) says the same.
	all, err := s.Watermarks(t.Context())
	if err != nil {
		t.Fatalf("Watermarks: %v", err)
	}
	if got, ok := all[workflow]; !reflect.DeepEqual(got, want) || ok != (want != nil) {
		t.Fatalf("Watermarks()[%s] = %+v (present %v); want %+v", workflow, got, ok, want)
	}
}

// checkRun asserts that the stored run equals want field by field, times
// compared as instants that must also be in UTC.
func checkRun(t *testing.T, s state.Store, want *state.Run) {
	t.Helper()
	if d := diffRun(mustRun(t, s, want.ID), want); d != "" {
		t.Fatalf("run %s: %s", want.ID, d)
	}
}

func diffRun(got, want *state.Run) string {
	var d []string
	for _, tm := range []struct {
		field     string
		got, want time.Time
	}{{"StartedAt", got.StartedAt, want.StartedAt}, {"FinishedAt", got.FinishedAt, want.FinishedAt}} {
		if !tm.got.Equal(tm.want) || tm.got.IsZero() != tm.want.IsZero() {
			d = append(d, fmt.Sprintf("%s = %v, want %v", tm.field, tm.got, tm.want))
		}
		if !tm.got.IsZero() && tm.got.Location() != time.UTC {
			d = append(d, fmt.Sprintf("%s location = %v, want UTC", tm.field, tm.got.Location()))
		}
	}
	g, w := *got, *want
	g.StartedAt, g.FinishedAt, w.StartedAt, w.FinishedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		d = append(d, fmt.Sprintf("got %s\nwant %s", fmtRun(g), fmtRun(w)))
	}
	return strings.Join(d, "; ")
}

func fmtRun(r state.Run) string {
	return fmt.Sprintf("{ID:%s Workflow:%s Trigger:%s Status:%s Rows:%d Bytes:%d Files:%d From:%+v To:%+v FullLoad:%v Error:%q SchemaHash:%q Schema:%q LakePrefix:%q}",
		r.ID, r.Workflow, r.Trigger, r.Status, r.Rows, r.Bytes, r.Files, r.WatermarkFrom, r.WatermarkTo, r.FullLoad, r.Error, r.SchemaHash, r.Schema, r.LakePrefix)
}

// queue queues r with an enqueue that returns jobID and skip.
func queue(t *testing.T, s state.Store, r *state.Run, jobID int64, skip string) error {
	return s.QueueRun(t.Context(), r, func(any) (int64, string, error) { return jobID, skip, nil })
}
