package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// landingWorker runs landing jobs: one attempt = one run.
type landingWorker struct {
	river.WorkerDefaults[LandingArgs]
	e *Engine
}

// Timeout is River's backstop; the run's own timeout (with a cause that
// names the setting) ends it a minute earlier.
func (w *landingWorker) Timeout(*river.Job[LandingArgs]) time.Duration {
	return w.e.cfg.RunTimeout + time.Minute
}

var errTimeout = errors.New("the run took longer than --run-timeout")

// Work lands one attempt of a landing job. The first attempt uses the run
// queued with the job; later attempts (retries, or after the process
// running it died) record a new run with trigger "retry".
func (w *landingWorker) Work(ctx context.Context, job *river.Job[LandingArgs]) error {
	e, a := w.e, job.Args
	log := e.log.With("workflow", a.Workflow, "job", job.ID, "attempt", job.Attempt)
	d, err := deploy.Get(ctx, e.store, a.Workflow)
	if err != nil {
		if errors.Is(err, state.ErrNotFound) {
			reason := fmt.Sprintf("workflow %s is not deployed any more", a.Workflow)
			e.endQueued(ctx, a, state.StatusFailed, reason)
			// River's error handler never sees a cancelled job: log it here.
			log.Error("run failed: it will not be retried", "run", a.RunID, "err", reason)
			return river.JobCancel(err)
		}
		return e.waitIfBusy(log, err)
	}

	run, err := e.store.Run(ctx, a.RunID)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return e.waitIfBusy(log, err)
	}
	if err != nil || run.Status != state.StatusQueued {
		// A later attempt: its own run.
		run = &state.Run{ID: newRunID(), Workflow: a.Workflow, Trigger: state.TriggerRetry}
	}

	// A run read in parallel takes a slot for each further stream
	// (blueprint.Lander.StreamSlots), or its chunk jobs do.
	releaseConn, err := e.connSlot(ctx, log, &d.Spec.Connection, strconv.FormatInt(job.ID, 10))
	if err != nil {
		return err
	}
	defer releaseConn()

	if run.Status == state.StatusQueued {
		if err := e.store.MarkRunning(ctx, run, e.self.ID); err != nil {
			if errors.Is(err, state.ErrNotQueued) {
				return river.JobCancel(err)
			}
			return e.waitIfBusy(log, err)
		}
	} else if err := e.store.StartJobRun(ctx, run, job.ID, e.self.ID); err != nil {
		return e.waitIfBusy(log, err)
	}

	// The run ends at --run-timeout, or when this process releases it.
	runCtx, cancel := context.WithTimeoutCause(ctx, e.cfg.RunTimeout, errTimeout)
	defer cancel()
	runCtx, cancelRun := context.WithCancelCause(runCtx)
	defer cancelRun(nil)
	stopRelease := context.AfterFunc(e.releaseCtx, func() { cancelRun(context.Cause(e.releaseCtx)) })
	defer stopRelease()

	log.Info("run started", "run", run.ID, "trigger", run.Trigger)
	wasLate := e.announcedLate(ctx, d)
	res, err := e.lander.LandRun(runCtx, &d.Spec, run)
	cause := context.Cause(runCtx)
	// final: River will not try this job again (a released run will).
	final := !errors.Is(cause, errReleased) && (err == nil || job.Attempt >= job.MaxAttempts || blueprint.Permanent(err))
	e.runEnded(ctx, &d.Spec, run, res, final, job.Attempt, job.MaxAttempts)
	e.recovered(ctx, d, run, wasLate)
	if err == nil {
		log.Info("run succeeded", "run", run.ID, "rows", res.Rows, "files", len(res.Files), "duration", res.Duration)
		return nil
	}
	switch {
	case errors.Is(cause, errReleased):
		log.Warn("run released", "run", run.ID)
		return river.JobSnooze(0)
	case errors.Is(cause, rivertype.ErrJobCancelledRemotely):
		log.Info("run cancelled", "run", run.ID)
		return err // River records the job cancelled
	}
	if blueprint.Permanent(err) {
		// Retrying cannot fix it: end the job now instead of attempts
		// times. River's error handler never sees a cancelled job, so the
		// failure is logged here.
		log.Error("run failed: it will not be retried (retrying cannot fix this error)", "run", run.ID, "err", err)
		return river.JobCancel(fmt.Errorf("run %s (not retried): %w", run.ID, err))
	}
	// River's error handler logs it (jobErrors), with the workflow and
	// attempt.
	return fmt.Errorf("run %s: %w", run.ID, err)
}

// connSlot takes a slot of conn's cap for holder (Connection.StreamCap:
// its max_parallel or --per-connection), or says to wait as takeSlot does;
// a connection without a cap needs none.
func (e *Engine) connSlot(ctx context.Context, log *slog.Logger, conn *catalog.Connection, holder string) (func(), error) {
	limit := conn.StreamCap(e.cfg.PerConnection)
	if limit == 0 {
		return func() {}, nil
	}
	return e.takeSlot(ctx, log, conn.Name, limit, holder)
}

// takeSlot takes one of limit slots of key (a connection, or a run's
// streams: state.Fleet.AcquireLease) for holder, a job on this process,
// and returns its release. When none is free the job waits about
// LeaseWait (with jitter) and tries again, its attempts untouched: the
// error returned is that snooze, or the state's.
func (e *Engine) takeSlot(ctx context.Context, log *slog.Logger, key string, limit int, holder string) (func(), error) {
	ok, err := e.store.AcquireLease(ctx, key, limit, holder, e.self.ID, e.now())
	if err != nil {
		return nil, e.waitIfBusy(log, err)
	}
	if !ok {
		wait := e.cfg.LeaseWait + time.Duration(rand.Int64N(int64(e.cfg.LeaseWait)))
		log.Debug("no free slot: waiting", "slot", key, "limit", limit, "wait", wait)
		return nil, river.JobSnooze(wait)
	}
	return func() {
		if err := e.store.ReleaseLease(context.WithoutCancel(ctx), key, holder); err != nil {
			log.Warn("release slot", "slot", key, "err", err)
		}
	}, nil
}

// waitIfBusy is the error of a job whose state store call failed (a
// landing job's: before its run started). A busy state database
// (state.ErrBusy) is no failed attempt: the job waits a moment (LeaseWait,
// with jitter) and tries again with its attempts untouched (River does not
// count a snooze).
func (e *Engine) waitIfBusy(log *slog.Logger, err error) error {
	if !errors.Is(err, state.ErrBusy) {
		return err
	}
	wait := e.cfg.LeaseWait + time.Duration(rand.Int64N(int64(e.cfg.LeaseWait)))
	log.Warn("state database busy: the job tries again shortly, its attempts untouched", "wait", wait, "err", err)
	return river.JobSnooze(wait)
}

// endQueued ends a job's queued run without running it.
func (e *Engine) endQueued(ctx context.Context, a LandingArgs, status state.RunStatus, reason string) {
	r, err := e.store.Run(ctx, a.RunID)
	if err != nil || r.Status != state.StatusQueued {
		return
	}
	r.Status, r.Error = status, reason
	if err := e.store.FinishRun(ctx, r); err != nil {
		e.log.Warn("end queued run", "run", a.RunID, "err", err)
	}
}
