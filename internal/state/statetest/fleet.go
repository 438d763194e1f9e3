package statetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/state"
)

// RunFleet runs the state.Fleet suite against a backend.
func RunFleet(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, b Backend)
	}{
		{"Workers", testWorkers},
		{"QueueMarkRunning", testQueueMarkRunning},
		{"JobRunsAndOrphans", testJobRunsAndOrphans},
		{"Leases", testLeases},
		{"LeasesConcurrent", testLeasesConcurrent},
		{"LastRuns", testLastRuns},
		{"RiverQueueRun", testRiverQueueRun},
		{"Chunks", testChunks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each test has a database (schema or file) of its own
			tc.fn(t, b)
		})
	}
}

func freshFleet(t *testing.T, b Backend) (state.Store, state.Fleet) {
	t.Helper()
	s := open(t, b, b.NewURL(t))
	return s, s
}

func testWorkers(t *testing.T, b Backend) {
	_, f := freshFleet(t, b)
	ctx := t.Context()
	w := state.Worker{ID: "host-1-a", Host: "host", PID: 1, Role: "serve"}
	if err := f.Heartbeat(ctx, &w); err != nil {
		t.Fatal(err)
	}
	if w.StartedAt.IsZero() || w.HeartbeatAt.IsZero() {
		t.Fatalf("Heartbeat left times zero: %+v", w)
	}
	first := w.HeartbeatAt
	time.Sleep(2 * time.Millisecond)
	if err := f.Heartbeat(ctx, &w); err != nil {
		t.Fatal(err)
	}
	ws, err := f.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || !ws[0].HeartbeatAt.After(first) || !ws[0].StartedAt.Equal(w.StartedAt) || ws[0].PID != 1 || !ws[0].StoppedAt.IsZero() {
		t.Fatalf("Workers = %+v, want one with a newer heartbeat and its first start", ws)
	}
	if err := f.WorkerStopped(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	ws, _ = f.Workers(ctx)
	if ws[0].StoppedAt.IsZero() {
		t.Fatal("WorkerStopped did not record the stop")
	}
	if n, err := f.ForgetWorkers(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
		t.Fatalf("ForgetWorkers(an hour ago) = %d, %v; want 0 (it beat just now)", n, err)
	}
	if n, err := f.ForgetWorkers(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("ForgetWorkers(now) = %d, %v; want 1", n, err)
	}
	if err := f.Heartbeat(ctx, &state.Worker{ID: ""}); err == nil {
		t.Fatal("Heartbeat accepted an empty ID")
	}
}

func testQueueMarkRunning(t *testing.T, b Backend) {
	s, f := freshFleet(t, b)
	ctx := t.Context()
	r := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual}
	if err := queue(t, s, r, 42, ""); err != nil {
		t.Fatal(err)
	}
	if r.Status != state.StatusQueued || r.StartedAt.IsZero() {
		t.Fatalf("queued run %+v", r)
	}
	if job, worker, err := f.RunJob(ctx, r.ID); err != nil || job != 42 || worker != "" {
		t.Fatalf("RunJob = %d, %q, %v; want 42, \"\"", job, worker, err)
	}
	got := mustRun(t, s, r.ID)
	if got.Status != state.StatusQueued || !got.FinishedAt.IsZero() {
		t.Fatalf("stored queued run %+v", got)
	}
	if err := f.MarkRunning(ctx, r, "w1"); err != nil {
		t.Fatal(err)
	}
	if r.Status != state.StatusRunning {
		t.Fatalf("after MarkRunning: %s", r.Status)
	}
	if _, worker, _ := f.RunJob(ctx, r.ID); worker != "w1" {
		t.Fatalf("worker %q, want w1", worker)
	}
	if err := f.MarkRunning(ctx, &state.Run{ID: r.ID, Workflow: "orders"}, "w2"); !errors.Is(err, state.ErrNotQueued) {
		t.Fatalf("second MarkRunning error = %v, want ErrNotQueued", err)
	}
	if err := f.MarkRunning(ctx, &state.Run{ID: newID(), Workflow: "orders"}, "w2"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("MarkRunning of a missing run error = %v, want ErrNotFound", err)
	}
	// A skipped run is recorded finished, without a job.
	sk := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerSchedule}
	if err := queue(t, s, sk, 0, "already running"); err != nil {
		t.Fatal(err)
	}
	got = mustRun(t, s, sk.ID)
	if got.Status != state.StatusSkipped || got.Error != "already running" || got.FinishedAt.IsZero() {
		t.Fatalf("skipped run %+v", got)
	}
	if job, _, _ := f.RunJob(ctx, sk.ID); job != 0 {
		t.Fatalf("skipped run has job %d", job)
	}
	// A queued run can be cancelled before it starts.
	q := &state.Run{ID: newID(), Workflow: "orders", Trigger: state.TriggerManual}
	if err := queue(t, s, q, 43, ""); err != nil {
		t.Fatal(err)
	}
	q.Status = state.StatusCancelled
	if err := s.FinishRun(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := f.MarkRunning(ctx, q, "w1"); !errors.Is(err, state.ErrNotQueued) {
		t.Fatalf("MarkRunning of a cancelled run error = %v, want ErrNotQueued", err)
	}
	// A failing enqueue records nothing.
	bad := &state.Run{ID: newID(), Workflow: "orders", Trigger: "nope"}
	if err := queue(t, s, bad, 44, ""); err == nil {
		t.Fatal("QueueRun accepted trigger nope")
	}
	if _, err := s.Run(ctx, bad.ID); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("a refused queued run was stored: %v", err)
	}
}

func testJobRunsAndOrphans(t *testing.T, b Backend) {
	s, f := freshFleet(t, b)
	ctx := t.Context()
	// Each worker is judged by its own dead-after: at cut, alive (trusted
	// for an hour) still is, silent (the default 45s) is not.
	alive := state.Worker{ID: "alive", Host: "h", PID: 1, Role: "serve", DeadAfter: time.Hour}
	silent := state.Worker{ID: "silent", Host: "h", PID: 2, Role: "worker"}
	stopped := state.Worker{ID: "stopped", Host: "h", PID: 3, Role: "worker", DeadAfter: time.Hour}
	for _, w := range []*state.Worker{&alive, &silent, &stopped} {
		if err := f.Heartbeat(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.WorkerStopped(ctx, stopped.ID); err != nil {
		t.Fatal(err)
	}
	cut := time.Now().Add(time.Minute)
	runs := map[string]*state.Run{}
	for i, w := range []string{"alive", "silent", "stopped", "unknown"} {
		r := &state.Run{ID: newID(), Workflow: "wf" + w, Trigger: state.TriggerRetry}
		if err := f.StartJobRun(ctx, r, int64(100+i), w); err != nil {
			t.Fatal(err)
		}
		runs[w] = r
	}
	// A run of job 100 that already ended, and the latest one.
	again := &state.Run{ID: newID(), Workflow: "wfalive", Trigger: state.TriggerRetry}
	if err := f.StartJobRun(ctx, again, 100, "alive"); err != nil {
		t.Fatal(err)
	}
	jr, err := f.JobRuns(ctx, 100)
	if err != nil || len(jr) != 2 || jr[0].ID != again.ID || jr[1].ID != runs["alive"].ID {
		t.Fatalf("JobRuns(100) = %v, %v; want the two runs, newest first", jr, err)
	}
	orphans, err := f.OrphanRuns(ctx, cut)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range orphans {
		got = append(got, fmt.Sprintf("%s/%d", o.WorkerID, o.JobID))
		if o.StartedAt.IsZero() || o.Workflow != "wf"+o.WorkerID {
			t.Errorf("orphan %+v", o)
		}
	}
	if fmt.Sprint(got) != "[silent/101 stopped/102 unknown/103]" {
		t.Fatalf("OrphanRuns = %v, want the runs of the silent, stopped and unknown workers", got)
	}
	// The store's rule is Worker.Alive's.
	ws, err := f.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if want := w.ID == "alive"; w.Alive(cut) != want {
			t.Errorf("worker %s (dead-after %s): Alive(cut) = %v, want %v as OrphanRuns says", w.ID, w.DeadAfter, !want, want)
		}
		if want := map[string]time.Duration{"alive": time.Hour, "silent": state.DefaultDeadAfter, "stopped": time.Hour}[w.ID]; w.DeadAfter != want {
			t.Errorf("worker %s: DeadAfter read back %s, want %s", w.ID, w.DeadAfter, want)
		}
	}
	// Ended runs are no orphans.
	r := runs["silent"]
	r.Status = state.StatusFailed
	if err := s.FinishRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	if orphans, _ := f.OrphanRuns(ctx, cut); len(orphans) != 2 {
		t.Fatalf("%d orphans after one ended, want 2", len(orphans))
	}
	// A worker holding a running run is not forgotten.
	if n, err := f.ForgetWorkers(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("ForgetWorkers = %d, %v; want 1 (only silent holds no running run)", n, err)
	}
}

func testLeases(t *testing.T, b Backend) {
	_, f := freshFleet(t, b)
	ctx := t.Context()
	// dead is trusted for the default 45s after its heartbeat, w for an
	// hour: at now+1m, dead is dead and w alive.
	w := state.Worker{ID: "w", Host: "h", PID: 1, Role: "serve", DeadAfter: time.Hour}
	dead := state.Worker{ID: "dead", Host: "h", PID: 2, Role: "serve"}
	for _, x := range []*state.Worker{&dead, &w} {
		if err := f.Heartbeat(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	acquire := func(key, holder, worker string, want bool) {
		t.Helper()
		got, err := f.AcquireLease(ctx, key, 2, holder, worker, now)
		if err != nil || got != want {
			t.Fatalf("AcquireLease(%s, %s) = %v, %v; want %v", key, holder, got, err, want)
		}
	}
	acquire("db", "1", "w", true)
	acquire("db", "2", "w", true)
	acquire("db", "3", "w", false)
	acquire("db", "1", "w", true) // already held
	acquire("other", "3", "w", true)
	if err := f.ReleaseLease(ctx, "db", "1"); err != nil {
		t.Fatal(err)
	}
	acquire("db", "3", "w", true)
	acquire("db", "4", "w", false)
	// A slot held on a dead worker is freed for others.
	if err := f.ReleaseLease(ctx, "db", "2"); err != nil {
		t.Fatal(err)
	}
	acquire("db", "5", "dead", true)
	acquire("db", "6", "w", false)
	now = now.Add(time.Minute)
	acquire("db", "6", "w", true)
	if _, err := f.AcquireLease(ctx, "db", 0, "7", "w", now); err == nil {
		t.Fatal("AcquireLease accepted limit 0")
	}
	// A key nobody takes again (a run's own) is freed of dead processes'
	// slots by FreeDeadLeases, every key at once; live ones stay.
	dead2 := state.Worker{ID: "dead2", Host: "h", PID: 3, Role: "worker"}
	if err := f.Heartbeat(ctx, &dead2); err != nil {
		t.Fatal(err)
	}
	now = time.Now()
	acquire("run/a", "8", "dead2", true)
	acquire("run/b", "9", "dead2", true)
	acquire("run/c", "10", "w", true)
	if n, err := f.FreeDeadLeases(ctx, now); err != nil || n != 0 {
		t.Fatalf("FreeDeadLeases while every holder is alive = %d, %v; want 0", n, err)
	}
	if n, err := f.FreeDeadLeases(ctx, now.Add(time.Minute)); err != nil || n != 2 {
		t.Fatalf("FreeDeadLeases = %d, %v; want the 2 slots of dead2", n, err)
	}
	// w's slots are still held (limit 2 on db: 3 and 6; limit 1 on run/c).
	acquire("db", "11", "w", false)
	if got, err := f.AcquireLease(ctx, "run/c", 1, "12", "w", now); err != nil || got {
		t.Fatalf("AcquireLease(run/c) = %v, %v; want false: w holds it", got, err)
	}
}

func testLeasesConcurrent(t *testing.T, b Backend) {
	url := b.NewURL(t)
	s := open(t, b, url)
	w := state.Worker{ID: "w", Host: "h", PID: 1, Role: "serve"}
	if err := s.Heartbeat(t.Context(), &w); err != nil {
		t.Fatal(err)
	}
	const n, limit = 12, 3
	var mu sync.Mutex
	got := 0
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = open(t, b, url) // another process's store
			}
			ok, err := st.AcquireLease(t.Context(), "db", limit, fmt.Sprint(i), "w", time.Now())
			if err != nil {
				errs <- err
				return
			}
			if ok {
				mu.Lock()
				got++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got != limit {
		t.Fatalf("%d of %d concurrent acquirers got a slot, want exactly %d", got, n, limit)
	}
}

func testLastRuns(t *testing.T, b Backend) {
	s, f := freshFleet(t, b)
	ctx := t.Context()
	ok := startRun(t, s, "a", base)
	ok.Status = state.StatusSucceeded
	if err := s.CommitRun(ctx, ok, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	bad := startRun(t, s, "a", base.Add(time.Minute))
	bad.Status = state.StatusFailed
	if err := s.FinishRun(ctx, bad); err != nil {
		t.Fatal(err)
	}
	only := startRun(t, s, "b", base)
	lr, err := f.LastRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lr) != 2 || lr["a"].Last == nil || lr["a"].Last.ID != bad.ID || lr["a"].LastSucceeded == nil || lr["a"].LastSucceeded.ID != ok.ID ||
		lr["b"].Last == nil || lr["b"].Last.ID != only.ID || lr["b"].LastSucceeded != nil {
		t.Fatalf("LastRuns = %+v", lr)
	}

	// c's newest run succeeded: it is settled, and left out.
	failedC := startRun(t, s, "c", base)
	failedC.Status = state.StatusFailed
	if err := s.FinishRun(ctx, failedC); err != nil {
		t.Fatal(err)
	}
	okC := startRun(t, s, "c", base.Add(time.Minute))
	okC.Status = state.StatusSucceeded
	if err := s.CommitRun(ctx, okC, nil, nil, ""); err != nil {
		t.Fatal(err)
	}
	ids := func(m map[string][]state.Run) map[string][]string {
		out := map[string][]string{}
		for wf, runs := range m {
			for _, r := range runs {
				out[wf] = append(out[wf], r.ID)
			}
		}
		return out
	}
	for limit, want := range map[int]map[string][]string{
		1000: {"a": {bad.ID, ok.ID}, "b": {only.ID}},
		1:    {"a": {bad.ID}, "b": {only.ID}},
	} {
		got, err := f.UnsettledRuns(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), want) {
			t.Errorf("UnsettledRuns(%d) = %v, want %v", limit, ids(got), want)
		}
	}
}
