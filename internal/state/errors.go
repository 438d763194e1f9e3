package state

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by errors about a missing run or deployed workflow.
var ErrNotFound = errors.New("not found")

// ErrNotRunning is wrapped by CommitRun and FinishRun errors when the run is
// no longer in progress (for example a cleanup already marked it failed):
// nothing was changed, and the run's work must not be committed.
var ErrNotRunning = errors.New("run is not in progress")

// NotFound returns the error for a missing run.
func NotFound(op, runID string) error {
	return fmt.Errorf("%s run %s: %w", op, runID, ErrNotFound)
}

// NotRunning returns the error for a run found in an unexpected status or
// workflow; wantWorkflow is the workflow the caller believed the run has.
func NotRunning(op, runID, wantWorkflow, gotWorkflow, status string) error {
	if gotWorkflow != wantWorkflow {
		return fmt.Errorf("%s run %s: it belongs to workflow %s, not %s: %w", op, runID, gotWorkflow, wantWorkflow, ErrNotRunning)
	}
	return fmt.Errorf("%s run %s of workflow %s: status is %s: %w", op, runID, wantWorkflow, status, ErrNotRunning)
}

// LimitError reports a negative RunFilter.Limit.
type LimitError struct{ Limit int }

func (e *LimitError) Error() string {
	return fmt.Sprintf("list runs: RunFilter.Limit %d is negative", e.Limit)
}

// ErrBusy is wrapped by errors of a statement the state database kept
// refusing because other writers held it (SQLite's SQLITE_BUSY after its
// busy timeout and the store's own retries): nothing was changed, and the
// same call may succeed a moment later. The engine retries such a call
// without counting it as one of a run's attempts.
var ErrBusy = errors.New("the state database is busy")

// ErrNoState is wrapped by read-only opens of a state store that does not
// exist yet (no SQLite file, or no wharf tables): nothing is deployed.
var ErrNoState = errors.New("no wharf state here yet")
