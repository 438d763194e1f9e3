package engine

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
)

// NextFire returns when schedule s fires next strictly after t, in UTC; the
// zero time when it never does (on demand, or a cron pattern with no
// future match). Cron patterns use catalog.Schedule.Next (AWS or standard
// dialect, in the schedule's time zone). A rate(N unit) fires at the
// multiples of its period counted from 0001-01-01 00:00 UTC (rate(15
// minutes) at :00, :15, :30, :45; rate(1 day) at 00:00 UTC), so every
// process of a fleet, and every restart, computes the same fire times.
func NextFire(s catalog.Schedule, t time.Time) time.Time {
	switch s.Kind {
	case catalog.Rate:
		if s.Every <= 0 {
			return time.Time{}
		}
		return t.UTC().Truncate(s.Every).Add(s.Every)
	case catalog.Cron:
		n := s.Next(t)
		if n.IsZero() {
			return n
		}
		return n.UTC()
	}
	return time.Time{}
}

// isFireTime reports whether t is one of s's fire times.
func isFireTime(s catalog.Schedule, t time.Time) bool {
	return !t.IsZero() && NextFire(s, t.Add(-time.Microsecond)).Equal(t)
}

// periodicSchedule adapts a workflow's schedule to River's
// PeriodicSchedule. River calls Next for the first fire time and then after
// each tick, and calls the job constructor in between, so the last value
// Next returned is the fire time of the tick being built.
type periodicSchedule struct {
	sched    catalog.Schedule
	workflow string

	mu   sync.Mutex
	next time.Time
}

// Next implements river.PeriodicSchedule.
func (p *periodicSchedule) Next(t time.Time) time.Time {
	n := NextFire(p.sched, t)
	p.mu.Lock()
	p.next = n
	p.mu.Unlock()
	return n
}

func (p *periodicSchedule) construct() (river.JobArgs, *river.InsertOpts) {
	p.mu.Lock()
	at := p.next
	p.mu.Unlock()
	if at.IsZero() {
		return nil, nil
	}
	return TickArgs{Workflow: p.workflow, FireAt: at}, tickOpts()
}

// scheduled is a workflow's periodic job in this process's River client.
type scheduled struct {
	hash   string
	handle rivertype.PeriodicJobHandle
	next   time.Time // the next fire time the state had at the last read
}

func (e *Engine) scheduleCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.schedules)
}

// syncLoop re-reads the deployed workflows every SyncInterval.
func (e *Engine) syncLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := e.syncSchedules(ctx); err != nil && ctx.Err() == nil {
				e.log.Warn("sync schedules", "err", err)
			}
		}
	}
}

// catchUpGrace is how late a fire time may be before it counts as missed:
// the leader's tick for it is still on its way.
const catchUpGrace = 30 * time.Second

// syncSchedules makes this process's periodic jobs match the enabled,
// scheduled deployed workflows (adding new ones, replacing those whose spec
// changed, removing the others), keeps each workflow's next fire time in the
// state, and catches up fire times missed while no scheduler ran.
//
// To stay cheap when idle it reads every deployed workflow only when a
// deploy changed them (DeployedVersion) or when a known next fire time is
// past its grace.
func (e *Engine) syncSchedules(ctx context.Context) error {
	now := time.Now().UTC()
	version, err := e.fleet.DeployedVersion(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	due := version != e.syncedVersion
	for _, sc := range e.schedules {
		if !due && !sc.next.IsZero() && sc.next.Before(now.Add(-catchUpGrace)) {
			due = true
		}
	}
	e.mu.Unlock()
	if !due {
		return nil
	}
	ds, err := e.store.DeployedWorkflows(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	var add []*river.PeriodicJob
	var addNames []string
	var addHashes []string
	e.mu.Lock()
	for i := range ds {
		d := &ds[i]
		s := d.Spec.Workflow.Schedule
		if !d.Enabled || s.Kind == catalog.OnDemand || s.Kind == "" {
			continue
		}
		want[d.Name] = true
		if cur, ok := e.schedules[d.Name]; ok && cur.hash == d.SpecHash {
			continue
		} else if ok {
			e.q.periodic().Remove(cur.handle)
			delete(e.schedules, d.Name)
		}
		ps := &periodicSchedule{sched: s, workflow: d.Name}
		add = append(add, river.NewPeriodicJob(ps, ps.construct, nil))
		addNames = append(addNames, d.Name)
		addHashes = append(addHashes, d.SpecHash)
	}
	for name, cur := range e.schedules {
		if !want[name] {
			e.q.periodic().Remove(cur.handle)
			delete(e.schedules, name)
		}
	}
	if len(add) > 0 {
		handles, err := e.q.periodic().AddManySafely(add)
		if err != nil {
			e.mu.Unlock()
			return err
		}
		for i, h := range handles {
			e.schedules[addNames[i]] = &scheduled{hash: addHashes[i], handle: h}
		}
	}
	e.syncedVersion = version
	e.mu.Unlock()

	for i := range ds {
		d := &ds[i]
		if !want[d.Name] {
			continue
		}
		next, err := e.keepFireTimes(ctx, d, now)
		if err != nil {
			e.log.Warn("schedule bookkeeping", "workflow", d.Name, "err", err)
			continue
		}
		e.mu.Lock()
		if sc := e.schedules[d.Name]; sc != nil {
			sc.next = next
		}
		e.mu.Unlock()
	}
	return nil
}

// keepFireTimes records a workflow's next fire time when it has none (or
// one its current schedule would not fire at: the schedule changed), and
// handles a next fire time that passed without a tick: with CatchUpOne it
// inserts one catch-up tick for it, with CatchUpNone it moves on. It
// returns the next fire time as the state now has it.
func (e *Engine) keepFireTimes(ctx context.Context, d *state.Deployed, now time.Time) (time.Time, error) {
	s := d.Spec.Workflow.Schedule
	next := d.NextFireAt
	switch {
	case next.IsZero() || !isFireTime(s, next):
		next = NextFire(s, now)
		return next, e.setFireTimes(ctx, d.Name, d.LastFireAt, next)
	case next.After(now.Add(-catchUpGrace)):
		return next, nil // on time, or its tick is on its way
	}
	if e.cfg.CatchUp == CatchUpNone {
		e.log.Info("missed schedule ticks skipped (--catch-up=none)", "workflow", d.Name, "missed", next)
		next = NextFire(s, now)
		return next, e.setFireTimes(ctx, d.Name, d.LastFireAt, next)
	}
	res, err := e.q.insert(ctx, TickArgs{Workflow: d.Name, FireAt: next, CatchUp: true}, tickOpts())
	if err != nil {
		return next, err
	}
	if !res.UniqueSkippedAsDuplicate {
		e.log.Info("catching up a missed schedule tick", "workflow", d.Name, "missed", next)
	}
	return next, nil
}

func (e *Engine) setFireTimes(ctx context.Context, name string, last, next time.Time) error {
	err := e.store.SetFireTimes(ctx, name, last, next)
	if errors.Is(err, state.ErrNotFound) {
		return nil // deleted meanwhile
	}
	return err
}

// tickWorker runs schedule ticks: queue a scheduled run (or record it
// skipped when the workflow is still running) and move the fire times on.
type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	e *Engine
}

// Work handles one tick.
func (w *tickWorker) Work(ctx context.Context, job *river.Job[TickArgs]) error {
	e, a := w.e, job.Args
	d, err := e.store.DeployedWorkflow(ctx, a.Workflow)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s := d.Spec.Workflow.Schedule
	if !d.Enabled || s.Kind == catalog.OnDemand || s.Kind == "" {
		return nil
	}
	// A tick already handled (its fire time is not after the last one) is
	// not run twice.
	if d.LastFireAt.IsZero() || a.FireAt.After(d.LastFireAt) {
		run, skip, err := e.enqueue(ctx, d, state.TriggerSchedule, e.cfg.Attempts)
		if err != nil {
			return err
		}
		if skip != "" {
			e.log.Info("schedule tick skipped", "workflow", d.Name, "fire_at", a.FireAt, "run", run.ID, "reason", skip)
		} else {
			e.log.Info("scheduled run queued", "workflow", d.Name, "fire_at", a.FireAt, "run", run.ID, "catch_up", a.CatchUp)
		}
	}
	last := a.FireAt
	if d.LastFireAt.After(last) {
		last = d.LastFireAt
	}
	from := a.FireAt
	if now := time.Now().UTC(); now.After(from) {
		from = now
	}
	return e.setFireTimes(ctx, d.Name, last, NextFire(s, from))
}
