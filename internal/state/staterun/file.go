package staterun

import "time"

// File is one lake object a run landed.
type File struct {
	RunID, Workflow, Path string
	Rows, Bytes           int64
	CreatedAt             time.Time // UTC, microseconds
}

// RunFilter selects runs for listing.
type RunFilter struct {
	Workflow string // "" = every workflow
	Limit    int    // 0 = DefaultLimit
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
