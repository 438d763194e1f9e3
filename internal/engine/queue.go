package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/riverq"
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
	// skipped. tries holds each workflow's attempts (Tries).
	queueScheduled(ctx context.Context, claims []state.FireClaim, runs []*state.Run, tries map[string]int) ([]bool, error)
	// pendingTicks lists the ticks not yet worked, except job self.
	pendingTicks(ctx context.Context, self int64) ([]TickArgs, error)
	// runningWorkflows lists the workflows with a running landing job.
	runningWorkflows(ctx context.Context) (map[string]bool, error)
	insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	// insertManyTx inserts jobs in tx, a state transaction (Tx.Native).
	insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) error
	// list lists jobs.
	list(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error)
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

// riverQueue is the River client the state store built over its own
// database (state.Store.River).
type riverQueue struct {
	client riverq.Client
	store  state.Queuer
}

// newQueue asks the store for River's client, its tables up to date.
func newQueue(ctx context.Context, store state.Store, cfg *river.Config, log *slog.Logger) (queue, error) {
	client, err := store.River(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	return &riverQueue{client: client, store: store}, nil
}

func (q *riverQueue) start(ctx context.Context) error { return q.client.Start(ctx) }
func (q *riverQueue) stop(ctx context.Context) error  { return q.client.Stop(ctx) }
func (q *riverQueue) periodic() *river.PeriodicJobBundle {
	return q.client.PeriodicJobs()
}

func (q *riverQueue) queueRun(ctx context.Context, run *state.Run, args LandingArgs, opts *river.InsertOpts) (string, error) {
	var skip string
	err := q.store.QueueRun(ctx, run, func(native any) (int64, string, error) {
		res, err := q.client.InsertTx(ctx, native, args, opts)
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

func (q *riverQueue) queueScheduled(ctx context.Context, claims []state.FireClaim, runs []*state.Run, tries map[string]int) ([]bool, error) {
	return q.store.QueueScheduled(ctx, claims, runs, func(native any, runs []*state.Run) ([]int64, []string, error) {
		params := make([]river.InsertManyParams, len(runs))
		for i, r := range runs {
			params[i] = river.InsertManyParams{
				Args:       LandingArgs{Workflow: r.Workflow, RunID: r.ID, Trigger: r.Trigger},
				InsertOpts: landingOpts(tries[r.Workflow]),
			}
		}
		res, err := q.client.InsertManyTx(ctx, native, params)
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

func (q *riverQueue) pendingTicks(ctx context.Context, self int64) ([]TickArgs, error) {
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

func (q *riverQueue) runningWorkflows(ctx context.Context) (map[string]bool, error) {
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

func (q *riverQueue) insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return q.client.Insert(ctx, args, opts)
}

func (q *riverQueue) insertManyTx(ctx context.Context, tx any, params []river.InsertManyParams) error {
	_, err := q.client.InsertManyTx(ctx, tx, params)
	return err
}

func (q *riverQueue) list(ctx context.Context, params *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := q.client.JobList(ctx, params)
	if err != nil {
		return nil, err
	}
	return res.Jobs, nil
}

func (q *riverQueue) cancel(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return q.client.JobCancel(ctx, jobID)
}

func (q *riverQueue) get(ctx context.Context, jobID int64) (*rivertype.JobRow, error) {
	return q.client.JobGet(ctx, jobID)
}

func (q *riverQueue) rescue(ctx context.Context, job *rivertype.JobRow, now, horizon time.Time, reason string) error {
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
	_, err = q.client.Executor().JobRescueMany(ctx, &riverdriver.JobRescueManyParams{
		ID: []int64{job.ID}, Error: [][]byte{attemptErr}, FinalizedAt: []*time.Time{finalized},
		ScheduledAt: []time.Time{now}, State: []string{string(st)}, Schema: q.client.Schema(), StuckHorizon: horizon,
	})
	if err != nil {
		return fmt.Errorf("rescue job %d: %w", job.ID, err)
	}
	return nil
}
