package engine

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/state"
)

// queue is the River client, whatever its driver: riversqlite over the
// SQLite state file, or riverpgxv5 over the PostgreSQL state pool.
type queue interface {
	start(ctx context.Context) error
	stop(ctx context.Context) error
	// queueRun records run as queued and inserts its landing job in one
	// state transaction; it returns a skip reason when the workflow already
	// has an active job (run is then recorded as skipped).
	queueRun(ctx context.Context, run *state.Run, args LandingArgs, opts *river.InsertOpts) (skip string, err error)
	// queueScheduled takes fire times and queues the scheduled runs they
	// start in one state transaction (see state.Queuer): the
	// landing jobs of the runs whose claim took effect are inserted with
	// one InsertMany; runs whose workflow has an active job are recorded
	// skipped.
	queueScheduled(ctx context.Context, claims []state.FireClaim, runs []*state.Run, attempts int) ([]bool, error)
	// pendingTicks lists the ticks not yet worked, except job self.
	pendingTicks(ctx context.Context, self int64) ([]TickArgs, error)
	// runningWorkflows lists the workflows with a running landing job.
	runningWorkflows(ctx context.Context) (map[string]bool, error)
	insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	cancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	get(ctx context.Context, jobID int64) (*rivertype.JobRow, error)
	// rescue makes a job stuck on a dead process available again (or
	// discards it when it has no attempts left), provided it is still
	// running an attempt started before horizon.
	rescue(ctx context.Context, job *rivertype.JobRow, now, horizon time.Time, reason string) error
	periodic() *river.PeriodicJobBundle
	// counts and riverUI serve the console (console.go).
	counts(ctx context.Context) (map[string]int, error)
	riverUI(ctx context.Context, prefix string, log *slog.Logger) (http.Handler, error)
}

type riverQueue[TTx any] struct {
	client   *river.Client[TTx]
	driver   riverdriver.Driver[TTx]
	store    state.Queuer
	schema   string
	attempts int
}

// The handles River's drivers are built on: a SQLite store's database, a
// PostgreSQL store's pool.
type (
	sqlDBStore  interface{ DB() *sql.DB }
	pgPoolStore interface{ Pool() *pgxpool.Pool }
)

// newQueue builds the River client over the store's database handle and
// brings River's tables up to date.
func newQueue(ctx context.Context, store state.Store, cfg *river.Config, log *slog.Logger) (queue, error) {
	switch s := store.(type) {
	case sqlDBStore:
		drv := riversqlite.New(s.DB())
		// Processes starting together migrate one after the other: the
		// transaction is BEGIN IMMEDIATE (the state DSN's _txlock), which
		// takes SQLite's write lock first.
		m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log})
		if err != nil {
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		if _, err := m.MigrateTx(ctx, tx, rivermigrate.DirectionUp, nil); err != nil {
			_ = tx.Rollback()
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		// riversqlite emulates LISTEN/NOTIFY by polling a notification
		// table every 50 ms, which costs an idle serve more CPU than
		// polling for jobs every PollInterval: poll only.
		cfg.PollOnly = true
		client, err := river.NewClient(drv, cfg)
		if err != nil {
			return nil, fmt.Errorf("river: %w", err)
		}
		return &riverQueue[*sql.Tx]{client: client, driver: drv, store: store}, nil
	case pgPoolStore:
		pool := s.Pool()
		var schema string
		if err := pool.QueryRow(ctx, `SELECT coalesce(current_schema(), '')`).Scan(&schema); err != nil {
			return nil, fmt.Errorf("river: read current schema: %w", err)
		}
		if !schemaRE.MatchString(schema) {
			schema = "" // River then uses search_path, as the state tables do
		}
		cfg.Schema = schema
		drv := riverpgxv5.New(pool)
		// Processes starting together migrate one after the other.
		conn, err := pool.Acquire(ctx)
		if err != nil {
			return nil, fmt.Errorf("river: %w", err)
		}
		defer conn.Release()
		lockKey := "wharf_river_migrate:" + schema
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtextextended($1, 0))`, lockKey); err != nil {
			return nil, fmt.Errorf("river: lock migrations: %w", err)
		}
		defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, lockKey) //nolint:errcheck
		if err := migrateRiver(ctx, drv, schema, log); err != nil {
			return nil, err
		}
		client, err := river.NewClient(drv, cfg)
		if err != nil {
			return nil, fmt.Errorf("river: %w", err)
		}
		return &riverQueue[pgx.Tx]{client: client, driver: drv, store: store, schema: schema}, nil
	}
	return nil, fmt.Errorf("engine: state store %T has no database handle River can use (DB() *sql.DB or Pool() *pgxpool.Pool)", store)
}

var schemaRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func migrateRiver[TTx any](ctx context.Context, drv riverdriver.Driver[TTx], schema string, log *slog.Logger) error {
	m, err := rivermigrate.New(drv, &rivermigrate.Config{Logger: log, Schema: schema})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

func (q *riverQueue[TTx]) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *riverQueue[TTx]) stop(ctx context.Context) error  { return q.client.Stop(ctx) }
func (q *riverQueue[TTx]) periodic() *river.PeriodicJobBundle {
	return q.client.PeriodicJobs()
}

func (q *riverQueue[TTx]) queueRun(ctx context.Context, run *state.Run, args LandingArgs, opts *river.InsertOpts) (string, error) {
	var skip string
	err := q.store.QueueRun(ctx, run, func(native any) (int64, string, error) {
		tx, err := nativeTx[TTx](native)
		if err != nil {
			return 0, "", err
		}
		res, err := q.client.InsertTx(ctx, tx, args, opts)
		if err != nil {
			return 0, "", err
		}
		if res.UniqueSkippedAsDuplicate {
			skip = skipReason(args.Workflow, res)
			return 0, skip, nil
		}
		return res.Job.ID, "", nil
	})
	return skip, err
}

func (q *riverQueue[TTx]) queueScheduled(ctx context.Context, claims []state.FireClaim, runs []*state.Run, attempts int) ([]bool, error) {
	return q.store.QueueScheduled(ctx, claims, runs, func(native any, runs []*state.Run) ([]int64, []string, error) {
		tx, err := nativeTx[TTx](native)
		if err != nil {
			return nil, nil, err
		}
		params := make([]river.InsertManyParams, len(runs))
		for i, r := range runs {
			params[i] = river.InsertManyParams{
				Args:       LandingArgs{Workflow: r.Workflow, RunID: r.ID, Trigger: r.Trigger},
				InsertOpts: landingOpts(attempts),
			}
		}
		res, err := q.client.InsertManyTx(ctx, tx, params)
		if err != nil {
			return nil, nil, err
		}
		ids, skips := make([]int64, len(res)), make([]string, len(res))
		for i, r := range res {
			if r.UniqueSkippedAsDuplicate {
				skips[i] = skipReason(runs[i].Workflow, r)
			} else {
				ids[i] = r.Job.ID
			}
		}
		return ids, skips, nil
	})
}

func (q *riverQueue[TTx]) pendingTicks(ctx context.Context, self int64) ([]TickArgs, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(KindTick).States(activeStates...).First(10_000))
	if err != nil {
		return nil, fmt.Errorf("list pending schedule ticks: %w", err)
	}
	var out []TickArgs
	for _, j := range res.Jobs {
		var a TickArgs
		if j.ID != self && json.Unmarshal(j.EncodedArgs, &a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

func (q *riverQueue[TTx]) runningWorkflows(ctx context.Context) (map[string]bool, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(KindLanding).States(rivertype.JobStateRunning).First(10_000))
	if err != nil {
		return nil, fmt.Errorf("list running landing jobs: %w", err)
	}
	out := map[string]bool{}
	for _, j := range res.Jobs {
		var a LandingArgs
		if json.Unmarshal(j.EncodedArgs, &a) == nil {
			out[a.Workflow] = true
		}
	}
	return out, nil
}

// nativeTx is the state transaction as River's driver wants it.
func nativeTx[TTx any](native any) (TTx, error) {
	tx, ok := native.(TTx)
	if !ok {
		return tx, fmt.Errorf("the state transaction is a %T, River's driver wants a %T", native, tx)
	}
	return tx, nil
}

func (q *riverQueue[TTx]) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.client.Insert(ctx, args, opts)
}

func (q *riverQueue[TTx]) cancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return q.client.JobCancel(ctx, jobID)
}

func (q *riverQueue[TTx]) get(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return q.client.JobGet(ctx, jobID)
}

func (q *riverQueue[TTx]) rescue(ctx context.Context, job *rivertype.JobRow, now, horizon time.Time, reason string) error {
	attemptErr, err := json.Marshal(rivertype.AttemptError{At: now, Attempt: max(job.Attempt, 1), Error: reason})
	if err != nil {
		return err
	}
	// Available, not retryable: it is fetched at once, without waiting for
	// River's leader (which may be the process that died) to schedule it.
	st, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
	if job.Attempt >= job.MaxAttempts {
		st, finalized = rivertype.JobStateDiscarded, &now
	}
	_, err = q.driver.GetExecutor().JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID: []int64{job.ID}, Error: [][]byte{attemptErr}, FinalizedAt: []*time.Time{finalized},
		ScheduledAt: []time.Time{now}, State: []string{string(st)}, Schema: q.schema, StuckHorizon: horizon,
	})
	if err != nil {
		return fmt.Errorf("rescue job %d: %w", job.ID, err)
	}
	return nil
}
