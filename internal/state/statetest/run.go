package statetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

func testStartRunRoundTrip(t *testing.T, b Backend) {
	s := fresh(t, b)
	r := &state.Run{
		ID: newID(), Workflow: "orders", Trigger: state.TriggerManual,
		StartedAt:     base, // nanoseconds, UTC+2
		WatermarkFrom: &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-02-28T23:00:00.000000Z"},
		WatermarkTo:   &coltype.Watermark{Kind: coltype.TimestampTZ, Text: "2025-03-01T08:00:00.123456Z"},
	}
	if err := s.StartRun(t.Context(), r); err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	// StartRun normalizes the caller's run to what it stored.
	want := base.UTC().Truncate(time.Microsecond)
	if r.Status != state.StatusRunning || !r.StartedAt.Equal(want) || r.StartedAt.Location() != time.UTC || !r.FinishedAt.IsZero() {
		t.Fatalf("after StartRun: Status %s StartedAt %v FinishedAt %v; want running %v zero", r.Status, r.StartedAt, r.FinishedAt, want)
	}
	checkRun(t, s, r)

	// A zero StartedAt becomes now; a time before 1970 and a full load keep.
	before := time.Now().UTC().Truncate(time.Microsecond)
	r2 := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerRetry, FullLoad: true}
	if err := s.StartRun(t.Context(), r2); err != nil {
		t.Fatal(err)
	}
	if r2.StartedAt.Before(before) || r2.StartedAt.After(time.Now().Add(time.Second)) {
		t.Errorf("zero StartedAt became %v, want about %v", r2.StartedAt, before)
	}
	checkRun(t, s, r2)
	r3 := &state.Run{ID: newID(), Workflow: "old", Trigger: state.TriggerSchedule,
		StartedAt: time.Date(1969, 7, 20, 20, 17, 40, 999999000, time.UTC)}
	if err := s.StartRun(t.Context(), r3); err != nil {
		t.Fatal(err)
	}
	checkRun(t, s, r3)
}

func testStartRunRejected(t *testing.T, b Backend) {
	s := fresh(t, b)
	orig := startRun(t, s, "orders", base)
	for _, tc := range []struct {
		name string
		run  state.Run
		want string
	}{
		{"empty ID", state.Run{Workflow: "orders", Trigger: state.TriggerManual}, "empty run ID"},
		{"empty workflow", state.Run{ID: newID(), Trigger: state.TriggerManual}, "empty workflow"},
		{"bad trigger", state.Run{ID: newID(), Workflow: "orders", Trigger: "cron"}, `trigger "cron"`},
		{"finished status", state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual, Status: state.StatusSucceeded}, `status "succeeded"`},
		{"negative rows", state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual, Rows: -1}, "negative rows"},
		{"bad window", state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual,
			WatermarkTo: &coltype.Watermark{Kind: coltype.Date, Text: "2024-13-01"}}, "WatermarkTo"},
		{"duplicate ID", state.Run{ID: orig.ID, Workflow: "other", Trigger: state.TriggerManual, StartedAt: base.Add(time.Hour)}, orig.ID},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := tc.run
			before := r
			err := s.StartRun(t.Context(), &r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("StartRun error = %v, want one containing %q", err, tc.want)
			}
			if !reflect.DeepEqual(r, before) {
				t.Errorf("a failed StartRun changed the caller's run: %s", fmtRun(r))
			}
		})
	}
	checkRun(t, s, orig) // the duplicate did not overwrite it
	runs, err := s.Runs(t.Context(), state.RunFilter{})
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs after rejected starts = %d runs, %v; want 1", len(runs), err)
	}
}

func testFinishRun(t *testing.T, b Backend) {
	s := fresh(t, b)
	for _, status := range []state.RunStatus{state.StatusFailed, state.StatusCancelled, state.StatusSkipped} {
		r := startRun(t, s, "wf_"+string(status), base)
		r.Status = status
		r.Error = "extract orders: connection reset by peer"
		r.Rows, r.Bytes, r.Files = 10, 2048, 1
		r.WatermarkFrom = &coltype.Watermark{Kind: coltype.Int64, Text: "5"}
		r.FinishedAt = base.Add(90*time.Second + 1500) // sub-microsecond part dropped
		if err := s.FinishRun(t.Context(), r); err != nil {
			t.Fatalf("FinishRun %s: %v", status, err)
		}
		if want := base.Add(90*time.Second + 1500).UTC().Truncate(time.Microsecond); !r.FinishedAt.Equal(want) || r.FinishedAt.Equal(base.Add(90*time.Second+1500)) {
			t.Errorf("FinishedAt normalized to %v, want %v", r.FinishedAt, want)
		}
		checkRun(t, s, r)
		checkWatermark(t, s, r.Workflow, nil, "") // a failed run never moves it
	}
	// A zero FinishedAt becomes now; error text that PostgreSQL could not
	// store (NUL, invalid UTF-8) is made storable, and the caller sees what
	// was stored.
	r := startRun(t, s, "wf_text", base)
	r.Status = state.StatusFailed
	r.Error = "bad byte \xff and NUL \x00 in driver message"
	if err := s.FinishRun(t.Context(), r); err != nil {
		t.Fatalf("FinishRun with odd error text: %v", err)
	}
	if r.FinishedAt.IsZero() || strings.ContainsRune(r.Error, 0) || r.Error != "bad byte \uFFFD and NUL \uFFFD in driver message" {
		t.Errorf("after FinishRun: FinishedAt %v, Error %q", r.FinishedAt, r.Error)
	}
	checkRun(t, s, r)
}

func testFinishRunRejected(t *testing.T, b Backend) {
	s := fresh(t, b)
	done := startRun(t, s, "wf", base)
	if err := s.CommitRun(t.Context(), done, []state.File{{Path: "wf/a.parquet", Rows: 1, Bytes: 10}}, nil, ""); err != nil {
		t.Fatal(err)
	}
	// A succeeded run cannot be marked failed afterwards (its files are landed).
	late := *done
	late.Status, late.Error, late.FinishedAt = state.StatusFailed, "cleanup thought it crashed", time.Time{}
	err := s.FinishRun(t.Context(), &late)
	if !errors.Is(err, state.ErrNotRunning) || !strings.Contains(err.Error(), done.ID) || !strings.Contains(err.Error(), "succeeded") {
		t.Fatalf("FinishRun of a succeeded run: %v, want ErrNotRunning naming the run and its status", err)
	}
	if late.Status != state.StatusFailed || !late.FinishedAt.IsZero() {
		t.Errorf("a failed FinishRun changed the caller's run: %+v", late)
	}
	checkRun(t, s, done)
	// Finishing twice: the second is refused.
	r := startRun(t, s, "wf", base.Add(time.Minute))
	r.Status = state.StatusCancelled
	if err := s.FinishRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	again := *r
	again.Status, again.FinishedAt = state.StatusFailed, time.Time{}
	if err := s.FinishRun(t.Context(), &again); !errors.Is(err, state.ErrNotRunning) {
		t.Fatalf("second FinishRun: %v, want ErrNotRunning", err)
	}
	checkRun(t, s, r)
	// Status must be a non-success end.
	r2 := startRun(t, s, "wf", base.Add(2*time.Minute))
	for _, st := range []state.RunStatus{state.StatusSucceeded, state.StatusRunning, state.StatusQueued, "", "crashed"} {
		c := *r2
		c.Status = st
		if err := s.FinishRun(t.Context(), &c); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", st)) {
			t.Errorf("FinishRun with status %q: %v, want an error naming it", st, err)
		}
	}
	checkRun(t, s, r2)
	// Unknown run; a run whose workflow differs from the stored one.
	ghost := &state.Run{ID: newID(), Workflow: "wf", Trigger: state.TriggerManual, Status: state.StatusFailed}
	if err := s.FinishRun(t.Context(), ghost); !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), ghost.ID) {
		t.Errorf("FinishRun of an unknown run: %v, want ErrNotFound naming it", err)
	}
	wrong := *r2
	wrong.Workflow, wrong.Status = "other", state.StatusFailed
	if err := s.FinishRun(t.Context(), &wrong); err == nil || !strings.Contains(err.Error(), "belongs to workflow wf") {
		t.Errorf("FinishRun under the wrong workflow: %v", err)
	}
	checkRun(t, s, r2)
}

func testStaleRuns(t *testing.T, b Backend) {
	s := fresh(t, b)
	if runs, err := s.StaleRuns(t.Context(), "a"); err != nil || len(runs) != 0 {
		t.Fatalf("StaleRuns on an empty store = %v, %v", runs, err)
	}
	a2 := startRun(t, s, "a", base.Add(2*time.Minute))
	a1 := startRun(t, s, "a", base.Add(1*time.Minute))
	b1 := startRun(t, s, "b", base)
	aDone := startRun(t, s, "a", base)
	if err := s.CommitRun(t.Context(), aDone, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	aFailed := startRun(t, s, "a", base)
	aFailed.Status = state.StatusFailed
	if err := s.FinishRun(t.Context(), aFailed); err != nil {
		t.Fatal(err)
	}
	check := func(workflow string, want ...*state.Run) {
		t.Helper()
		got, err := s.StaleRuns(t.Context(), workflow)
		if err != nil {
			t.Fatalf("StaleRuns(%q): %v", workflow, err)
		}
		if len(got) != len(want) {
			t.Fatalf("StaleRuns(%q) = %d runs, want %d", workflow, len(got), len(want))
		}
		for i := range want {
			if d := diffRun(&got[i], want[i]); d != "" {
				t.Errorf("StaleRuns(%q)[%d]: %s", workflow, i, d)
			}
		}
	}
	check("a", a1, a2) // oldest first
	check("b", b1)
	check("", b1, a1, a2)
	check("nope")
}

func testRunsOrderFilterLimit(t *testing.T, b Backend) {
	s := fresh(t, b)
	// Start out of order; two runs share a StartedAt (ID breaks the tie).
	r3 := startRun(t, s, "a", base.Add(3*time.Second))
	r1 := startRun(t, s, "a", base.Add(1*time.Second))
	rb := startRun(t, s, "b", base.Add(2*time.Second))
	r4x := startRun(t, s, "a", base.Add(4*time.Second))
	r4y := startRun(t, s, "a", base.Add(4*time.Second)) // larger ID
	check := func(f state.RunFilter, want ...*state.Run) {
		t.Helper()
		got, err := s.Runs(t.Context(), f)
		if err != nil {
			t.Fatalf("Runs(%+v): %v", f, err)
		}
		var gotIDs, wantIDs []string
		for _, r := range got {
			gotIDs = append(gotIDs, r.ID)
		}
		for _, r := range want {
			wantIDs = append(wantIDs, r.ID)
		}
		if strings.Join(gotIDs, ",") != strings.Join(wantIDs, ",") {
			t.Fatalf("Runs(%+v) IDs = %v, want %v", f, gotIDs, wantIDs)
		}
		for i := range want {
			if d := diffRun(&got[i], want[i]); d != "" {
				t.Errorf("Runs(%+v)[%d]: %s", f, i, d)
			}
		}
	}
	check(state.RunFilter{}, r4y, r4x, r3, rb, r1)
	check(state.RunFilter{Workflow: "a"}, r4y, r4x, r3, r1)
	check(state.RunFilter{Workflow: "b"}, rb)
	check(state.RunFilter{Workflow: "a", Limit: 2}, r4y, r4x)
	check(state.RunFilter{Limit: 1}, r4y)
	check(state.RunFilter{Workflow: "none"})
	// Pages: Before is the last ID of the previous page (ties by ID).
	check(state.RunFilter{Before: r4y.ID, Limit: 2}, r4x, r3)
	check(state.RunFilter{Before: r3.ID}, rb, r1)
	check(state.RunFilter{Workflow: "a", Before: r4x.ID}, r3, r1)
	check(state.RunFilter{Before: r1.ID})
	rb.Status, rb.Error = state.StatusFailed, "boom"
	if err := s.FinishRun(t.Context(), rb); err != nil {
		t.Fatal(err)
	}
	check(state.RunFilter{Status: state.StatusFailed}, rb)
	check(state.RunFilter{Status: state.StatusRunning, Before: r3.ID}, r1)
	if _, err := s.Runs(t.Context(), state.RunFilter{Limit: -1}); err == nil || !strings.Contains(err.Error(), "Limit -1") {
		t.Errorf("Runs with Limit -1: %v, want an error naming the limit", err)
	}
	// Limit 0 means 100.
	for i := range 101 {
		startRun(t, s, "many", base.Add(time.Duration(i)*time.Millisecond))
	}
	got, err := s.Runs(t.Context(), state.RunFilter{Workflow: "many"})
	if err != nil || len(got) != 100 {
		t.Fatalf("Runs(Limit 0) = %d runs, %v; want 100", len(got), err)
	}
	if want := base.Add(100 * time.Millisecond).UTC().Truncate(time.Microsecond); !got[0].StartedAt.Equal(want) {
		t.Errorf("newest of many = %v, want %v", got[0].StartedAt, want)
	}
}

func testRunAndFilesNotFound(t *testing.T, b Backend) {
	s := fresh(t, b)
	id := newID()
	if _, err := s.Run(t.Context(), id); !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), id) {
		t.Errorf("Run(unknown) = %v, want ErrNotFound naming %s", err, id)
	}
	if _, err := s.Files(t.Context(), id); !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), id) {
		t.Errorf("Files(unknown) = %v, want ErrNotFound naming %s", err, id)
	}
	r := startRun(t, s, "wf", base)
	if fs := mustFiles(t, s, r.ID); len(fs) != 0 {
		t.Errorf("Files of a run without files = %v", fs)
	}
}
