// Package state is wharf's memory between runs: the deployed workflows,
// each workflow's watermark, the history of runs, and the files each run
// landed.
//
// This package holds the records, the interfaces and the rules every
// backend shares; it imports no backend. The backends — an embedded SQLite
// file by default (package statesqlite, "sqlite:.wharf/state.db") or
// PostgreSQL when several machines share the work (package statepg,
// "postgres://...") — import it, and package stateurl opens one from a URL.
// Both keep their tables prefixed wharf_ and migrate them at open with
// versioned, embedded SQL files recorded in wharf_schema_migrations, so
// other tables (River's) can share the database. Both pass the conformance
// suite in package statetest. See docs/state.md.
package state

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state/riverq"
)

// Store keeps watermarks, runs and files. Implementations are safe for
// concurrent use, and several Stores (in several processes) may share one
// database.
type Store interface {
	// Watermark returns the committed watermark of a workflow and the cursor
	// column it belongs to; (nil, "", nil) when there is none.
	Watermark(ctx context.Context, workflow string) (wm *coltype.Watermark, cursor string, err error)
	// StartRun records r as running. r.ID is set by the caller (a UUIDv7
	// string); a zero r.StartedAt becomes now. r is normalized in place
	// (Status running, times UTC at microsecond precision).
	StartRun(ctx context.Context, r *Run) error
	// CommitRun marks r succeeded with its stats, records its files, and (if
	// wm != nil) sets the workflow's watermark to wm for cursor, all in one
	// transaction. It fails, wrapping ErrNotRunning, and changes nothing if
	// the run is not running (e.g. a concurrent cleanup marked it failed).
	// r is updated in place: Status succeeded, FinishedAt (now when zero),
	// Files = len(files).
	CommitRun(ctx context.Context, r *Run, files []File, wm *coltype.Watermark, cursor string) error
	// FinishRun records a non-success end of a queued or running run:
	// r.Status failed, cancelled or skipped, with r.Error, its stats and
	// window. A zero r.FinishedAt becomes now. It wraps ErrNotRunning when
	// the run already ended, and ErrNotFound when it was never started.
	FinishRun(ctx context.Context, r *Run) error
	// RecordLakePrefix records prefix as where running run r writes in
	// the lake (r.LakePrefix, with r's window and other fields as they
	// are), before it writes anything. It wraps ErrNotRunning when the run
	// is not running.
	RecordLakePrefix(ctx context.Context, r *Run, prefix string) error
	// StaleRuns lists the runs of a workflow ("" = every workflow) still
	// marked running, oldest first: a crashed process's leftovers, or runs
	// in progress elsewhere.
	StaleRuns(ctx context.Context, workflow string) ([]Run, error)
	// Runs lists runs newest first (by StartedAt, then ID).
	// f.Workflow "" = every workflow; f.Limit 0 = 100.
	Runs(ctx context.Context, f RunFilter) ([]Run, error)
	// Run returns one run; the error wraps ErrNotFound when there is none.
	Run(ctx context.Context, id string) (*Run, error)
	// Files lists the files a run landed, by CreatedAt then Path; the error
	// wraps ErrNotFound when the run does not exist.
	Files(ctx context.Context, runID string) ([]File, error)
	// Watermarks returns the committed watermark of every workflow that
	// has one, in one query (status tables).
	Watermarks(ctx context.Context) (map[string]*coltype.Watermark, error)
	// ResetWatermark forgets a workflow's watermark: its next run is a full
	// load. Resetting a workflow without one is not an error.
	ResetWatermark(ctx context.Context, workflow string) error
	// DeployedWorkflows lists every deployed workflow, enabled or not,
	// ordered by name.
	DeployedWorkflows(ctx context.Context) ([]Deployed, error)
	// DeployedWorkflow returns one deployed workflow; the error wraps
	// ErrNotFound when it is not deployed.
	DeployedWorkflow(ctx context.Context, name string) (*Deployed, error)
	// ApplyDeploy applies d in ONE transaction: all of it or, on any error,
	// nothing. Update, Disable and Delete of a name that is not deployed
	// fail wrapping ErrNotFound; a Create of a deployed name fails wrapping
	// ErrAlreadyDeployed. See DeployChanges for what each change keeps.
	ApplyDeploy(ctx context.Context, d DeployChanges) error
	// SetFireTimes records a deployed workflow's last and next schedule
	// fire times (zero = none); the error wraps ErrNotFound when it is not
	// deployed.
	SetFireTimes(ctx context.Context, name string, last, next time.Time) error
	// Now is the store's clock (state.WithClock; default time.Now), in UTC
	// at the precision the store keeps: the one source of the current time
	// for the store, the engine and the landing blueprint.
	Now() time.Time
	// Close releases the store's connections.
	Close() error

	// Every store also keeps the engine's bookkeeping and queues runs
	// with their River job.
	Fleet
	Queuer
	Chunks
	// River builds River's client over the store's own database, with
	// River's driver for the store's transaction type, and brings River's
	// tables up to date: the client Queuer's enqueue functions insert
	// with. It may set cfg fields the backend needs (Schema, PollOnly).
	River(ctx context.Context, cfg *river.Config, log *slog.Logger) (riverq.Client, error)
}

// DefaultURL is the state store wharf uses when none is configured: an
// embedded SQLite file relative to the working directory.
const DefaultURL = "sqlite:.wharf/state.db"

// Deployments lists the deployed workflows: all that `wharf plan` reads.
// Every Store is one.
type Deployments interface {
	DeployedWorkflows(ctx context.Context) ([]Deployed, error)
	Close() error
}
