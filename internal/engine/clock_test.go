package engine_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// TestReapFollowsTheStoresClock: the engine's clock is the store's
// (state.WithClock). A process silent for less than its own dead-after is
// alive and its run is left alone; once the clock passes its dead-after
// (no waiting: the test moves the clock), the run is abandoned.
func TestReapFollowsTheStoresClock(t *testing.T) {
	t.Parallel()
	url := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	f := newFixture(t, url, "orders")
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	st, err := stateurl.Open(t.Context(), url, state.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.st = st
	e := f.engine(engine.Config{})
	ctx := t.Context()

	w := state.Worker{ID: "elsewhere-1", Host: "elsewhere", PID: 1, Role: "worker", DeadAfter: time.Minute}
	if err := st.Heartbeat(ctx, &w); err != nil {
		t.Fatal(err)
	}
	run := &state.Run{ID: "01900000-0000-7000-8000-0000000000aa", Workflow: "orders", Trigger: state.TriggerManual}
	if err := st.StartJobRun(ctx, run, 0, w.ID); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	now = now.Add(59 * time.Second) // within its own dead-after
	mu.Unlock()
	if err := e.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := st.Run(ctx, run.ID); r == nil || r.Status != state.StatusRunning {
		t.Fatalf("run of a live process became %+v", r)
	}

	mu.Lock()
	now = now.Add(2 * time.Second) // past it
	mu.Unlock()
	if err := e.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	r, _ := st.Run(ctx, run.ID)
	if r == nil || r.Status != state.StatusFailed || !strings.Contains(r.Error, "abandoned") {
		t.Fatalf("run of a dead process is %+v, want failed (abandoned)", r)
	}
	if want := state.Time(now); !r.FinishedAt.Equal(want) {
		t.Errorf("abandoned at %s, want the store's clock %s", r.FinishedAt, want)
	}
}
