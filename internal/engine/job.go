package engine

import (
	"github.com/google/uuid"

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

// landingOpts are the options of a landing job; its attempts are the
// deployed workflow's (catalog.Workflow.Tries), whichever process queues it.
func landingOpts(tries int) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       QueueLanding,
		MaxAttempts: tries,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: activeStates},
	}
}

// TickArgs is one tick of the scheduler: it queues the runs of the
// workflows whose recorded next fire time is after From and at or before
// FireAt, and moves their fire times on. A leader's clock ticks have From =
// the moment it became leader; its catch-up tick (CatchUp, From zero) takes
// the fire times before that which no pending tick covers. Ticks are
// unique by their arguments in every state River keeps, so each is
// inserted once whichever process inserts it.
type TickArgs struct {
	FireAt  time.Time `json:"fire_at" river:"unique"`
	From    time.Time `json:"from,omitzero" river:"unique"`
	CatchUp bool      `json:"catch_up,omitempty" river:"unique"`
}

// covers reports whether tick a takes a workflow whose next fire time is
// next.
func (a TickArgs) covers(next time.Time) bool {
	return !next.After(a.FireAt) && (a.CatchUp || next.After(a.From))
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

// newRunID returns a new run ID (UUIDv7: ordered by creation).
func newRunID() string { return uuid.Must(uuid.NewV7()).String() }
