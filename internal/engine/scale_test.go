package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statepg"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
)

// TestOneTickQueuesEveryDueWorkflow deploys more workflows than one batch
// holds, all due at the same fire time: one tick job queues a run of each
// (not a tick per workflow), each workflow exactly once.
func TestOneTickQueuesEveryDueWorkflow(t *testing.T) {
	t.Parallel()
	const n = 1100
	backends(t, func(t *testing.T, url string) {
		f := newSharedFixture(t, url, "shop", "orders")
		every := catalog.Schedule{Kind: catalog.Rate, Expr: "every 5s (test)", Every: 5 * time.Second}
		var create []state.Deployed
		for i := range n {
			spec := f.spec(fmt.Sprintf("wf_%04d", i), every)
			spec.Workflow.Table = "orders"
			create = append(create, deployed(spec))
		}
		if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Create: create}); err != nil {
			t.Fatal(err)
		}
		_, release := f.gate.hold("shop") // runs start and wait: the rest stay queued
		defer release()
		stop := serve(t, f.engine(engine.Config{}))
		var first time.Time
		waitFor(t, "a run of every workflow", func() bool {
			runs, err := f.st.Runs(t.Context(), state.RunFilter{Limit: 10 * n})
			if err != nil || len(runs) < n {
				return false
			}
			per := map[string]int{}
			for _, r := range runs {
				if r.Status != state.StatusSkipped {
					per[r.Workflow]++
				}
			}
			if len(per) < n {
				return false
			}
			for wf, c := range per {
				if c != 1 {
					t.Fatalf("workflow %s has %d runs that were not skipped, want 1", wf, c)
				}
			}
			d, err := f.st.DeployedWorkflow(t.Context(), "wf_0000")
			first = d.LastFireAt
			return err == nil
		})
		release()
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		ticks := f.tickJobs()
		var at []engine.TickArgs
		for _, a := range ticks {
			if a.FireAt.Equal(first) {
				at = append(at, a)
			}
		}
		if len(at) != 1 {
			t.Fatalf("%d tick jobs for fire time %s (of %d ticks), want 1 for all %d workflows", len(at), first, len(ticks), n)
		}
	})
}

// tickJobs lists the schedule ticks in River's table of the fixture's state.
func (f *fixture) tickJobs() []engine.TickArgs {
	f.t.Helper()
	var (
		res *river.JobListResult
		err error
	)
	params := river.NewJobListParams().Kinds(engine.KindTick).First(10_000)
	switch st := f.st.(type) {
	case *statesqlite.Store:
		client, cerr := river.NewClient(riversqlite.New(st.DB()), &river.Config{SkipUnknownJobCheck: true})
		if cerr != nil {
			f.t.Fatal(cerr)
		}
		res, err = client.JobList(f.t.Context(), params)
	case *statepg.Store:
		client, cerr := river.NewClient(riverpgxv5.New(st.Pool()), &river.Config{SkipUnknownJobCheck: true})
		if cerr != nil {
			f.t.Fatal(cerr)
		}
		res, err = client.JobList(f.t.Context(), params)
	default:
		f.t.Fatalf("tickJobs: state %T", f.st)
	}
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]engine.TickArgs, len(res.Jobs))
	for i, j := range res.Jobs {
		if err := json.Unmarshal(j.EncodedArgs, &out[i]); err != nil {
			f.t.Fatalf("tick job %d: %v", j.ID, err)
		}
	}
	return out
}

// logLines is a slog handler keeping the lines it is given.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(lockedWriter{l}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type lockedWriter struct{ l *logLines }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.l.mu.Lock()
	defer w.l.mu.Unlock()
	return w.l.buf.Write(p)
}

// matching returns the lines containing every one of parts.
func (l *logLines) matching(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.buf.String(), "\n") {
		ok := line != ""
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// TestShutdownSaysSoOnce: stopping a serve with many schedules logs one
// line saying so, and no warnings from loops cut short.
func TestShutdownSaysSoOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	hourly, err := catalog.ParseSchedule("rate(1 hour)", "")
	if err != nil {
		t.Fatal(err)
	}
	var create []state.Deployed
	for i := range 300 {
		spec := f.spec(fmt.Sprintf("wf_%03d", i), hourly)
		spec.Workflow.Table = "orders"
		create = append(create, deployed(spec))
	}
	if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Create: create}); err != nil {
		t.Fatal(err)
	}
	var logs logLines
	stop := serve(t, f.engine(engine.Config{Logger: logs.logger()}))
	waitFor(t, "the engine to start", func() bool { return len(logs.matching("engine started")) > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := logs.matching("engine stopping"); len(got) != 1 {
		t.Errorf("%d 'engine stopping' lines, want 1: %q", len(got), got)
	}
	if got := append(logs.matching("level=WARN"), logs.matching("level=ERROR")...); len(got) != 0 {
		t.Errorf("warnings while stopping: %q", got)
	}
}
