package engine

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// River job kinds and queues.
const (
	KindLanding  = "wharf_landing"
	KindTick     = "wharf_tick"
	QueueLanding = "wharf_landing"
	QueueTick    = "wharf_tick"
)

// LandingArgs is one landing job: run workflow now, recording the run as
// RunID (queued before the job starts). Jobs are unique by workflow over
// River's non-final states, so a workflow never runs twice at once.
type LandingArgs struct {
	Workflow string `json:"workflow" river:"unique"`
	RunID    string `json:"run_id"`
	Trigger  string `json:"trigger"`
}

// Kind is the River job kind.
func (LandingArgs) Kind() string { return KindLanding }

// activeStates are the River states in which a landing job counts as
// active: one per workflow at most.
var activeStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

func landingOpts(attempts int) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueLanding,
		MaxAttempts: attempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: activeStates},
	}
}

// TickArgs is one schedule tick of a workflow: it queues a scheduled run
// (or records a skipped one) and moves the workflow's fire times on. Ticks
// are unique by workflow and fire time in every state River keeps, so the
// periodic tick and a catch-up for the same fire time run once, whichever
// process inserts them.
type TickArgs struct {
	Workflow string    `json:"workflow" river:"unique"`
	FireAt   time.Time `json:"fire_at" river:"unique"`
	CatchUp  bool      `json:"catch_up,omitempty"`
}

// Kind is the River job kind.
func (TickArgs) Kind() string { return KindTick }

func tickOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueTick,
		MaxAttempts: 5,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}
