// Package state is wharf's memory between runs: the deployed workflows,
// each workflow's watermark, the history of runs, and the files each run
// landed.
//
// Open picks a backend from a URL: an embedded SQLite file by default
// (package statesqlite, "sqlite:.wharf/state.db") or PostgreSQL when several
// machines share the work (package statepg, "postgres://..."). Both keep
// their tables prefixed wharf_ and migrate them at Open with versioned,
// embedded SQL files recorded in wharf_schema_migrations, so other tables
// (River's) can share the database. Both pass the conformance suite in
// package statetest.
//
// The record types are defined in package staterun (so that the backends
// can use them while this package imports the backends) and re-exported
// here as aliases: state.Run and staterun.Run are the same type.
package state

import (
	"context"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state/staterun"
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
	// Close releases the store's connections.
	Close() error
}

// Record types, shared with the backends through package staterun.
type (
	// Run is one execution of a workflow.
	Run = staterun.Run
	// File is one lake object a run landed.
	File = staterun.File
	// RunFilter selects runs for listing.
	RunFilter = staterun.RunFilter
	// Deployed is a workflow as deployed: what runs, independent of the
	// catalog file.
	Deployed = staterun.Deployed
	// DeployChanges is one deploy, applied all or nothing by ApplyDeploy.
	DeployChanges = staterun.DeployChanges
)

// Run statuses and triggers.
const (
	StatusQueued    = staterun.StatusQueued
	StatusRunning   = staterun.StatusRunning
	StatusSucceeded = staterun.StatusSucceeded
	StatusFailed    = staterun.StatusFailed
	StatusCancelled = staterun.StatusCancelled
	StatusSkipped   = staterun.StatusSkipped

	TriggerManual   = staterun.TriggerManual
	TriggerSchedule = staterun.TriggerSchedule
	TriggerRetry    = staterun.TriggerRetry
)

var (
	// ErrNotFound is wrapped by errors about a missing run or deployed workflow.
	ErrNotFound = staterun.ErrNotFound
	// ErrNotRunning is wrapped by CommitRun and FinishRun errors when the
	// run already ended; nothing was changed.
	ErrNotRunning = staterun.ErrNotRunning
	// ErrAlreadyDeployed is wrapped by ApplyDeploy errors about creating a
	// workflow that is deployed already.
	ErrAlreadyDeployed = staterun.ErrAlreadyDeployed
	// ErrDeployConflict is wrapped by ApplyDeploy errors when the deployed
	// workflows changed since the deploy was planned (DeployChanges.Basis).
	ErrDeployConflict = staterun.ErrDeployConflict
)

// SpecHash returns the sha256 (hex) of a resolved workflow's canonical spec
// JSON: Deployed.SpecHash for that spec.
func SpecHash(r catalog.Resolved) string { return staterun.SpecHash(r) }
