package blueprint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake"
	"github.com/wharf-data/wharf/internal/secret"
	"github.com/wharf-data/wharf/internal/state"
)

// LandRun runs the landing blueprint for run, which the caller has already
// recorded as running (the engine queues runs before a worker starts them,
// so that `wharf trigger` can print their IDs). Like Land, the returned
// Result always names the workflow and its Err is set when it failed; the
// run ends succeeded, failed, or cancelled when ctx was cancelled (its
// error then names the cancellation's cause).
func (l *Lander) LandRun(ctx context.Context, job *catalog.Resolved, run *state.Run) (*Result, error) {
	wf := &job.Workflow
	if run.Workflow != wf.Name {
		return nil, fmt.Errorf("land run %s: it belongs to workflow %s, not %s", run.ID, run.Workflow, wf.Name)
	}
	start := run.StartedAt
	if start.IsZero() {
		start = l.now().UTC().Truncate(time.Microsecond)
		run.StartedAt = start
	}
	res := &Result{Workflow: wf.Name, RunID: run.ID, Started: start, Status: state.StatusFailed}
	err := l.runStarted(ctx, job, run, res)
	res.Duration = l.now().Sub(start)
	if err != nil {
		res.Err = fmt.Errorf("workflow %s: %w", wf.Name, err)
		if errors.Is(err, ErrAlreadyRunning) {
			res.Status = state.StatusSkipped
		}
		return res, res.Err
	}
	res.Status = state.StatusSucceeded
	if res.manifestErr != nil {
		res.Status, res.Err = state.StatusFailed, fmt.Errorf("workflow %s: %w", wf.Name, res.manifestErr)
		return res, res.Err
	}
	return res, nil
}

// runStarted executes a run already recorded as running and records its
// end when it fails.
func (l *Lander) runStarted(ctx context.Context, job *catalog.Resolved, run *state.Run, res *Result) error {
	err := l.execute(ctx, job, run, res)
	if err != nil {
		run.Status = state.StatusFailed
		switch {
		case errors.Is(err, context.Canceled):
			run.Status = state.StatusCancelled
		case errors.Is(err, ErrAlreadyRunning):
			run.Status = state.StatusSkipped
		}
		run.FinishedAt = l.now().UTC()
		run.Rows, run.Bytes, run.Files = 0, 0, 0
		msg := err.Error()
		// Say why the context ended when its cause says more than
		// "context canceled" (e.g. wharf cancel, a shutdown, a timeout).
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
				msg += " (" + cause.Error() + ")"
			}
		}
		run.Error = secret.RedactString(msg)
		// The run's context may be cancelled; record the end regardless.
		if ferr := l.State.FinishRun(context.WithoutCancel(ctx), run); ferr != nil {
			l.logger().Error("record run failure", "workflow", job.Workflow.Name, "run", run.ID, "err", ferr)
		}
	}
	return err
}

// Abandon ends a run that will never finish (its process died): it removes
// the files the run left in the lake, then records it failed with reason.
// It needs no source: the run recorded where it writes (Run.LakePrefix).
// It wraps state.ErrNotRunning when the run already ended.
func (l *Lander) Abandon(ctx context.Context, job *catalog.Resolved, runID, reason string) error {
	wf := &job.Workflow
	run, err := l.State.Run(ctx, runID)
	if err != nil {
		return err
	}
	if run.Status != state.StatusRunning {
		return fmt.Errorf("abandon run %s of workflow %s: status is %s: %w", runID, wf.Name, run.Status, state.ErrNotRunning)
	}
	lk, err := l.lakes.open(ctx, &job.Lake, l.Secrets)
	if err != nil {
		return err
	}
	// A run that recorded no prefix wrote nothing; only a run started by a
	// wharf older than the lake_prefix column needs its source to say
	// where it wrote.
	var legacy string
	if run.LakePrefix == "" {
		if legacy, err = l.legacyPrefix(ctx, job); err != nil {
			return err
		}
	}
	path, err := runPath(lk, run, legacy)
	if err != nil {
		return err
	}
	n, err := lk.DeleteRunFiles(ctx, path, runID)
	if err != nil {
		return fmt.Errorf("remove files of run %s: %w", runID, err)
	}
	run.Status = state.StatusFailed
	run.FinishedAt = l.now().UTC()
	run.Rows, run.Bytes, run.Files = 0, 0, 0
	run.Error = secret.RedactString(fmt.Sprintf("abandoned: %s; %d leftover file(s) removed", reason, n))
	return l.State.FinishRun(ctx, run)
}

// legacyPrefix is where a run of job writes, learned from its source: only
// for runs recorded before runs kept their lake prefix.
func (l *Lander) legacyPrefix(ctx context.Context, job *catalog.Resolved) (string, error) {
	open := l.OpenSource
	if open == nil {
		open = OpenSource
	}
	src, err := open(ctx, &job.Connection, l.Secrets)
	if err != nil {
		return "", fmt.Errorf("connection %s: %w", job.Connection.Name, err)
	}
	defer src.Close()
	ref, err := catalog.ParseTableRef(job.Workflow.Table)
	if err != nil {
		return "", err
	}
	return lakePrefix(src.Database(), ref), nil
}

// lakeLocation is what a run records as its lake prefix: the lake's URL
// (credentials redacted) and the path prefix under it.
func lakeLocation(lk *lake.Lake, prefix string) string { return lk.URL() + "/" + prefix }

// runPath is the path prefix under lk where run wrote: from its recorded
// lake prefix, or fallback when it recorded none. A run that wrote into
// another lake (the workflow's lake changed since) is an error naming both.
func runPath(lk *lake.Lake, run *state.Run, fallback string) (string, error) {
	if run.LakePrefix == "" {
		return fallback, nil
	}
	path, ok := strings.CutPrefix(run.LakePrefix, lk.URL()+"/")
	if !ok || path == "" {
		return "", fmt.Errorf("run %s of workflow %s wrote under %s, which is not in the workflow's lake %s now: remove its files (part-%s-*) there by hand",
			run.ID, run.Workflow, run.LakePrefix, lk.URL(), run.ID)
	}
	return path, nil
}
