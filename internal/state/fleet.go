package state

import (
	"context"
	"time"
)

// Fleet is the engine's bookkeeping in the state store, beside the Store
// methods: one heartbeat row per wharf serve/worker process, the River job
// and process of each run, and per-connection concurrency slots (leases)
// shared by every process on the same state database. Both backends
// implement it; package statetest's RunFleet checks them.
type Fleet interface {
	// Heartbeat records that w is alive now (inserting it the first time),
	// and until when (now + w.DeadAfter). w.HeartbeatAt is set to now; a
	// zero w.StartedAt becomes now, a zero w.DeadAfter DefaultDeadAfter.
	Heartbeat(ctx context.Context, w *Worker) error
	// WorkerStopped records a clean exit of worker id.
	WorkerStopped(ctx context.Context, id string) error
	// Workers lists every known process, newest heartbeat first.
	Workers(ctx context.Context) ([]Worker, error)
	// ForgetWorkers deletes processes stopped or silent since before, that
	// hold no running run; it returns how many it deleted.
	ForgetWorkers(ctx context.Context, before time.Time) (int, error)

	// MarkRunning moves queued run r to running on workerID, starting now
	// (or at a non-zero r.StartedAt). It wraps ErrNotQueued, changing
	// nothing, when the run is not queued any more.
	MarkRunning(ctx context.Context, r *Run, workerID string) error
	// StartJobRun records r as running on workerID for River job jobID
	// (like StartRun, for a retry attempt of a job).
	StartJobRun(ctx context.Context, r *Run, jobID int64, workerID string) error
	// RunJob returns the River job and the worker of a run (0 and "" when
	// none are recorded); the error wraps ErrNotFound for a missing run.
	RunJob(ctx context.Context, runID string) (jobID int64, workerID string, err error)
	// JobRuns lists the runs of River job jobID, newest first.
	JobRuns(ctx context.Context, jobID int64) ([]Run, error)
	// OrphanRuns lists runs marked running on a worker that is not alive
	// at now (Worker.Alive: stopped, unknown, or past its own dead-after);
	// oldest first.
	OrphanRuns(ctx context.Context, now time.Time) ([]OrphanRun, error)

	// AcquireLease takes one of limit slots of key (a connection name) for
	// holder (a River job) on workerID, and reports whether it got one.
	// Slots held on workers not alive at now (Worker.Alive) are freed
	// first. A holder that already has a slot of key keeps it (true).
	AcquireLease(ctx context.Context, key string, limit int, holder, workerID string, now time.Time) (bool, error)
	// ReleaseLease frees the slot holder holds of key, if any.
	ReleaseLease(ctx context.Context, key, holder string) error
	// FreeDeadLeases frees the slots of every key held on workers not
	// alive at now (the rule AcquireLease applies), and returns how many:
	// a key nobody takes again (a run's own, run/<id>) keeps no row of a
	// dead process.
	FreeDeadLeases(ctx context.Context, now time.Time) (int, error)

	// DeployedVersion returns a fingerprint of the deployed workflows that
	// changes whenever a deploy creates, updates, disables or deletes one
	// (not when fire times move): serve re-reads them only then.
	DeployedVersion(ctx context.Context) (string, error)

	// DueWorkflows lists the enabled deployed workflows whose next fire
	// time is at or before at, by next fire time then name.
	DueWorkflows(ctx context.Context, at time.Time) ([]Deployed, error)
	// ClaimFires applies each FireClaim (a conditional move of a
	// workflow's fire times) in one transaction and reports which took
	// effect. Queuer.QueueScheduled does the same while queueing the runs
	// the claims start.
	ClaimFires(ctx context.Context, claims []FireClaim) ([]bool, error)

	// LastRuns returns, per workflow that has runs, its newest run and its
	// newest succeeded run (nil when none).
	LastRuns(ctx context.Context) (map[string]LastRuns, error)
	// UnsettledRuns returns, per workflow whose newest run did not
	// succeed, its newest limit runs, newest first: what a status needs to
	// find the last outcome and count the failures since the last
	// success, for every such workflow in one query.
	UnsettledRuns(ctx context.Context, limit int) (map[string][]Run, error)
}

// Enqueue inserts the job that will run a queued run, in the transaction
// that records the run. tx is the backend's own transaction (Tx.Native:
// *sql.Tx for SQLite, pgx.Tx for PostgreSQL). It returns the job's ID, or
// a non-empty skipReason when the job was not inserted because an
// equivalent one is active (the run is then recorded as skipped).
type Enqueue func(tx any) (jobID int64, skipReason string, err error)

// Queuer records a queued run together with its job.
type Queuer interface {
	// QueueRun records r as queued together with the job enqueue inserts,
	// in one transaction: both or neither. When enqueue reports a skip, r
	// is recorded as skipped instead. r is normalized in place (see
	// Run.PrepareQueue).
	QueueRun(ctx context.Context, r *Run, enqueue Enqueue) error
	// QueueScheduled takes fire times and queues the runs they start, in
	// one transaction: it applies each claim, then hands the runs of the
	// claims that took effect (runs[i] for claims[i]; nil = move the fire
	// times only) to enqueue, and records each as queued or skipped like
	// QueueRun. It returns which claims took effect; the runs recorded are
	// normalized in place.
	QueueScheduled(ctx context.Context, claims []FireClaim, runs []*Run, enqueue EnqueueMany) ([]bool, error)
}

// EnqueueMany inserts the jobs of queued runs, in the transaction that
// records them (tx as for Enqueue): per run, its job's ID or a non-empty
// skip reason.
type EnqueueMany func(tx any, runs []*Run) (jobIDs []int64, skipReasons []string, err error)
