// Package engine runs deployed workflows on River
// (github.com/riverqueue/river): a landing job per run, periodic schedule
// ticks, retries with exponential backoff, per-run timeouts, cancellation,
// and concurrency caps per process and per connection.
//
// River's tables live next to wharf's in the state database: riversqlite
// over the SQLite state file, riverpgxv5 over the PostgreSQL state pool, so
// that a run's record and its job are written in one transaction. Several
// processes on one PostgreSQL state share the work (a fleet): River elects
// one leader to fire schedules, every process records a heartbeat in
// wharf_workers, and runs left behind by a process that went silent are
// handed to another within about DeadAfter. See docs/engine.md.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// Engine runs, queues and cancels landing runs of deployed workflows.
type Engine struct {
	cfg    Config
	store  state.Store // also the engine's clock (Now)
	q      queue
	lander *blueprint.Lander
	log    *slog.Logger
	self   state.Worker

	// release is cancelled (with errReleased) when a stopping process
	// gives its running runs back to the queue.
	releaseCtx context.Context
	release    context.CancelCauseFunc

	// stopping is Run's context: done once the process starts stopping.
	stopping context.Context

	// What the scheduler (serve) and the freshness check keep of the
	// deployed workflows between deploys: how many are scheduled, and
	// those the freshness check watches.
	schedules deployedView[int]
	watched   deployedView[[]deploy.Workflow]
}

// Option adjusts an Engine for tests.
type Option func(*Engine)

// WithLander replaces the landing blueprint runner (tests give it a source
// opener).
func WithLander(l *blueprint.Lander) Option { return func(e *Engine) { e.lander = l } }

// New builds an engine over store, an open SQLite or PostgreSQL state store
// (the engine does not close it), and brings River's tables up to date.
func New(ctx context.Context, store state.Store, cfg Config, opts ...Option) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Engine{
		cfg: cfg, store: store, log: cfg.Logger,
		self:     state.NewWorker(cfg.Role),
		stopping: context.Background(),
	}
	e.self.DeadAfter = cfg.DeadAfter
	e.releaseCtx, e.release = context.WithCancelCause(context.Background())
	for _, o := range opts {
		o(e)
	}
	if e.lander == nil {
		// AllowReset: a deployed spec's cursor changed only through
		// deploy --allow-reset.
		e.lander = &blueprint.Lander{State: store, Secrets: cfg.Secrets, Logger: cfg.Logger, WorkerID: e.self.ID, AllowReset: true}
	}
	// The chunks of a run read in parallel are River jobs, which any
	// process of the fleet reads.
	e.lander.QueueChunks, e.lander.StreamSlots = e.queueChunks, e.streamSlots
	q, err := newQueue(ctx, store, e.riverConfig(), e.riverLog())
	if err != nil {
		return nil, err
	}
	e.q = q
	return e, nil
}

// now is the engine's clock: the store's, so that a test's clock
// (state.WithClock) moves both.
func (e *Engine) now() time.Time { return e.store.Now() }

func (e *Engine) riverLog() *slog.Logger { return slog.New(quietHandler{e.log.Handler()}) }

// WorkerID is this process's ID in wharf_workers and River.
func (e *Engine) WorkerID() string { return e.self.ID }

func (e *Engine) riverConfig() *river.Config {
	c := &river.Config{
		ID:           e.self.ID,
		Logger:       e.riverLog(),
		ErrorHandler: jobErrors{e},
		RetryPolicy:  &backoff{base: e.cfg.RetryBackoff, max: e.cfg.MaxBackoff, now: e.now},
		// River's default is one minute; a run gets the configured timeout
		// (the worker's own timeout, with a cause, ends it first).
		JobTimeout: e.cfg.RunTimeout + time.Minute,
		// River has no job heartbeat: a job running longer than this is
		// started again. Follow the run timeout so a live run is never
		// rescued; dead processes are noticed sooner by wharf's heartbeat.
		RescueStuckJobsAfter: e.cfg.RunTimeout + 5*time.Minute,
		FetchPollInterval:    e.cfg.PollInterval,
		FetchCooldown:        min(e.cfg.PollInterval, fetchCooldown),
		// Cancelled and discarded jobs are kept a week, like River's default
		// for discarded ones: the run history is in wharf's own tables.
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
	}
	if e.cfg.Role == RoleClient {
		// Insert-only: no queues, no workers (River checks kinds anyway).
		c.SkipUnknownJobCheck = true
		return c
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &landingWorker{e: e})
	river.AddWorker(workers, &tickWorker{e: e})
	river.AddWorker(workers, &alertWorker{e: e, client: &http.Client{}})
	river.AddWorker(workers, &freshnessWorker{e: e})
	river.AddWorker(workers, &chunkWorker{e: e})
	c.Workers = workers
	c.Queues = map[string]river.QueueConfig{
		QueueLanding: {MaxWorkers: e.cfg.Workers},
		// Chunks of runs read in parallel, this process's or others':
		// beside its runs, a process reads up to --workers chunks.
		QueueChunk: {MaxWorkers: e.cfg.Workers},
		// Ticks are inserted tickLead ahead of their fire time, so a slow
		// poll finds them in time. One tick at a time: each queues every
		// due run.
		QueueTick: {MaxWorkers: 1, FetchPollInterval: tickPoll},
		// Alerts are few and not urgent to the millisecond.
		QueueAlert: {MaxWorkers: 1, FetchPollInterval: max(e.cfg.PollInterval, time.Second)},
	}
	if e.cfg.Role == RoleWorker {
		// Workers never lead: the leader fires schedules, and only serve
		// processes know them. At least one serve must run for schedules,
		// retries and River's maintenance.
		c.LeaderElectionDisabled = true
	}
	return c
}

var errReleased = errors.New("this wharf process is stopping: the run was released to run again")

// Run starts River's workers (and, for RoleServe, the scheduler), the
// heartbeat and the reaper, and blocks until ctx is done. Then it stops
// taking work, waits up to StopTimeout for running runs to finish, releases
// the others to the queue (they run again elsewhere, or at the next start)
// and returns.
func (e *Engine) Run(ctx context.Context) error {
	if e.cfg.Role == RoleClient {
		return fmt.Errorf("engine: a %s engine runs nothing", RoleClient)
	}
	if err := e.store.Heartbeat(ctx, &e.self); err != nil {
		return err
	}
	e.stopping = ctx
	// The heartbeat outlives ctx until River has stopped: the runs still
	// running belong to a live process. Every other loop stops with ctx.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()
	var wg sync.WaitGroup
	n := 0
	if e.cfg.Role == RoleServe {
		var err error
		if n, err = e.syncSchedules(ctx); err != nil {
			return err
		}
		if _, err := e.q.periodic().AddManySafely(append(e.periodicJobs(), e.freshnessJobs()...)); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
	}
	if err := e.q.start(bg); err != nil {
		return fmt.Errorf("start river: %w", err)
	}
	e.log.Info("engine started", "worker", e.self.ID, "role", e.cfg.Role, "workers", e.cfg.Workers,
		"per_connection", e.cfg.PerConnection, "schedules", n)
	wg.Add(1)
	go func() { defer wg.Done(); e.heartbeatLoop(bg) }()
	if e.cfg.Role == RoleServe {
		wg.Add(1)
		go func() { defer wg.Done(); e.syncLoop(ctx) }()
	}

	<-ctx.Done()
	e.log.Info("engine stopping: schedules and fetching stopped; waiting for running runs", "timeout", e.cfg.StopTimeout)
	stopped := make(chan error, 1)
	go func() { stopped <- e.q.stop(context.WithoutCancel(ctx)) }()
	var err error
	select {
	case err = <-stopped:
	case <-time.After(e.cfg.StopTimeout):
		e.log.Warn("engine stopping: releasing runs still running", "after", e.cfg.StopTimeout)
		e.release(errReleased)
		err = <-stopped
	}
	stopBG()
	wg.Wait()
	if werr := e.store.WorkerStopped(context.WithoutCancel(ctx), e.self.ID); werr != nil {
		e.log.Warn("record worker stop", "err", werr)
	}
	e.log.Info("engine stopped", "worker", e.self.ID)
	if err != nil {
		return fmt.Errorf("stop river: %w", err)
	}
	return nil
}

// Close releases what the engine opened (lakes); the state store stays
// open. Call it after Run returned.
func (e *Engine) Close() error { return e.lander.Close() }

// fetchCooldown is the least time between two fetches of jobs while jobs
// keep finishing. River's default (100 ms) caps a process at MaxWorkers
// jobs per 100 ms: 8 workers landing tiny tables ran 77 runs/s with the
// CPU 70% idle, and 10,000 due runs took 130 s on one SQLite serve; at
// 10 ms they took 25.7 s (bench/schedule.sh). It only costs while jobs
// complete: an idle process still polls every PollInterval.
const fetchCooldown = 10 * time.Millisecond
