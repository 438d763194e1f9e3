// Package status summarizes the state store for people and scripts: the
// run and workflow views shared by `wharf runs --json`, `wharf status
// --json` and the HTTP API (internal/server), so that each field is computed
// in one place.
package status

import (
	"context"
	"fmt"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
)

// Run is one run as scripts see it (a stable contract, docs/engine.md).
// Times are RFC 3339 UTC; started_at is null while a run is queued,
// finished_at while it is not finished; watermarks are the cursor values'
// canonical text, null when none.
type Run struct {
	ID            string  `json:"id"`
	Workflow      string  `json:"workflow"`
	Trigger       string  `json:"trigger"`
	Status        string  `json:"status"`
	StartedAt     *string `json:"started_at"`
	FinishedAt    *string `json:"finished_at"`
	Rows          int64   `json:"rows"`
	Bytes         int64   `json:"bytes"`
	Files         int     `json:"files"`
	WatermarkFrom *string `json:"watermark_from"`
	WatermarkTo   *string `json:"watermark_to"`
	Error         string  `json:"error"`
}

// RunOf is the script view of r.
func RunOf(r state.Run) Run {
	out := Run{ID: r.ID, Workflow: r.Workflow, Trigger: r.Trigger, Status: r.Status,
		Rows: r.Rows, Bytes: r.Bytes, Files: r.Files, Error: r.Error}
	if r.Status != state.StatusQueued {
		out.StartedAt = Time(r.StartedAt)
	}
	out.FinishedAt = Time(r.FinishedAt)
	if r.WatermarkFrom != nil {
		out.WatermarkFrom = &r.WatermarkFrom.Text
	}
	if r.WatermarkTo != nil {
		out.WatermarkTo = &r.WatermarkTo.Text
	}
	return out
}

// Time formats t as RFC 3339 UTC; nil for the zero time.
func Time(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// Workflow is one deployed workflow's summary.
type Workflow struct {
	Workflow  string  `json:"workflow"`
	Table     string  `json:"table"`
	Enabled   bool    `json:"enabled"`
	Schedule  string  `json:"schedule"`
	NextRunAt *string `json:"next_run_at"`
	LastRun   *Run    `json:"last_run"`
	Watermark *string `json:"watermark"`
	// LastSuccessAt is when the newest succeeded run finished;
	// FreshnessSeconds the time since then (null when none).
	LastSuccessAt    *string  `json:"last_success_at"`
	FreshnessSeconds *float64 `json:"freshness_seconds"`

	// The same as records, for pages and tables: the next fire time (zero
	// when none or disabled), the newest run and the newest succeeded run.
	NextFireAt          time.Time  `json:"-"`
	Last, LastSucceeded *state.Run `json:"-"`
}

// Worker is one wharf serve/worker process.
type Worker struct {
	ID          string  `json:"id"`
	Host        string  `json:"host"`
	PID         int     `json:"pid"`
	Role        string  `json:"role"`
	StartedAt   *string `json:"started_at"`
	HeartbeatAt *string `json:"heartbeat_at"`
	Alive       bool    `json:"alive"`
}

// Report is `wharf status --json`.
type Report struct {
	Workflows []Workflow `json:"workflows"`
	Workers   []Worker   `json:"workers"`
}

// Fleet opens the engine bookkeeping of st.
func Fleet(st state.Store) (state.Fleet, error) {
	fleet, ok := st.(state.Fleet)
	if !ok {
		return nil, fmt.Errorf("state store %T keeps no run summaries", st)
	}
	return fleet, nil
}

// Workflows summarizes every deployed workflow at now, ordered by name.
func Workflows(ctx context.Context, st state.Store, now time.Time) ([]Workflow, error) {
	fleet, err := Fleet(st)
	if err != nil {
		return nil, err
	}
	ds, err := st.DeployedWorkflows(ctx)
	if err != nil {
		return nil, err
	}
	last, err := fleet.LastRuns(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Workflow, 0, len(ds))
	for i := range ds {
		d := &ds[i]
		w := Workflow{Workflow: d.Name, Table: d.Spec.Workflow.Table, Enabled: d.Enabled, Schedule: Schedule(d.Spec.Workflow.Schedule)}
		if d.Enabled {
			w.NextFireAt = d.NextFireAt
			w.NextRunAt = Time(d.NextFireAt)
		}
		lr := last[d.Name]
		w.Last, w.LastSucceeded = lr.Last, lr.LastSucceeded
		if lr.Last != nil {
			r := RunOf(*lr.Last)
			w.LastRun = &r
		}
		if lr.LastSucceeded != nil {
			w.LastSuccessAt = Time(lr.LastSucceeded.FinishedAt)
			secs := now.Sub(lr.LastSucceeded.FinishedAt).Seconds()
			w.FreshnessSeconds = &secs
		}
		wm, _, err := st.Watermark(ctx, d.Name)
		if err != nil {
			return nil, err
		}
		if wm != nil {
			w.Watermark = &wm.Text
		}
		out = append(out, w)
	}
	return out, nil
}

// Workers lists the wharf processes sharing st, newest heartbeat first; a
// process is alive when it has not stopped and its heartbeat is younger
// than deadAfter.
func Workers(ctx context.Context, st state.Store, now time.Time, deadAfter time.Duration) ([]Worker, error) {
	fleet, err := Fleet(st)
	if err != nil {
		return nil, err
	}
	ws, err := fleet.Workers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Worker, 0, len(ws))
	for _, w := range ws {
		out = append(out, Worker{ID: w.ID, Host: w.Host, PID: w.PID, Role: w.Role,
			StartedAt: Time(w.StartedAt), HeartbeatAt: Time(w.HeartbeatAt),
			Alive: w.StoppedAt.IsZero() && now.Sub(w.HeartbeatAt) < deadAfter})
	}
	return out, nil
}

// Schedule describes a deployed workflow's schedule for people: the
// expression as written plus its time zone, or "on demand".
func Schedule(s catalog.Schedule) string {
	if s.Kind == catalog.OnDemand || s.Kind == "" {
		return "on demand"
	}
	out := s.Expr
	if s.TimeZone != "" {
		out += " " + s.TimeZone
	}
	return out
}
