package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// heartbeatLoop records this process's heartbeat every HeartbeatInterval
// and, on the same beat, hands the runs of dead processes to others.
func (e *Engine) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.store.Heartbeat(ctx, &e.self); err != nil && ctx.Err() == nil {
				e.log.Warn("heartbeat", "err", err)
			}
			if err := e.Reap(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("take over runs of dead processes", "err", err)
			}
		}
	}
}

// forgetAfter is how long rows of stopped or dead processes are kept.
const forgetAfter = 24 * time.Hour

// Reap finds runs still marked running on a process that is not alive
// (state.Worker.Alive: stopped, or silent past its own dead-after), and makes their River jobs available again at
// once (discarded when out of attempts), instead of after River's
// RescueStuckJobsAfter. The next attempt removes the dead run's files and
// records it failed before it lands (blueprint's stale-run cleanup); a run
// whose job will not run again is abandoned here the same way. The
// connection and run slots dead processes held are freed.
func (e *Engine) Reap(ctx context.Context) error {
	orphans, err := e.store.OrphanRuns(ctx, e.now())
	if err != nil {
		return err
	}
	var errs []error
	for _, o := range orphans {
		if err := e.reapOne(ctx, o); err != nil {
			errs = append(errs, fmt.Errorf("run %s of workflow %s: %w", o.RunID, o.Workflow, err))
		}
	}
	if err := e.rescueChunks(ctx); err != nil {
		errs = append(errs, err)
	}
	// Slots are otherwise freed only when their key is taken again, and a
	// run's own key (run/<id>, its chunk jobs' slots) never is.
	if _, err := e.store.FreeDeadLeases(ctx, e.now()); err != nil {
		errs = append(errs, err)
	}
	if _, err := e.store.ForgetWorkers(ctx, e.now().Add(-forgetAfter)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rescueChunks makes the chunk jobs a dead process was running available
// again at once (discarded when out of attempts), as Reap does for runs:
// another process reads the chunk (its claim succeeds, the chunk's
// process being dead) instead of waiting for River's
// RescueStuckJobsAfter. The run's own stream would take the chunk over
// too; this lets the fleet do it.
func (e *Engine) rescueChunks(ctx context.Context) error {
	jobs, err := e.q.list(ctx, river.NewJobListParams().Kinds(KindChunk).States(rivertype.JobStateRunning).First(10_000))
	if err != nil || len(jobs) == 0 {
		return err
	}
	ws, err := e.store.Workers(ctx)
	if err != nil {
		return err
	}
	// A chunk is claimed again once its process is past its recorded
	// dead-after (state.Chunks.ClaimChunk): rescuing a job sooner (a
	// process seen gone on this host: Worker.Alive) would only find the
	// chunk still in hand.
	now := e.now()
	alive := map[string]bool{}
	for _, w := range ws {
		alive[w.ID] = w.StoppedAt.IsZero() && !now.After(w.DeadAt())
	}
	var errs []error
	for _, job := range jobs {
		if len(job.AttemptedBy) == 0 || job.AttemptedAt == nil {
			continue
		}
		worker := job.AttemptedBy[len(job.AttemptedBy)-1]
		if alive[worker] {
			continue
		}
		reason := deadReason(worker)
		// Only the attempt the dead process started: never a newer one.
		if err := e.q.rescue(ctx, job, now, job.AttemptedAt.Add(time.Microsecond), reason); err != nil {
			errs = append(errs, err)
			continue
		}
		e.log.Warn("took over the chunk of a dead process", "job", job.ID, "dead_worker", worker)
	}
	return errors.Join(errs...)
}

// deadReason is why the job or run of dead process worker was taken over
// (River's rescue, the abandoned run's error).
func deadReason(worker string) string {
	return fmt.Sprintf("wharf process %s stopped or has been silent past its dead-after", worker)
}

func (e *Engine) reapOne(ctx context.Context, o state.OrphanRun) error {
	reason := deadReason(o.WorkerID)
	if o.JobID != 0 {
		job, err := e.q.get(ctx, o.JobID)
		if err != nil && !errors.Is(err, rivertype.ErrNotFound) {
			return err
		}
		if job != nil && job.State == rivertype.JobStateRunning && len(job.AttemptedBy) > 0 &&
			job.AttemptedBy[len(job.AttemptedBy)-1] == o.WorkerID {
			// Only the attempt the dead run belongs to (started before the
			// run did) is rescued: never a newer attempt elsewhere.
			if err := e.q.rescue(ctx, job, e.now(), o.StartedAt, reason); err != nil {
				return err
			}
			e.log.Warn("took over the run of a dead process", "workflow", o.Workflow, "run", o.RunID,
				"job", job.ID, "dead_worker", o.WorkerID, "attempts_left", job.MaxAttempts-job.Attempt)
			if job.Attempt < job.MaxAttempts {
				return nil // the next attempt cleans up the dead run
			}
		} else if job != nil && !finalJobState(job.State) {
			return nil // another attempt is on its way; it cleans up
		}
	}
	// No attempt will follow: abandon the run here.
	d, err := deploy.Get(ctx, e.store, o.Workflow)
	if errors.Is(err, state.ErrNotFound) {
		// A foreground wharf run of a workflow that is not deployed: the
		// next run of that workflow removes what it left (the process is
		// dead, so the run is a leftover to it).
		return nil
	}
	if err != nil {
		return err
	}
	err = e.lander.Abandon(ctx, &d.Spec, o.RunID, reason)
	if errors.Is(err, state.ErrNotRunning) {
		return nil
	}
	return err
}

func finalJobState(s rivertype.JobState) bool {
	switch s {
	case rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded:
		return true
	}
	return false
}
