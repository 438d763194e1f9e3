package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// Queued is a run Trigger queued (or recorded as skipped).
type Queued struct {
	Run   state.Run
	JobID int64  // 0 when skipped
	Skip  string // why the run was skipped; "" when queued
}

// Trigger queues an on-demand run of each named deployed workflow for
// whichever processes work on this state, and returns the runs in order.
// A workflow that is already queued or running gets a skipped run. Errors
// about unknown or disabled workflows are returned before anything is
// queued.
func (e *Engine) Trigger(ctx context.Context, workflows ...string) ([]Queued, error) {
	ds := make([]*deploy.Workflow, len(workflows))
	for i, name := range workflows {
		d, err := deploy.Get(ctx, e.store, name)
		if errors.Is(err, state.ErrNotFound) {
			if msg := deploy.NotDeployed(ctx, e.store, name); msg != "" {
				return nil, errors.New(msg)
			}
		}
		if err != nil {
			return nil, err
		}
		if !d.Enabled {
			return nil, fmt.Errorf("workflow %s is disabled: it left the catalog (deploy a catalog that has it to enable it)", name)
		}
		ds[i] = d
	}
	out := make([]Queued, len(ds))
	for i, d := range ds {
		run, skip, err := e.enqueue(ctx, d, state.TriggerManual)
		if err != nil {
			return out[:i], err
		}
		out[i] = Queued{Run: *run, Skip: skip}
		if skip == "" {
			if out[i].JobID, _, err = e.store.RunJob(ctx, run.ID); err != nil {
				return out[:i+1], err
			}
		}
	}
	return out, nil
}

// enqueue queues a run of d with its landing job, or records it skipped.
func (e *Engine) enqueue(ctx context.Context, d *deploy.Workflow, trigger string) (*state.Run, string, error) {
	e.awaitCompletion(ctx, d.Name)
	run := &state.Run{ID: newRunID(), Workflow: d.Name, Trigger: trigger}
	skip, err := e.q.queueRun(ctx, run, LandingArgs{Workflow: d.Name, RunID: run.ID, Trigger: trigger}, landingOpts(d.Spec.Workflow.Tries()))
	if err != nil {
		return nil, "", err
	}
	return run, skip, nil
}

// ErrNotCancellable is wrapped by Cancel errors about a run that already
// ended.
var ErrNotCancellable = errors.New("run already ended")

// Cancel cancels a queued or running run: a queued run ends cancelled at
// once; a running one has its context cancelled by the process running it
// (within a few seconds), which removes its files and records it
// cancelled. Either way its job is not retried.
func (e *Engine) Cancel(ctx context.Context, runID string) (*state.Run, error) {
	run, err := e.store.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	if run.Status.Final() {
		return run, fmt.Errorf("cancel run %s of workflow %s: it is %s: %w", run.ID, run.Workflow, run.Status, ErrNotCancellable)
	}
	jobID, _, err := e.store.RunJob(ctx, runID)
	if err != nil {
		return nil, err
	}
	if jobID != 0 {
		if _, err := e.q.cancel(ctx, jobID); err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return nil, fmt.Errorf("cancel run %s of workflow %s: job %d: %w", run.ID, run.Workflow, jobID, err)
		}
	}
	if run.Status == state.StatusQueued {
		run.Status, run.Error = state.StatusCancelled, "cancelled before it started (wharf cancel)"
		if err := e.store.FinishRun(ctx, run); err != nil && !errors.Is(err, state.ErrNotRunning) {
			return nil, err
		}
	}
	return run, nil
}

// Outcome is how a queued run's job ended: the last run of the job.
type Outcome struct {
	Run      state.Run
	JobState rivertype.JobState
}

// Wait waits until the job of each queued run is finished (after its
// retries) and returns the last run of each, in order; skipped runs are
// returned as they are. poll is how often it looks.
func (e *Engine) Wait(ctx context.Context, qs []Queued, poll time.Duration) ([]Outcome, error) {
	out := make([]Outcome, len(qs))
	for i, q := range qs {
		out[i].Run = q.Run
	}
	for i, q := range qs {
		if q.JobID == 0 {
			continue
		}
		for {
			runs, err := e.store.JobRuns(ctx, q.JobID)
			if err != nil {
				return out, err
			}
			// A succeeded run ends its job (River records the completion a
			// little later); after any other end, the job may retry.
			if len(runs) > 0 && runs[0].Status == state.StatusSucceeded {
				out[i] = Outcome{Run: runs[0], JobState: rivertype.JobStateCompleted}
				break
			}
			job, err := e.q.get(ctx, q.JobID)
			if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
				return out, err
			}
			if (job == nil || finalJobState(job.State)) && len(runs) > 0 && runs[0].Status.Final() {
				// Re-read: the job's last attempt ended after the runs were read.
				if runs, err = e.store.JobRuns(ctx, q.JobID); err != nil {
					return out, err
				}
				out[i].Run = runs[0]
				if job != nil {
					out[i].JobState = job.State
				}
				break
			}
			select {
			case <-ctx.Done():
				return out, ctx.Err()
			case <-time.After(poll):
			}
		}
	}
	return out, nil
}

// JobState returns the River state of a job.
func (e *Engine) JobState(ctx context.Context, jobID int64) (rivertype.JobState, error) {
	job, err := e.q.get(ctx, jobID)
	if err != nil {
		return "", err
	}
	return job.State, nil
}

// completionWait bounds awaitCompletion.
const completionWait = 2 * time.Second

// awaitCompletion waits (briefly) when the workflow's last run has ended
// but River has not yet marked its job complete: River completes jobs in
// batches, up to 250 ms after they return, and until then the job still
// counts as active, so a run queued right after another one ended would be
// skipped as overlapping.
func (e *Engine) awaitCompletion(ctx context.Context, workflow string) {
	runs, err := e.store.Runs(ctx, state.RunFilter{Workflow: workflow, Limit: 1})
	if err != nil || len(runs) == 0 || !runs[0].Status.Final() || runs[0].Status == state.StatusSkipped {
		return
	}
	jobID, _, err := e.store.RunJob(ctx, runs[0].ID)
	if err != nil || jobID == 0 {
		return
	}
	// A wait of real time, not a time of day: a timer, not the clock.
	deadline := time.After(completionWait)
	for {
		job, err := e.q.get(ctx, jobID)
		if err != nil || job.State != rivertype.JobStateRunning {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
