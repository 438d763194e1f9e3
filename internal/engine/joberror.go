package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// jobErrors is River's ErrorHandler: every job error River records is
// logged here, at WARN while attempts are left and at ERROR for the last
// one (River itself logs them at INFO, which wharf shows as DEBUG). A job
// that fails its last attempt also leaves a failed run, so `wharf status`
// shows it.
type jobErrors struct{ e *Engine }

// HandleError implements river.ErrorHandler.
func (h jobErrors) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	h.e.jobFailed(ctx, job, err.Error())
	return nil
}

// HandlePanic implements river.ErrorHandler.
func (h jobErrors) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	h.e.log.Debug("job panic trace", "job", job.ID, "trace", trace)
	h.e.jobFailed(ctx, job, fmt.Sprintf("panic: %v", v))
	return nil
}

// jobArgs is what a log line needs from either job kind's arguments.
type jobArgs struct {
	Workflow string    `json:"workflow"`
	RunID    string    `json:"run_id"`
	Trigger  string    `json:"trigger"`
	FireAt   time.Time `json:"fire_at"`
}

func (e *Engine) jobFailed(ctx context.Context, job *rivertype.JobRow, msg string) {
	var a jobArgs
	_ = json.Unmarshal(job.EncodedArgs, &a)
	attrs := []any{"kind", job.Kind, "job", job.ID, "attempt", job.Attempt, "max_attempts", job.MaxAttempts, "err", msg}
	if a.Workflow != "" {
		attrs = append(attrs, "workflow", a.Workflow)
	}
	if !a.FireAt.IsZero() {
		attrs = append(attrs, "fire_at", a.FireAt)
	}
	if job.Attempt < job.MaxAttempts {
		e.log.Warn("job attempt failed: it will be retried", attrs...)
		return
	}
	e.log.Error("job failed its last attempt: it will not be retried", attrs...)
	ctx = context.WithoutCancel(ctx)
	reason := fmt.Sprintf("%s job %d failed all %d attempts: %s", job.Kind, job.ID, job.MaxAttempts, msg)
	switch job.Kind {
	case KindLanding:
		// A run still queued never started: it ends failed here.
		e.endQueued(ctx, LandingArgs{Workflow: a.Workflow, RunID: a.RunID, Trigger: a.Trigger}, state.StatusFailed, reason)
	case KindTick:
		e.tickFailed(ctx, a.FireAt, reason)
	}
}

// tickFailed records a failed scheduled run for each workflow a tick that
// ran out of attempts left due (the next tick queues them, if it can).
func (e *Engine) tickFailed(ctx context.Context, at time.Time, reason string) {
	due, err := deploy.DecodeAll(e.store.DueWorkflows(ctx, at))
	if err != nil {
		e.log.Error("record the workflows of a failed schedule tick", "fire_at", at, "err", err)
		return
	}
	for i := range due {
		if !scheduled(&due[i]) {
			continue
		}
		r := &state.Run{ID: newRunID(), Workflow: due[i].Name, Trigger: state.TriggerSchedule}
		err := e.store.StartRun(ctx, r)
		if err == nil {
			r.Status, r.Error = state.StatusFailed, reason+" (the next tick queues it again)"
			err = e.store.FinishRun(ctx, r)
		}
		if err != nil {
			e.log.Error("record the workflows of a failed schedule tick", "fire_at", at, "workflow", due[i].Name, "err", err)
			return
		}
	}
}
