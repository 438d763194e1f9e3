package state

import (
	"strings"
	"time"
)

// File is one lake object a run landed.
type File struct {
	RunID, Workflow, Path string
	Rows, Bytes           int64
	CreatedAt             time.Time // UTC, microseconds
}

// RunFilter selects runs for listing.
type RunFilter struct {
	Workflow string    // "" = every workflow
	Status   RunStatus // "" = every status
	// Before lists only runs older (by StartedAt, then ID) than the run
	// with this ID: the last ID of the previous page. "" = from the newest.
	Before string
	Limit  int // 0 = DefaultLimit
}

// Where returns the SQL condition (without WHERE; "" when none) and its
// arguments selecting f's runs from wharf_runs; param(i) writes the i-th
// placeholder (from 1) in the backend's dialect. Both backends share it.
func (f RunFilter) Where(param func(i int) string, first int) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "?", param(first+len(args)-1)))
	}
	if f.Workflow != "" {
		add(`workflow = ?`, f.Workflow)
	}
	if f.Status != "" {
		add(`status = ?`, f.Status)
	}
	if f.Before != "" {
		add(`(started_at, id) < (SELECT b.started_at, b.id FROM wharf_runs b WHERE b.id = ?)`, f.Before)
	}
	return strings.Join(conds, " AND "), args
}

// DefaultLimit is the number of runs listed when RunFilter.Limit is 0.
const DefaultLimit = 100

// EffectiveLimit returns the limit to apply, or an error for a negative one.
func (f RunFilter) EffectiveLimit() (int, error) {
	switch {
	case f.Limit < 0:
		return 0, &LimitError{Limit: f.Limit}
	case f.Limit == 0:
		return DefaultLimit, nil
	}
	return f.Limit, nil
}
