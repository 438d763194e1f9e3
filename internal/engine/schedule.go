package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/state"
)

// scheduled reports whether a deployed workflow fires on a schedule.
func scheduled(d *deploy.Workflow) bool {
	s := d.Spec.Workflow.Schedule
	return d.Enabled && s.Kind != catalog.OnDemand && s.Kind != ""
}

// The scheduler.
//
// Every workflow's next fire time is recorded in the state (next_fire_at).
// River's leader fires one clock tick per Resolution (a minute: every
// schedule wharf reads fires on whole minutes), whatever the number of
// workflows, inserted a little ahead (tickLead) so that a worker holds it
// at its fire time even without notifications (SQLite); the tick queues the runs of every workflow whose recorded next
// fire time has come, in batches of tickBatch, each batch one transaction
// that claims the fire times (a conditional update, so no fire time is
// taken twice), inserts the landing jobs (InsertMany) and records the runs.
// A tick that fails part-way is retried and continues where it stopped;
// the next tick of the same leader also takes whatever an earlier one
// left. When a process becomes leader, one catch-up tick handles the fire
// times before that moment which no pending tick covers: those that passed
// while no leader ran (see TickArgs).

// tickBatch is how many runs one transaction of a tick queues.
const tickBatch = 100

// tickPoll is how often idle tick workers look for ticks: River's
// fallback when nothing notifies them, which on SQLite is always.
const tickPoll = 5 * time.Second

// tickLead is how long before its fire time a tick is inserted: a poll
// interval and a margin, so that a worker has fetched it by the fire time
// without any notification (SQLite has none). The worker waits for the fire
// time, then queues the runs: they start within about a landing poll
// interval of their fire time.
const tickLead = tickPoll + time.Second

// clock is the scheduler's periodic schedule: a tick per Resolution,
// inserted tickLead early. River calls Next for the first tick of a
// leadership term (with the current time) and then after each tick (with
// the previous one's time), and calls the job constructor in between, so
// the last fire time Next computed is the fire time of the tick being built.
type clock struct {
	every time.Duration

	mu    sync.Mutex
	last  time.Time // fire time of the latest tick scheduled
	since time.Time // when this process last became leader
}

// Next implements river.PeriodicSchedule.
func (c *clock) Next(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.After(t) {
		t = c.last // ticks up to c.last are in already
	}
	c.last = t.UTC().Truncate(c.every).Add(c.every)
	return c.last.Add(-tickLead)
}

// tick is the clock tick being built.
func (c *clock) tick() TickArgs {
	c.mu.Lock()
	defer c.mu.Unlock()
	return TickArgs{FireAt: c.last, From: c.since}
}

// lead starts a leadership term at now and returns its catch-up tick.
func (c *clock) lead(now time.Time) TickArgs {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.since = now
	return TickArgs{FireAt: now, CatchUp: true}
}

// never is the schedule of the catch-up job: it runs when this process
// becomes leader (RunOnStart, before the clock's first tick) and never
// again.
type never struct{}

func (never) Next(time.Time) time.Time { return time.Time{} }

// periodicJobs are the scheduler's two River periodic jobs: the clock, and
// the catch-up tick of each leadership term.
func (e *Engine) periodicJobs() []*river.PeriodicJob {
	c := &clock{every: e.cfg.Resolution}
	return []*river.PeriodicJob{
		river.NewPeriodicJob(c, func() (river.JobArgs, *river.InsertOpts) {
			return c.tick(), tickOpts()
		}, nil),
		river.NewPeriodicJob(never{}, func() (river.JobArgs, *river.InsertOpts) {
			return c.lead(e.now()), tickOpts()
		}, &river.PeriodicJobOpts{RunOnStart: true}),
	}
}

// syncLoop keeps the recorded next fire times in line with the deployed
// schedules; it reads the deployed workflows only when a deploy changed them.
func (e *Engine) syncLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := e.syncSchedules(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("sync schedules", "err", err)
			}
		}
	}
}

// syncSchedules, after a deploy, records a next fire time for each
// scheduled workflow that has none or one its schedule would not fire at
// (the schedule changed), and clears it for workflows that are disabled or
// on demand, all in one transaction. It returns how many workflows are
// scheduled.
func (e *Engine) syncSchedules(ctx context.Context) (int, error) {
	return e.schedules.get(ctx, e.store, func(all iter.Seq2[*deploy.Workflow, error]) (int, error) {
		now := e.now()
		var claims []state.FireClaim
		n := 0
		for d, err := range all {
			if err != nil {
				return 0, err
			}
			c := state.FireClaim{Workflow: d.Name, Expect: d.NextFireAt, Last: d.LastFireAt}
			switch {
			case !scheduled(d):
				if d.NextFireAt.IsZero() {
					continue
				}
			case d.NextFireAt.IsZero() || !d.Spec.Workflow.Schedule.IsFireTime(d.NextFireAt):
				n++
				c.Next = d.Spec.Workflow.Schedule.Next(now)
			default:
				n++
				continue
			}
			claims = append(claims, c)
		}
		if len(claims) > 0 {
			// A claim that lost to a tick changed nothing: that tick set the
			// fire times from the same deployed spec.
			if _, err := e.store.ClaimFires(ctx, claims); err != nil {
				return 0, err
			}
		}
		return n, nil
	})
}

// tickWorker runs the scheduler's ticks.
type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	e *Engine
}

// NextRetry retries a failed tick soon: runs are waiting for it.
func (w *tickWorker) NextRetry(job *river.Job[TickArgs]) time.Time {
	return w.e.now().Add((&backoff{base: time.Second, max: 30 * time.Second}).delay(job.Attempt))
}

// Work queues the runs of the workflows due by the tick's fire time (for a
// catch-up tick: those whose fire time no pending tick covers).
func (w *tickWorker) Work(ctx context.Context, job *river.Job[TickArgs]) error {
	return w.e.waitIfBusy(w.e.log.With("kind", KindTick, "job", job.ID, "fire_at", job.Args.FireAt), w.work(ctx, job))
}

func (w *tickWorker) work(ctx context.Context, job *river.Job[TickArgs]) error {
	e, a := w.e, job.Args
	if wait := a.FireAt.Sub(e.now()); wait > 0 {
		select {
		case <-time.After(wait):
		case <-e.stopping.Done():
			return river.JobSnooze(wait) // for whoever runs next
		}
	}
	due, err := deploy.DecodeAll(e.store.DueWorkflows(ctx, a.FireAt))
	if err != nil {
		return err
	}
	due = slices.DeleteFunc(due, func(d deploy.Workflow) bool { return !a.covers(d.NextFireAt) })
	catchUpNone := false
	if a.CatchUp {
		if due, err = e.missed(ctx, job.ID, due); err != nil {
			return err
		}
		if len(due) > 0 {
			catchUpNone = e.cfg.CatchUp == CatchUpNone
			e.log.Info("schedule ticks missed while no scheduler ran", "workflows", len(due),
				"policy", e.cfg.CatchUp, "oldest", due[0].NextFireAt)
		}
	}
	if len(due) == 0 {
		return nil
	}
	if !catchUpNone {
		e.awaitRunning(ctx, due)
	}
	from := a.FireAt
	if now := e.now(); now.After(from) {
		from = now
	}
	var queued, skipped, taken int
	for len(due) > 0 {
		if e.stopping.Err() != nil {
			// The rest is left to the next attempt (here or elsewhere).
			return river.JobSnooze(0)
		}
		batch := due[:min(tickBatch, len(due))]
		due = due[len(batch):]
		claims := make([]state.FireClaim, len(batch))
		runs := make([]*state.Run, len(batch))
		tries := make(map[string]int, len(batch))
		for i := range batch {
			d := &batch[i]
			tries[d.Name] = d.Spec.Workflow.Tries()
			claims[i] = state.FireClaim{Workflow: d.Name, Expect: d.NextFireAt, Last: a.FireAt}
			if !scheduled(d) {
				continue // no fire time any more
			}
			claims[i].Next = d.Spec.Workflow.Schedule.Next(from)
			if !catchUpNone {
				runs[i] = &state.Run{ID: newRunID(), Workflow: d.Name, Trigger: state.TriggerSchedule}
			}
		}
		took, err := e.q.queueScheduled(ctx, claims, runs, tries)
		if err != nil {
			return err
		}
		for i, ok := range took {
			if !ok {
				continue
			}
			taken++
			r := runs[i]
			switch {
			case r == nil:
			case r.Status == state.StatusSkipped:
				skipped++
				e.log.Info("schedule tick skipped", "workflow", r.Workflow, "fire_at", batch[i].NextFireAt, "run", r.ID, "reason", r.Error)
			default:
				queued++
				e.log.Debug("scheduled run queued", "workflow", r.Workflow, "fire_at", batch[i].NextFireAt, "run", r.ID)
			}
		}
	}
	e.log.Info("schedule tick", "fire_at", a.FireAt, "catch_up", a.CatchUp, "due", taken, "queued", queued, "skipped", skipped)
	return nil
}

// missed keeps the due workflows whose recorded next fire time no pending
// tick (other than tick self) covers: fire times never enqueued, because no
// leader ran then. A fire time whose tick is queued but not yet worked (a
// backlog, or a leader that stopped before working it) is not missed.
func (e *Engine) missed(ctx context.Context, self int64, due []deploy.Workflow) ([]deploy.Workflow, error) {
	pending, err := e.q.pendingTicks(ctx, self)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(due, func(d deploy.Workflow) bool {
		return slices.ContainsFunc(pending, func(p TickArgs) bool { return p.covers(d.NextFireAt) })
	}), nil
}

// awaitRunning gives the due workflows whose last run just ended the moment
// River takes to mark its job complete (see awaitCompletion), so their
// tick is not skipped as overlapping. Only workflows with a running landing
// job are looked at: one query for the whole tick.
func (e *Engine) awaitRunning(ctx context.Context, due []deploy.Workflow) {
	running, err := e.q.runningWorkflows(ctx)
	if err != nil || len(running) == 0 {
		return
	}
	for i := range due {
		if running[due[i].Name] {
			e.awaitCompletion(ctx, due[i].Name)
		}
	}
}

// skipReason says why a landing job was not inserted: the workflow's active
// job (res.Job) is in the way.
func skipReason(workflow string, res *rivertype.JobInsertResult) string {
	var active LandingArgs
	if res.Job != nil && json.Unmarshal(res.Job.EncodedArgs, &active) == nil && active.RunID != "" {
		return fmt.Sprintf("workflow %s is already queued or running (run %s)", workflow, active.RunID)
	}
	return fmt.Sprintf("workflow %s is already queued or running", workflow)
}
