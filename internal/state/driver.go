package state

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/wharf-data/wharf/internal/state/migration"
)

// Driver is what a backend gives the shared store (SQLStore): its SQL, a
// way to run it, and how its values and errors map onto the records. Every
// rule (checks, status changes, duplicate handling, what happens in one
// transaction) lives in SQLStore, so a driver is a thin mapping: River's
// riverdriver is the model.
type Driver interface {
	// Queries returns the backend's statements (see Queries).
	Queries() *Queries
	// Executor runs statements outside a transaction.
	Executor() Executor
	// Begin starts a write transaction.
	Begin(ctx context.Context) (Tx, error)
	// Time returns the statement argument that stores t; the zero time is
	// NULL. (Scans read times through TimeDest, whatever the column type.)
	Time(t time.Time) any
	// Param returns the i-th placeholder (from 1) in the backend's dialect,
	// for the statements SQLStore assembles (RunFilter.Where).
	Param(i int) string
	// InterpretError translates the backend's own errors: a unique
	// violation becomes a *DuplicateError naming the key. Other errors are
	// returned as they are.
	InterpretError(err error) error
	// Close releases the driver's connections.
	Close() error
}

// Executor runs statements.
type Executor interface {
	// Exec runs a statement and returns how many rows it changed.
	Exec(ctx context.Context, query string, args ...any) (int64, error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Rows is a query's result; Scan accepts pointers to Go values, pointers
// to pointers for NULLable columns, and TimeDest.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Tx is a write transaction.
type Tx interface {
	Executor
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	// Native returns the backend's own transaction (*sql.Tx, pgx.Tx), for
	// packages that write in the same transaction (River's InsertTx).
	Native() any
}

// DuplicateError is a unique violation, as Driver.InterpretError reports
// it. Key is "table.column" of the violated key, e.g. "wharf_runs.id".
type DuplicateError struct {
	Key string
	Err error
}

func (e *DuplicateError) Error() string { return "duplicate " + e.Key + ": " + e.Err.Error() }
func (e *DuplicateError) Unwrap() error { return e.Err }

// duplicateKey returns the key of a *DuplicateError in err, or "".
func duplicateKey(err error) string {
	var de *DuplicateError
	if errors.As(err, &de) {
		return de.Key
	}
	return ""
}

// TimeDest returns a scan destination for a time column (a timestamptz
// or INTEGER microseconds since the epoch): NULL is the zero time, and the
// result is UTC.
func TimeDest(t *time.Time) any { return &timeDest{t} }

type timeDest struct{ t *time.Time }

// Scan implements sql.Scanner (pgx also scans into it).
func (d *timeDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.t = time.Time{}
	case time.Time:
		*d.t = v.UTC()
	case int64:
		*d.t = time.UnixMicro(v).UTC()
	default:
		return fmt.Errorf("time column holds %T", src)
	}
	return nil
}

// Queries is one backend's SQL, kept as data: one field per statement,
// each with its arguments in the order documented here. Run columns are,
// in order: id, workflow, run_trigger, status, started_at, finished_at,
// row_count, byte_count, file_count, watermark_from_kind, watermark_from,
// watermark_to_kind, watermark_to, full_load, error_message, schema_hash,
// schema, lake_prefix (RunColumns lists them for SELECTs; scanRun reads them).
type Queries struct {
	// RunColumns is the run column list of every SELECT of runs.
	RunColumns string

	// InsertRun (run columns..., job_id, worker_id) records a new run.
	InsertRun string
	// SetRunIf (status, started_at (NULL = keep), worker_id (NULL = keep),
	// finished_at, row_count, byte_count, file_count, watermark_from_kind,
	// watermark_from, watermark_to_kind, watermark_to, full_load,
	// error_message, schema_hash, schema, id, workflow, from1, from2,
	// lake_prefix ('' = keep)) is the one status change: it applies only
	// while the run's status is from1 or from2.
	SetRunIf string
	// RunStatus (id) returns status, workflow.
	RunStatus string
	// RunByID (id), StaleRuns (), StaleRunsOf (workflow), JobRuns (job_id),
	// LastRuns () and LastSucceededRuns () return run columns.
	RunByID, StaleRuns, StaleRunsOf, JobRuns, LastRuns, LastSucceededRuns string
	// SelectRuns is RunFilter's query up to its WHERE; ListRunsOrder
	// (limit as the first argument) follows the WHERE.
	SelectRuns, ListRunsOrder string
	// RunJob (id) returns job_id, worker_id.
	RunJob string
	// OrphanRuns (now) returns id, workflow, worker_id, job_id (0 =
	// none), started_at of running runs on workers not alive at now
	// (unknown, or stopped_at set, or dead_at < now: Worker.Alive).
	OrphanRuns string

	// RunExists (id) returns a row when the run exists; Files (run_id)
	// returns run_id, workflow, path, row_count, byte_count, created_at.
	RunExists, Files string
	// InsertFile (run_id, workflow, path, row_count, byte_count, created_at).
	InsertFile string

	// Watermark (workflow) returns cursor_column, kind, watermark;
	// Watermarks () returns workflow, kind, watermark of every workflow.
	Watermark, Watermarks string
	// SetWatermark (workflow, cursor_column, kind, watermark, run_id,
	// updated_at) inserts or replaces; DeleteWatermark (workflow).
	SetWatermark, DeleteWatermark string

	// DeployedAll () and DeployedOne (name) return name, id, spec,
	// spec_hash, enabled, created_at, updated_at, last_fire_at,
	// next_fire_at, ordered by name (byte order).
	DeployedAll, DeployedOne string
	// LockDeployed, when not empty, runs first in a deploy with a Basis so
	// that no other deploy changes the workflows until it commits.
	LockDeployed string
	// Basis () returns name, spec_hash, enabled of every workflow.
	Basis string
	// InsertWorkflow (name, id, spec, spec_hash, created_at, updated_at,
	// last_fire_at, next_fire_at) creates an enabled workflow.
	InsertWorkflow string
	// UpdateWorkflow (spec, spec_hash, updated_at, name) replaces a spec and
	// enables; DisableWorkflow (updated_at, name) disables (updated_at
	// moves only if it was enabled); DeleteWorkflow (name).
	UpdateWorkflow, DisableWorkflow, DeleteWorkflow string
	// DeleteWorkflowRows (workflow) are run after DeleteWorkflow: its
	// watermark, files and runs.
	DeleteWorkflowRows []string
	// SetFireTimes (last_fire_at, next_fire_at, name).
	SetFireTimes string
	// DueWorkflows (at) returns the deployed columns of the enabled
	// workflows whose next fire time is at or before at, by next fire time
	// then name.
	DueWorkflows string
	// ClaimFire (last_fire_at, next_fire_at, name, expect) moves the fire
	// times only while next_fire_at is expect (NULL = none): FireClaim.
	ClaimFire string
	// DeployedVersion () returns count, count enabled, max(updated_at).
	DeployedVersion string

	// Heartbeat (id, host, pid, role, started_at, heartbeat_at, dead_at)
	// inserts or refreshes a worker (clearing stopped_at); WorkerStopped
	// (stopped_at, id); Workers () returns id, host, pid, role,
	// started_at, heartbeat_at, stopped_at, dead_at, newest heartbeat
	// first; ForgetWorkers
	// (before) deletes workers gone since before that hold no running run.
	Heartbeat, WorkerStopped, Workers, ForgetWorkers string

	// FreeDeadLeases (now) frees every slot of workers not alive at now
	// (as OrphanRuns), of any key; CountLeases (holder, lease_key) returns held, total;
	// InsertLease (lease_key, slot, holder, worker_id, acquired_at) takes a
	// free slot or changes nothing; ReleaseLease (lease_key, holder).
	FreeDeadLeases, CountLeases, InsertLease, ReleaseLease string

	// InsertChunk (run_id, chunk, workflow, updated_at) records a pending
	// chunk. ClaimChunk (worker_id, updated_at, run_id, chunk, now) marks
	// it running on worker_id, attempts + 1, when it is pending, or
	// running on a worker not alive at now (as FreeDeadLeases), and its
	// run is running; ChunkAttempts (run_id, chunk) returns attempts.
	// FinishChunk (row_count, byte_count, files, updated_at, run_id,
	// chunk, worker_id) marks it done, only while it runs on worker_id
	// and its run is running; FailChunk (error_message, updated_at,
	// run_id, chunk, worker_id) pending again, only while it runs on
	// worker_id. Chunks (run_id) returns chunk, status,
	// worker_id, attempts, row_count, byte_count, files, error_message,
	// updated_at, by chunk.
	InsertChunk, ClaimChunk, ChunkAttempts, FinishChunk, FailChunk, Chunks string

	// LockMigrations, when not empty, runs first in Migrate so that
	// concurrent opens migrate one after the other; CreateMigrations
	// creates the migration.Table if missing; AppliedMigrations () returns
	// its versions; RecordMigration (version, name, applied_at).
	LockMigrations, CreateMigrations, AppliedMigrations, RecordMigration string
}

// Check reports a statement the backend left empty (the Lock ones may be).
func (q *Queries) Check() error {
	v := reflect.ValueOf(q).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		f := v.Field(i)
		empty := f.Kind() == reflect.String && f.String() == "" || f.Kind() == reflect.Slice && f.Len() == 0
		if empty && name != "LockDeployed" && name != "LockMigrations" {
			return fmt.Errorf("state driver: statement %s is empty", name)
		}
	}
	return nil
}

// Migrate applies the migrations of all that the database lacks, in one
// transaction that starts with Queries.LockMigrations (when set), so
// that concurrent opens, on any machine, apply each migration once.
func (s *SQLStore) Migrate(ctx context.Context, all []migration.Migration) error {
	d, q := s.d, s.q
	tx, err := d.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if q.LockMigrations != "" {
		if _, err := tx.Exec(ctx, q.LockMigrations); err != nil {
			return fmt.Errorf("lock %s: %w", migration.Table, err)
		}
	}
	if _, err := tx.Exec(ctx, q.CreateMigrations); err != nil {
		return fmt.Errorf("create %s: %w", migration.Table, err)
	}
	var applied []int
	err = queryEach(ctx, tx, func(rows Rows) error {
		var v int
		err := rows.Scan(&v)
		applied = append(applied, v)
		return err
	}, q.AppliedMigrations)
	if err != nil {
		return fmt.Errorf("read %s: %w", migration.Table, err)
	}
	pending, err := migration.Pending(all, applied)
	if err != nil {
		return err
	}
	for _, m := range pending {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.Exec(ctx, q.RecordMigration, m.Version, m.Name, d.Time(s.Now())); err != nil {
			return fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return tx.Commit(ctx)
}
