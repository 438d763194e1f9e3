package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/source"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/testdb"
)

// backends runs fn against a SQLite state file and a PostgreSQL state
// schema.
func backends(t *testing.T, fn func(t *testing.T, stateURL string)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		dsn, _ := testdb.PostgresSchema(t)
		fn(t, dsn)
	})
}

// fixture is a SQLite source with an orders table of 10 rows, a file lake,
// a state store with the deployed workflows, and an engine.
type fixture struct {
	t       testing.TB
	dir     string
	st      state.Store
	lakeDir string
	gate    *gate
	conn    string
}

func newFixture(t testing.TB, stateURL string, workflows ...string) *fixture {
	return newSharedFixture(t, stateURL, "", workflows...)
}

// newSharedFixture is newFixture with every workflow on connection conn
// ("" = a connection per workflow, named like it).
func newSharedFixture(t testing.TB, stateURL, conn string, workflows ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "shop.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, wf := range workflows {
		if _, err := db.Exec(`CREATE TABLE ` + wf + ` (id INTEGER PRIMARY KEY, note TEXT, updated_at TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 10; i++ {
			if _, err := db.Exec(`INSERT INTO `+wf+` VALUES (?, ?, ?)`, i, fmt.Sprint("row ", i), fmt.Sprintf("2026-01-01 00:%02d:00", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The source's secret is a file of the test's own (not an environment
	// variable), so that tests run in parallel.
	if err := os.WriteFile(filepath.Join(dir, "shop.secret"), []byte("sqlite:"+dbPath), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := stateurl.Open(t.Context(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, dir: dir, st: st, lakeDir: filepath.Join(dir, "lake"), gate: newGate(), conn: conn}
	var create []state.Deployed
	for _, wf := range workflows {
		create = append(create, deployed(f.spec(wf, catalog.Schedule{Kind: catalog.OnDemand})))
	}
	if err := st.ApplyDeploy(t.Context(), state.DeployChanges{Create: create}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) spec(wf string, s catalog.Schedule) catalog.Resolved {
	conn := f.conn
	if conn == "" {
		conn = wf
	}
	return catalog.Resolved{
		Workflow: catalog.Workflow{Name: wf, Connection: conn, Table: wf, Lake: "raw", Cursor: "updated_at",
			Blueprint: "landing", Format: "parquet", Schedule: s},
		Connection: catalog.Connection{Name: conn, Engine: "sqlite", Secret: "file:" + filepath.Join(f.dir, "shop.secret")},
		Lake:       catalog.Lake{Name: "raw", URL: "file://" + f.lakeDir},
	}
}

// setAttempts deploys wf with attempts n (catalog attempts).
func (f *fixture) setAttempts(wf string, n int) {
	f.t.Helper()
	spec := f.spec(wf, catalog.Schedule{Kind: catalog.OnDemand})
	spec.Workflow.Attempts = n
	if err := f.st.ApplyDeploy(f.t.Context(), state.DeployChanges{Update: []state.Deployed{deployed(spec)}}); err != nil {
		f.t.Fatal(err)
	}
}

// gate holds the sources of gated connections open until released, and can
// fail their next openings. Each workflow has a connection of its own name
// unless the fixture shares one.
type gate struct {
	mu      sync.Mutex
	gated   map[string]chan struct{}
	failing map[string]int
	opened  map[string]chan struct{}
}

func newGate() *gate {
	return &gate{gated: map[string]chan struct{}{}, failing: map[string]int{}, opened: map[string]chan struct{}{}}
}

// hold makes runs of wf block after opening their source until released.
func (g *gate) hold(conn string) (opened <-chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, op := make(chan struct{}), make(chan struct{}, 100)
	g.gated[conn], g.opened[conn] = ch, op
	var once sync.Once
	return op, func() { once.Do(func() { close(ch) }) }
}

func (g *gate) fail(conn string, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failing[conn] = n
}

func (g *gate) open(ctx context.Context, conn *catalog.Connection, secrets string) (source.Source, error) {
	table := conn.Name
	g.mu.Lock()
	ch, op := g.gated[table], g.opened[table]
	fail := g.failing[table]
	if fail > 0 {
		g.failing[table] = fail - 1
	}
	g.mu.Unlock()
	if fail > 0 {
		return nil, errors.New("test: source unreachable")
	}
	src, err := blueprint.OpenSource(ctx, conn, secrets)
	if err != nil || ch == nil {
		return src, err
	}
	op <- struct{}{}
	select {
	case <-ch:
		return src, nil
	case <-ctx.Done():
		src.Close()
		return nil, ctx.Err()
	}
}

// engine builds an engine over the fixture's state; the lander routes
// source openings through the gate (the workflow name is the table name).
func (f *fixture) engine(cfg engine.Config) *engine.Engine {
	f.t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(f.t)
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 200 * time.Millisecond
		cfg.DeadAfter = time.Second
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 100 * time.Millisecond
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 50 * time.Millisecond
	}
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 200 * time.Millisecond
	}
	if cfg.Resolution == 0 {
		cfg.Resolution = 250 * time.Millisecond
	}
	l := &blueprint.Lander{State: f.st, Logger: cfg.Logger, OpenSource: f.gate.open}
	f.t.Cleanup(func() { l.Close() })
	e, err := engine.New(f.t.Context(), f.st, cfg, engine.WithLander(l))
	if err != nil {
		f.t.Fatalf("engine.New: %v", err)
	}
	return e
}

// serve runs e until the test ends (or stop is called) and returns stop,
// which waits for Run to return and reports its error.
func serve(t testing.TB, e *engine.Engine) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("engine did not stop within 30s")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("WHARF_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond every 20ms for up to 30s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) run(id string) *state.Run {
	f.t.Helper()
	r, err := f.st.Run(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) parquetFiles() []string {
	var out []string
	_ = filepath.WalkDir(f.lakeDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestTriggerWaitSucceeds(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		e := f.engine(engine.Config{})
		serve(t, e)
		client := f.engine(engine.Config{Role: engine.RoleClient})
		qs, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != 1 || qs[0].Skip != "" || qs[0].JobID == 0 || qs[0].Run.Status != state.StatusQueued || qs[0].Run.Trigger != state.TriggerManual {
			t.Fatalf("Trigger = %+v, want one queued manual run with a job", qs)
		}
		out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		r := out[0].Run
		if r.ID != qs[0].Run.ID || r.Status != state.StatusSucceeded || r.Rows != 10 || r.Files != 1 || out[0].JobState != rivertype.JobStateCompleted {
			t.Fatalf("outcome = %+v (job %s), want run %s succeeded with 10 rows in 1 file", r, out[0].JobState, qs[0].Run.ID)
		}
		if n := len(f.parquetFiles()); n != 1 {
			t.Fatalf("%d parquet files, want 1", n)
		}
		// Unknown and disabled workflows are refused before anything is queued.
		if _, err := client.Trigger(t.Context(), "orders", "nope"); err == nil || !strings.Contains(err.Error(), "no workflow nope is deployed") {
			t.Fatalf("Trigger(nope) error = %v", err)
		}
		runs, err := f.st.Runs(t.Context(), state.RunFilter{})
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs = %v, %v; want the one run", runs, err)
		}
	})
}

func TestOverlapIsSkipped(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		opened, release := f.gate.hold("orders")
		defer release()
		serve(t, f.engine(engine.Config{}))
		client := f.engine(engine.Config{Role: engine.RoleClient})
		first, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		<-opened
		second, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		s := second[0]
		wantSkip := fmt.Sprintf("workflow orders is already queued or running (run %s)", first[0].Run.ID)
		if s.Skip != wantSkip || s.JobID != 0 {
			t.Fatalf("second trigger = %+v, want skipped: %q", s, wantSkip)
		}
		got := f.run(s.Run.ID)
		if got.Status != state.StatusSkipped || got.Error != wantSkip || got.FinishedAt.IsZero() {
			t.Fatalf("skipped run = %+v", got)
		}
		if r := f.run(first[0].Run.ID); r.Status != state.StatusRunning {
			t.Fatalf("first run is %s, want running", r.Status)
		}
		release()
		out, err := client.Wait(waitCtx(t), append(first, second...), 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Run.Status != state.StatusSucceeded || out[1].Run.Status != state.StatusSkipped {
			t.Fatalf("outcomes: %s, %s; want succeeded, skipped", out[0].Run.Status, out[1].Run.Status)
		}
	})
}

func TestCancelRunningRun(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		opened, release := f.gate.hold("orders")
		defer release()
		serve(t, f.engine(engine.Config{}))
		client := f.engine(engine.Config{Role: engine.RoleClient})
		qs, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		<-opened
		if _, err := client.Cancel(t.Context(), qs[0].Run.ID); err != nil {
			t.Fatal(err)
		}
		out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		r := out[0].Run
		if r.ID != qs[0].Run.ID || r.Status != state.StatusCancelled || out[0].JobState != rivertype.JobStateCancelled {
			t.Fatalf("outcome = %+v, job %s; want the run cancelled, not retried", r, out[0].JobState)
		}
		if n := len(f.parquetFiles()); n != 0 {
			t.Fatalf("%d parquet files left by a cancelled run", n)
		}
		if _, err := client.Cancel(t.Context(), qs[0].Run.ID); !errors.Is(err, engine.ErrNotCancellable) {
			t.Fatalf("second Cancel error = %v, want ErrNotCancellable", err)
		}
	})
}

func TestCancelQueuedRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	client := f.engine(engine.Config{Role: engine.RoleClient})
	qs, err := client.Trigger(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Cancel(t.Context(), qs[0].Run.ID); err != nil {
		t.Fatal(err)
	}
	if r := f.run(qs[0].Run.ID); r.Status != state.StatusCancelled {
		t.Fatalf("queued run after cancel is %s", r.Status)
	}
	// No worker ever runs it.
	serve(t, f.engine(engine.Config{}))
	out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Run.Status != state.StatusCancelled || out[0].JobState != rivertype.JobStateCancelled {
		t.Fatalf("outcome %+v job %s", out[0].Run, out[0].JobState)
	}
}

func TestRetryAfterFailure(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		f.gate.fail("orders", 1)
		serve(t, f.engine(engine.Config{}))
		client := f.engine(engine.Config{Role: engine.RoleClient})
		qs, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		last := out[0].Run
		if last.Status != state.StatusSucceeded || last.Trigger != state.TriggerRetry || last.ID == qs[0].Run.ID || last.Rows != 10 {
			t.Fatalf("last run = %+v, want a succeeded retry run", last)
		}
		first := f.run(qs[0].Run.ID)
		if first.Status != state.StatusFailed || !strings.Contains(first.Error, "source unreachable") {
			t.Fatalf("first run = %+v, want failed: source unreachable", first)
		}
	})
}

// TestRetriesRunOut: a run failing every attempt ends failed with its job
// discarded after the deployed workflow's attempts (not a default of the
// process that queued it); each failed attempt is logged at WARN with the
// workflow and attempt, the last one at ERROR.
func TestRetriesRunOut(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	f.gate.fail("orders", 10)
	f.setAttempts("orders", 2)
	var logs logLines
	serve(t, f.engine(engine.Config{Logger: logs.logger()}))
	client := f.engine(engine.Config{Role: engine.RoleClient})
	qs, err := client.Trigger(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Run.Status != state.StatusFailed || out[0].JobState != rivertype.JobStateDiscarded {
		t.Fatalf("outcome %+v job %s; want failed, discarded", out[0].Run, out[0].JobState)
	}
	runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
	if len(runs) != 2 {
		t.Fatalf("%d runs, want 2 attempts", len(runs))
	}
	waitFor(t, "the last attempt's log line", func() bool { return len(logs.matching("level=ERROR")) > 0 })
	warn := logs.matching("level=WARN", "job attempt failed", "workflow=orders", "attempt=1", "source unreachable")
	last := logs.matching("level=ERROR", "last attempt", "workflow=orders", "attempt=2", "source unreachable")
	if len(warn) != 1 || len(last) != 1 {
		t.Fatalf("want one WARN for attempt 1 and one ERROR for attempt 2; log:\n%s", strings.Join(logs.matching(""), "\n"))
	}
}

func TestPerConnectionCap(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newSharedFixture(t, url, "shop", "a_orders", "b_orders")
		opened, release := f.gate.hold("shop")
		defer release()
		cfg := engine.Config{PerConnection: 1, LeaseWait: 50 * time.Millisecond}
		// Two processes' worth of engines: the cap holds across them.
		serve(t, f.engine(cfg))
		serve(t, f.engine(cfg))
		client := f.engine(engine.Config{Role: engine.RoleClient})
		qs, err := client.Trigger(t.Context(), "a_orders", "b_orders")
		if err != nil {
			t.Fatal(err)
		}
		<-opened
		time.Sleep(500 * time.Millisecond)
		a, b := f.run(qs[0].Run.ID), f.run(qs[1].Run.ID)
		if n := countStatus(state.StatusRunning, a, b); n != 1 || countStatus(state.StatusQueued, a, b) != 1 {
			t.Fatalf("runs are %s and %s; want one running, one queued (cap 1)", a.Status, b.Status)
		}
		select {
		case <-opened:
			t.Fatal("a second run opened the connection despite the cap")
		default:
		}
		release()
		out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out {
			if o.Run.Status != state.StatusSucceeded {
				t.Fatalf("run %+v, want succeeded", o.Run)
			}
		}
	})
}

// Each stream of a parallel run takes a slot of the cap: a run asking for
// 4 streams under a cap of 3 reads with 3, and another run on the same
// connection waits until they are free. The cap is --per-connection, or the
// connection's max_parallel where that is lower.
func TestPerConnectionCapCountsStreams(t *testing.T) {
	for _, c := range []struct {
		name              string
		flag, maxParallel int
	}{
		{"per-connection", 3, 0},
		{"max_parallel", 5, 3},
		{"max_parallel alone", 0, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newSharedFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "shop", "a_orders", "b_orders")
			a, b := f.spec("a_orders", catalog.Schedule{Kind: catalog.OnDemand}), f.spec("b_orders", catalog.Schedule{Kind: catalog.OnDemand})
			a.Workflow.Parallel = 4
			a.Connection.MaxParallel, b.Connection.MaxParallel = c.maxParallel, c.maxParallel
			if err := f.st.ApplyDeploy(t.Context(), state.DeployChanges{Update: []state.Deployed{deployed(a), deployed(b)}}); err != nil {
				t.Fatal(err)
			}
			opened, release := f.gate.hold("shop")
			defer release()
			var logs logLines
			cfg := engine.Config{PerConnection: c.flag, LeaseWait: 50 * time.Millisecond, Logger: logs.logger()}
			serve(t, f.engine(cfg))
			client := f.engine(engine.Config{Role: engine.RoleClient})
			qa, err := client.Trigger(t.Context(), "a_orders")
			if err != nil {
				t.Fatal(err)
			}
			<-opened
			qb, err := client.Trigger(t.Context(), "b_orders")
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(500 * time.Millisecond)
			if b := f.run(qb[0].Run.ID); b.Status != state.StatusQueued {
				t.Fatalf("b_orders is %s while a_orders holds 3 of 3 slots; want queued", b.Status)
			}
			if len(logs.matching("fewer streams", "parallel=4", "streams=3")) != 1 {
				t.Errorf("no log line saying a_orders reads with 3 streams:\n%s", strings.Join(logs.matching(""), "\n"))
			}
			release()
			out, err := client.Wait(waitCtx(t), append(qa, qb...), 20*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out {
				if o.Run.Status != state.StatusSucceeded {
					t.Fatalf("run %+v, want succeeded", o.Run)
				}
			}
		})
	}
}

func TestStopReleasesRunningRuns(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, url string) {
		f := newFixture(t, url, "orders")
		opened, release := f.gate.hold("orders")
		stop := serve(t, f.engine(engine.Config{StopTimeout: 200 * time.Millisecond}))
		client := f.engine(engine.Config{Role: engine.RoleClient})
		qs, err := client.Trigger(t.Context(), "orders")
		if err != nil {
			t.Fatal(err)
		}
		<-opened
		if err := stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
		r := f.run(qs[0].Run.ID)
		if r.Status != state.StatusCancelled || !strings.Contains(r.Error, "released to run again") {
			t.Fatalf("run after stop = %+v, want cancelled and released", r)
		}
		// Another process takes the job and finishes it.
		release()
		serve(t, f.engine(engine.Config{}))
		out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if o := out[0].Run; o.Status != state.StatusSucceeded || o.Trigger != state.TriggerRetry || o.Rows != 10 {
			t.Fatalf("after release: %+v, want a succeeded retry of 10 rows", o)
		}
	})
}

func countStatus(status state.RunStatus, runs ...*state.Run) int {
	n := 0
	for _, r := range runs {
		if r.Status == status {
			n++
		}
	}
	return n
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	_, release := f.gate.hold("orders")
	defer release()
	f.setAttempts("orders", 1)
	serve(t, f.engine(engine.Config{RunTimeout: time.Second}))
	client := f.engine(engine.Config{Role: engine.RoleClient})
	qs, err := client.Trigger(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	r := out[0].Run
	if r.Status != state.StatusFailed || !strings.Contains(r.Error, "the run took longer than --run-timeout") || out[0].JobState != rivertype.JobStateDiscarded {
		t.Fatalf("outcome %+v job %s; want failed by the run timeout, discarded", r, out[0].JobState)
	}
	if d := r.FinishedAt.Sub(r.StartedAt); d < time.Second || d > 10*time.Second {
		t.Fatalf("run lasted %s, want about the 1s timeout", d)
	}
}

// TestPermanentErrorNotRetried: a run that cannot succeed however often it
// is tried (here its table is gone) ends its job at once, cancelled, with one
// failed run naming the table, instead of --attempts runs.
func TestPermanentErrorNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"), "orders")
	db, err := sql.Open("sqlite", filepath.Join(f.dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TABLE orders`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var logs syncBuffer
	serve(t, f.engine(engine.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}))
	client := f.engine(engine.Config{Role: engine.RoleClient})
	qs, err := client.Trigger(t.Context(), "orders")
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.Wait(waitCtx(t), qs, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Run.Status != state.StatusFailed || out[0].JobState != rivertype.JobStateCancelled || !strings.Contains(out[0].Run.Error, "orders") {
		t.Fatalf("outcome %+v job %s; want failed naming the table, job cancelled", out[0].Run, out[0].JobState)
	}
	runs, _ := f.st.Runs(t.Context(), state.RunFilter{})
	if len(runs) != 1 {
		t.Fatalf("%d runs, want 1: a permanent error is not retried", len(runs))
	}
	// River's error handler never sees a cancelled job; the worker logs it.
	want := fmt.Sprintf("level=ERROR msg=\"run failed: it will not be retried (retrying cannot fix this error)\" workflow=orders job=%d attempt=1 run=%s err=", qs[0].JobID, qs[0].Run.ID)
	if !strings.Contains(logs.String(), want) {
		t.Fatalf("log has no line with\n%s\nlog:\n%s", want, logs.String())
	}
}

// syncBuffer is a bytes.Buffer for a logger that several goroutines use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// deployed is the state record deploy writes for a resolved workflow.
func deployed(r catalog.Resolved) state.Deployed {
	return state.Deployed{Name: r.Workflow.Name, Spec: catalog.EncodeSpec(r)}
}
