package state

import "time"

// FireClaim moves a deployed workflow's fire times to Last and Next,
// provided its next fire time is still Expect (zero = none recorded). It is
// the one conditional update by which a schedule tick takes a fire time
// (and the scheduler's bookkeeping sets one), so two ticks racing for the
// same workflow never both queue a run: the loser's claim changes nothing.
type FireClaim struct {
	Workflow           string
	Expect, Last, Next time.Time
}
