package state

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// Worker is one wharf serve, worker or run process, as its heartbeat row in
// the state store shows it. Whether it is alive is decided by Alive alone.
type Worker struct {
	ID   string // unique per process; also its River client ID
	Host string
	PID  int
	Role string // serve | worker | run
	// StartedAt, HeartbeatAt and StoppedAt are UTC microseconds; StoppedAt
	// is zero while the process runs.
	StartedAt, HeartbeatAt, StoppedAt time.Time
	// DeadAfter is how long the process is trusted after each heartbeat:
	// its own --dead-after, recorded with every heartbeat (as the time
	// HeartbeatAt+DeadAfter), so that every reader judges it by its own
	// setting. 0 when heartbeating means DefaultDeadAfter.
	DeadAfter time.Duration
}

// DeadAt is when the process counts as dead unless it beats again.
func (w Worker) DeadAt() time.Time { return w.HeartbeatAt.Add(w.DeadAfter) }

// Alive is the one liveness rule: a process is alive while it has not
// stopped, its last heartbeat is within its own DeadAfter at now, and it
// is not known to be gone from this host (GoneHere). The stores apply the
// recorded part of the same rule in SQL (stopped_at IS NULL AND dead_at >=
// now) for OrphanRuns and AcquireLease; statetest checks that they agree.
func (w Worker) Alive(now time.Time) bool {
	return w.StoppedAt.IsZero() && !now.After(w.DeadAt()) && !w.GoneHere()
}

// Heartbeat defaults shared by every wharf process (serve, worker, run):
// a process records that it is alive every DefaultHeartbeatInterval and is
// trusted for DefaultDeadAfter after its last heartbeat.
const (
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultDeadAfter         = 45 * time.Second
)

// NewWorker describes this process for its heartbeat row: a unique ID
// (host-pid-random), the host name, the pid and role.
func NewWorker(role string) Worker {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown"
	}
	pid := os.Getpid()
	return Worker{ID: fmt.Sprintf("%s-%d-%s", host, pid, uuid.NewString()[:8]), Host: host, PID: pid, Role: role}
}

// GoneHere reports whether w ran on this host and its process no longer
// exists, so its heartbeat, however recent, speaks for nobody (a process
// killed with SIGKILL a moment ago).
func (w Worker) GoneHere() bool {
	host, err := os.Hostname()
	if err != nil || w.Host != host || w.PID <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(w.PID, 0), syscall.ESRCH)
}

// OrphanRun is a run still marked running whose worker is not alive
// (Worker.Alive): stopped, unknown, or silent past its own dead-after.
type OrphanRun struct {
	RunID, Workflow, WorkerID string
	JobID                     int64     // the River job; 0 = none recorded
	StartedAt                 time.Time // when the run started (UTC)
}

// ErrNotQueued is wrapped by MarkRunning errors when the run is not queued
// any more (it was cancelled, or another attempt took it): nothing changed.
var ErrNotQueued = errors.New("run is not queued")

// PrepareQueue checks r before it is recorded as queued (or as skipped when
// skipReason is not empty), and normalizes it in place: Status queued or
// skipped, a zero StartedAt becomes now, a skipped run finishes at
// StartedAt with Error = skipReason.
func (r *Run) PrepareQueue(now time.Time, skipReason string) error {
	if err := r.checkIdentity("queue"); err != nil {
		return err
	}
	if !slices.Contains(Triggers, r.Trigger) {
		return fmt.Errorf("queue run %s of workflow %s: trigger %q is not one of %s",
			r.ID, r.Workflow, r.Trigger, strings.Join(Triggers, ", "))
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	r.StartedAt = Time(r.StartedAt)
	r.FinishedAt = time.Time{}
	r.Status = StatusQueued
	r.Error = ""
	if skipReason != "" {
		r.Status = StatusSkipped
		r.FinishedAt = r.StartedAt
		r.Error = skipReason
	}
	return r.checkStats("queue")
}

// Check checks a heartbeat record and normalizes its times.
func (w *Worker) Check(now time.Time) error {
	if w.ID == "" || !storable(w.ID) || !storable(w.Host) || !storable(w.Role) {
		return fmt.Errorf("heartbeat of worker %q: ID, host and role must be non-empty valid UTF-8 without NUL", w.ID)
	}
	if w.StartedAt.IsZero() {
		w.StartedAt = now
	}
	w.StartedAt = Time(w.StartedAt)
	w.HeartbeatAt = Time(now)
	if w.DeadAfter < 0 {
		return fmt.Errorf("heartbeat of worker %s: negative dead-after %s", w.ID, w.DeadAfter)
	}
	if w.DeadAfter == 0 {
		w.DeadAfter = DefaultDeadAfter
	}
	w.DeadAfter = w.DeadAfter.Truncate(time.Microsecond)
	return nil
}

// NotQueued returns the error for a run that MarkRunning found in another
// status or workflow; it wraps ErrNotQueued.
func NotQueued(runID, wantWorkflow, gotWorkflow, status string) error {
	if gotWorkflow != wantWorkflow {
		return fmt.Errorf("mark run %s running: it belongs to workflow %s, not %s: %w", runID, gotWorkflow, wantWorkflow, ErrNotQueued)
	}
	return fmt.Errorf("mark run %s of workflow %s running: status is %s: %w", runID, wantWorkflow, status, ErrNotQueued)
}

// LastRuns is a workflow's newest run and its newest succeeded run; either
// is nil when there is none.
type LastRuns struct {
	Last, LastSucceeded *Run
}
