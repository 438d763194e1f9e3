package state

import "time"

// transition is a status change of a run, applied by the one conditional
// update (Queries.SetRunIf): run's new status and end state, written only
// while the stored run is in one of from. Every status change is built
// here; River's JobSetStateIfRunning params are the model.
type transition struct {
	op   string // the operation, for messages: commit, finish, mark running
	run  *Run   // the new state (normalized)
	from [2]RunStatus
	// startedAt is written when not zero (mark running); workerID when not
	// nil.
	startedAt time.Time
	workerID  *string
	// notQueued is true when a refusal wraps ErrNotQueued, not
	// ErrNotRunning.
	notQueued bool
}

// commitOf: running → succeeded.
func commitOf(c *Run) transition {
	return transition{op: "commit", run: c, from: [2]RunStatus{StatusRunning, StatusRunning}}
}

// finishOf: queued or running → failed, cancelled or skipped.
func finishOf(c *Run) transition {
	return transition{op: "finish", run: c, from: [2]RunStatus{StatusQueued, StatusRunning}}
}

// lakePrefixOf: running → running, recording where the run writes
// (Run.LakePrefix) before it writes anything.
func lakePrefixOf(c *Run) transition {
	return transition{op: "record lake prefix of", run: c, from: [2]RunStatus{StatusRunning, StatusRunning}}
}

// markRunningOf: queued → running on workerID.
func markRunningOf(c *Run, workerID string) transition {
	return transition{op: "mark running", run: c, from: [2]RunStatus{StatusQueued, StatusQueued},
		startedAt: c.StartedAt, workerID: &workerID, notQueued: true}
}

func (t transition) what() string {
	if t.notQueued {
		return "mark run " + t.run.ID + " of workflow " + t.run.Workflow + " running"
	}
	return t.op + " run " + t.run.ID + " of workflow " + t.run.Workflow
}

// refused is the error when the stored run (of workflow, in status) did
// not allow the change.
func (t transition) refused(workflow string, status RunStatus) error {
	if t.notQueued {
		return NotQueued(t.run.ID, t.run.Workflow, workflow, string(status))
	}
	return NotRunning(t.op, t.run.ID, t.run.Workflow, workflow, string(status))
}
