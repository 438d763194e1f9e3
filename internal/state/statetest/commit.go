package statetest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

func testCommitRun(t *testing.T, b Backend) {
	s := fresh(t, b)
	r := startRun(t, s, "orders", base)
	r.Rows, r.Bytes = 3000, 123456789012
	r.WatermarkFrom = &coltype.Watermark{Kind: coltype.Int64, Text: "100"}
	r.WatermarkTo = &coltype.Watermark{Kind: coltype.Int64, Text: "3100"}
	r.FinishedAt = base.Add(time.Minute)
	r.SchemaHash, r.Schema = "5c1e", `{"columns":[{"name":"order_id","type":"int64"}]}`
	created := base.Add(30 * time.Second)
	files := []state.File{
		{Path: "lake/orders/ingestion_date=2025-03-01/part-b.parquet", Rows: 1000, Bytes: 4096, CreatedAt: created},
		{Path: "lake/orders/ingestion_date=2025-03-01/part-a.parquet", Rows: 2000, Bytes: 8192, CreatedAt: created},
		{Path: "lake/orders/ingestion_date=2025-02-28/part 0 'x'.parquet", Rows: 0, Bytes: 100, CreatedAt: created.Add(-time.Second)},
	}
	orig := append([]state.File(nil), files...)
	wm := &coltype.Watermark{Kind: coltype.Int64, Text: "3100"}
	if err := s.CommitRun(t.Context(), r, files, wm, "order_id"); err != nil {
		t.Fatalf("CommitRun: %v", err)
	}
	if !reflect.DeepEqual(files, orig) {
		t.Errorf("CommitRun changed the caller's files slice")
	}
	if r.Status != state.StatusSucceeded || r.Files != 3 || !r.FinishedAt.Equal(base.Add(time.Minute).Truncate(time.Microsecond)) || r.FinishedAt.Location() != time.UTC {
		t.Errorf("after CommitRun: %s FinishedAt %v", fmtRun(*r), r.FinishedAt)
	}
	checkRun(t, s, r)
	checkWatermark(t, s, "orders", wm, "order_id")
	got := mustFiles(t, s, r.ID)
	// Oldest first, then by path; RunID and Workflow filled in; times UTC µs.
	want := []state.File{orig[2], orig[1], orig[0]}
	for i := range want {
		want[i].RunID, want[i].Workflow = r.ID, "orders"
		want[i].CreatedAt = want[i].CreatedAt.UTC().Truncate(time.Microsecond)
	}
	if len(got) != len(want) {
		t.Fatalf("Files = %d, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if !g.CreatedAt.Equal(w.CreatedAt) || g.CreatedAt.Location() != time.UTC {
			t.Errorf("file %s CreatedAt = %v, want %v in UTC", w.Path, g.CreatedAt, w.CreatedAt)
		}
		g.CreatedAt, w.CreatedAt = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("Files[%d] = %+v, want %+v", i, g, w)
		}
	}
	// A zero CreatedAt and FinishedAt become now.
	r2 := startRun(t, s, "orders", base.Add(time.Hour))
	before := time.Now().Add(-time.Second)
	if err := s.CommitRun(t.Context(), r2, []state.File{{Path: "lake/orders/x.parquet", Rows: 1, Bytes: 1}}, nil, ""); err != nil {
		t.Fatal(err)
	}
	f := mustFiles(t, s, r2.ID)
	if len(f) != 1 || f[0].CreatedAt.Before(before) || r2.FinishedAt.Before(before) {
		t.Errorf("zero times: files %+v, run FinishedAt %v; want about now", f, r2.FinishedAt)
	}
	checkRun(t, s, r2)
	// Files of other runs are separate.
	if got := mustFiles(t, s, r.ID); len(got) != 3 {
		t.Errorf("run %s has %d files after another commit, want 3", r.ID, len(got))
	}
}

// testRecordLakePrefix: a running run records where it writes; the
// prefix is read back, survives the run's end, and only a running run
// takes one.
func testRecordLakePrefix(t *testing.T, b Backend) {
	s := fresh(t, b)
	r := startRun(t, s, "orders", base)
	r.FullLoad = true
	const prefix = "s3://bucket/raw/shop/orders"
	if err := s.RecordLakePrefix(t.Context(), r, prefix); err != nil {
		t.Fatalf("RecordLakePrefix: %v", err)
	}
	if r.LakePrefix != prefix {
		t.Errorf("RecordLakePrefix left r.LakePrefix %q", r.LakePrefix)
	}
	checkRun(t, s, r)
	// A copy that does not carry the prefix ends the run without losing it.
	ended := *r
	ended.LakePrefix = ""
	ended.Status, ended.Error = state.StatusFailed, "boom"
	if err := s.FinishRun(t.Context(), &ended); err != nil {
		t.Fatal(err)
	}
	if got := mustRun(t, s, r.ID); got.LakePrefix != prefix || got.Status != state.StatusFailed {
		t.Errorf("after FinishRun: %s, want the prefix kept", fmtRun(*got))
	}
	if err := s.RecordLakePrefix(t.Context(), &ended, "file:///x"); err == nil {
		t.Error("RecordLakePrefix accepted a run that is not running")
	}
	stale := *r // believes it still runs
	if err := s.RecordLakePrefix(t.Context(), &stale, "file:///x"); !errors.Is(err, state.ErrNotRunning) {
		t.Errorf("RecordLakePrefix of a run that ended = %v, want ErrNotRunning", err)
	}
	r2 := startRun(t, s, "orders", base.Add(time.Hour))
	if err := s.RecordLakePrefix(t.Context(), r2, ""); err == nil {
		t.Error("RecordLakePrefix accepted an empty prefix")
	}
}

func testCommitRunWithoutWatermark(t *testing.T, b Backend) {
	s := fresh(t, b)
	prev := &coltype.Watermark{Kind: coltype.Date, Text: "2024-05-05"}
	r := startRun(t, s, "wf", base)
	if err := s.CommitRun(t.Context(), r, nil, prev, "day"); err != nil {
		t.Fatal(err)
	}
	// wm == nil leaves the watermark as it was, even with a cursor named.
	r2 := startRun(t, s, "wf", base.Add(time.Second))
	r2.FullLoad = true
	if err := s.CommitRun(t.Context(), r2, []state.File{{Path: "p", Rows: 5, Bytes: 50}}, nil, "ignored"); err != nil {
		t.Fatal(err)
	}
	checkWatermark(t, s, "wf", prev, "day")
	checkRun(t, s, r2)
	// A commit with no files records a run with none.
	r3 := startRun(t, s, "wf", base.Add(2*time.Second))
	if err := s.CommitRun(t.Context(), r3, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	if r3.Files != 0 || len(mustFiles(t, s, r3.ID)) != 0 {
		t.Errorf("commit without files: Files %d", r3.Files)
	}
	checkRun(t, s, r3)
}

// committed sets up a workflow with a committed watermark and one landed
// file, and returns it with a second, running run.
func committed(t *testing.T, s state.Store, wf string) (prev *coltype.Watermark, running *state.Run) {
	t.Helper()
	prev = &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-01-01T00:00:00.000000Z"}
	r := startRun(t, s, wf, base)
	if err := s.CommitRun(t.Context(), r, []state.File{{Path: wf + "/first.parquet", Rows: 1, Bytes: 1}}, prev, "updated_at"); err != nil {
		t.Fatal(err)
	}
	return prev, startRun(t, s, wf, base.Add(time.Minute))
}

// checkUntouched asserts that a failed commit of r left everything as it
// was: r still stored as before, no files for it, the previous watermark.
func checkUntouched(t *testing.T, s state.Store, stored *state.Run, prev *coltype.Watermark) {
	t.Helper()
	checkRun(t, s, stored)
	if fs := mustFiles(t, s, stored.ID); len(fs) != 0 {
		t.Errorf("failed commit left files: %+v", fs)
	}
	checkWatermark(t, s, stored.Workflow, prev, "updated_at")
}

func testCommitRunNotRunning(t *testing.T, b Backend) {
	s := fresh(t, b)
	prev, r := committed(t, s, "wf")
	// A cleanup marks the run failed while its process still runs.
	abandoned := *r
	abandoned.Status, abandoned.Error = state.StatusFailed, "abandoned: no heartbeat"
	if err := s.FinishRun(t.Context(), &abandoned); err != nil {
		t.Fatal(err)
	}
	// The process then tries to commit: refused, nothing changes.
	mine := *r
	mine.Rows = 99
	files := []state.File{{Path: "wf/late.parquet", Rows: 99, Bytes: 1000}}
	err := s.CommitRun(t.Context(), &mine, files, &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-02-01T00:00:00.000000Z"}, "updated_at")
	if !errors.Is(err, state.ErrNotRunning) || !strings.Contains(err.Error(), r.ID) || !strings.Contains(err.Error(), "failed") {
		t.Fatalf("CommitRun of a failed run: %v, want ErrNotRunning naming the run and its status", err)
	}
	if mine.Status != state.StatusRunning || mine.Rows != 99 || !mine.FinishedAt.IsZero() {
		t.Errorf("a refused CommitRun changed the caller's run: %s", fmtRun(mine))
	}
	checkUntouched(t, s, &abandoned, prev)
	// Committing twice is refused the same way.
	r2 := startRun(t, s, "wf", base.Add(2*time.Minute))
	if err := s.CommitRun(t.Context(), r2, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	again := *r2
	if err := s.CommitRun(t.Context(), &again, files, nil, ""); !errors.Is(err, state.ErrNotRunning) {
		t.Fatalf("second CommitRun: %v, want ErrNotRunning", err)
	}
	checkUntouched(t, s, r2, prev)
	// Unknown run, and a run under the wrong workflow.
	ghost := &state.Run{ID: newID(), Workflow: "wf", Trigger: state.TriggerManual}
	if err := s.CommitRun(t.Context(), ghost, nil, nil, ""); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("CommitRun of an unknown run: %v, want ErrNotFound", err)
	}
	r3 := startRun(t, s, "wf", base.Add(3*time.Minute))
	wrong := *r3
	wrong.Workflow = "other"
	if err := s.CommitRun(t.Context(), &wrong, nil, &coltype.Watermark{Kind: coltype.Int64, Text: "1"}, "id"); err == nil ||
		!strings.Contains(err.Error(), "belongs to workflow wf") {
		t.Errorf("CommitRun under the wrong workflow: %v", err)
	}
	checkUntouched(t, s, r3, prev)
	checkWatermark(t, s, "other", nil, "")
}

func testCommitRunRollsBackHalfDone(t *testing.T, b Backend) {
	url := b.NewURL(t)
	s := open(t, b, url)
	prev, r := committed(t, s, "wf")
	stored := *r
	b.FailFileInsert(t, url, "wf/poison.parquet")
	// The run update and the first file insert succeed inside the
	// transaction before the poisoned insert fails: all must roll back.
	r.Rows, r.Bytes = 30, 3000
	files := []state.File{
		{Path: "wf/1.parquet", Rows: 10, Bytes: 1000},
		{Path: "wf/poison.parquet", Rows: 10, Bytes: 1000},
		{Path: "wf/3.parquet", Rows: 10, Bytes: 1000},
	}
	next := &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-03-01T00:00:00.000000Z"}
	err := s.CommitRun(t.Context(), r, files, next, "updated_at")
	if err == nil || !strings.Contains(err.Error(), "wf/poison.parquet") || !strings.Contains(err.Error(), r.ID) {
		t.Fatalf("CommitRun with a failing file insert: %v, want an error naming the run and the file", err)
	}
	if errors.Is(err, state.ErrNotRunning) {
		t.Errorf("a database failure must not read as ErrNotRunning: %v", err)
	}
	if r.Status != state.StatusRunning || !r.FinishedAt.IsZero() {
		t.Errorf("a failed CommitRun changed the caller's run: %s", fmtRun(*r))
	}
	checkUntouched(t, s, &stored, prev)
	// The store is still usable and the run can still commit.
	files = append(files[:1], files[2:]...)
	if err := s.CommitRun(t.Context(), r, files, next, "updated_at"); err != nil {
		t.Fatalf("CommitRun after a rolled-back one: %v", err)
	}
	checkRun(t, s, r)
	checkWatermark(t, s, "wf", next, "updated_at")
	if fs := mustFiles(t, s, r.ID); len(fs) != 2 {
		t.Errorf("files after the retry = %+v, want 2", fs)
	}
}
