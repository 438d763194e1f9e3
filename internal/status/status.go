// Package status summarizes the state store for people and scripts: the
// run and workflow views shared by `wharf runs --json`, `wharf status
// --json` and the HTTP API (internal/server), so that each field is computed
// in one place.
package status

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/deploy"
	"github.com/wharf-data/wharf/internal/source"
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
	// SchemaHash identifies the schema the run landed; left out when the
	// run recorded none.
	SchemaHash string `json:"schema_hash,omitempty"`
	// SchemaChange is how the run's schema differs from the one the
	// previous run of its workflow recorded; left out when it does not
	// (or either recorded none).
	SchemaChange *source.SchemaChange `json:"schema_change,omitempty"`
}

// RunOf is the script view of r.
func RunOf(r state.Run) Run {
	out := Run{ID: r.ID, Workflow: r.Workflow, Trigger: r.Trigger, Status: string(r.Status),
		Rows: r.Rows, Bytes: r.Bytes, Files: r.Files, Error: r.Error, SchemaHash: r.SchemaHash}
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

// Runs lists the runs f selects as scripts see them, each with its
// SchemaChange. The previous run of a workflow is looked up in the list
// itself (newest first), and in the store only when the list ends first.
func Runs(ctx context.Context, st state.Store, f state.RunFilter) ([]Run, error) {
	runs, err := st.Runs(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Run, len(runs))
	for i, r := range runs {
		out[i] = RunOf(r)
		if r.Schema == "" {
			continue
		}
		var prev *state.Run
		for j := i + 1; j < len(runs) && prev == nil; j++ {
			if runs[j].Workflow == r.Workflow && runs[j].Schema != "" {
				prev = &runs[j]
			}
		}
		if prev == nil {
			if prev, err = previousWithSchema(ctx, st, r); err != nil {
				return nil, err
			}
		}
		if out[i].SchemaChange, err = schemaChange(*prev, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SchemaChangeOf is r's SchemaChange against the previous run of its
// workflow that recorded a schema; nil when there is none or no change.
func SchemaChangeOf(ctx context.Context, st state.Store, r state.Run) (*source.SchemaChange, error) {
	if r.Schema == "" {
		return nil, nil
	}
	prev, err := previousWithSchema(ctx, st, r)
	if err != nil {
		return nil, err
	}
	return schemaChange(*prev, r)
}

// previousWithSchema finds the newest run of r's workflow older than r
// that recorded a schema; a zero Run when there is none.
func previousWithSchema(ctx context.Context, st state.Store, r state.Run) (*state.Run, error) {
	before := r.ID
	for {
		older, err := st.Runs(ctx, state.RunFilter{Workflow: r.Workflow, Before: before, Limit: 50})
		if err != nil {
			return nil, fmt.Errorf("runs before %s: %w", before, err)
		}
		for i := range older {
			if older[i].Schema != "" {
				return &older[i], nil
			}
		}
		if len(older) < 50 {
			return &state.Run{}, nil
		}
		before = older[len(older)-1].ID
	}
}

// schemaChange compares the schemas two runs recorded; nil when prev
// recorded none or they are the same.
func schemaChange(prev, cur state.Run) (*source.SchemaChange, error) {
	if prev.Schema == "" || prev.SchemaHash == cur.SchemaHash {
		return nil, nil
	}
	p, err := source.ParseSchema(prev.Schema)
	if err != nil {
		return nil, fmt.Errorf("the schema run %s recorded: %w", prev.ID, err)
	}
	c, err := source.ParseSchema(cur.Schema)
	if err != nil {
		return nil, fmt.Errorf("the schema run %s recorded: %w", cur.ID, err)
	}
	return source.DiffSchemas(p, c), nil
}

// Time formats t as RFC 3339 UTC; nil for the zero time.
func Time(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// Workflow is one workflow's summary: a deployed one, or one that only has
// run history (plain `wharf run`s, or deleted since).
type Workflow struct {
	Workflow string `json:"workflow"`
	Table    string `json:"table"`
	// Deployed is false for a workflow known only from its runs; it is
	// then not Enabled and has no schedule.
	Deployed  bool    `json:"deployed"`
	Enabled   bool    `json:"enabled"`
	Schedule  string  `json:"schedule"`
	NextRunAt *string `json:"next_run_at"`
	LastRun   *Run    `json:"last_run"`
	// LastOutcome is the status of the newest run that ended for real
	// (succeeded, failed or cancelled: a skipped tick changes nothing);
	// null when none. ConsecutiveFailures counts the failed runs since the
	// newest succeeded one, FailingSince is when the first of them started
	// (null when none).
	LastOutcome         *state.RunStatus `json:"last_outcome"`
	ConsecutiveFailures int              `json:"consecutive_failures"`
	FailingSince        *string          `json:"failing_since"`
	Watermark           *string          `json:"watermark"`
	// LastSuccessAt is when the newest succeeded run finished;
	// FreshnessSeconds how old its data is (see Freshness; null when none).
	LastSuccessAt    *string  `json:"last_success_at"`
	FreshnessSeconds *float64 `json:"freshness_seconds"`
	// FreshnessSLASeconds is the workflow's freshness_sla (null when
	// none); Late is true past it (Late: counted from the deploy
	// when no run succeeded).
	FreshnessSLASeconds *float64 `json:"freshness_sla_seconds"`
	Late                bool     `json:"late"`

	// The same as records, for pages and tables: the next fire time (zero
	// when none or disabled), the newest run and the newest succeeded run.
	NextFireAt          time.Time  `json:"-"`
	Last, LastSucceeded *state.Run `json:"-"`
	// Outcome is the newest run that ended for real (nil when none);
	// FailingSinceAt the start of the first of the ConsecutiveFailures.
	Outcome        *state.Run `json:"-"`
	FailingSinceAt time.Time  `json:"-"`
}

// Health is the workflow's state in a few words, for tables: "failing ×3
// since 2026-11-29 23:00" after failed runs, "late" past the freshness_sla,
// else the last real outcome
// ("succeeded", "cancelled"; "-" when none), with " (running)" while a run
// is queued or running.
func (w *Workflow) Health() string {
	out := "-"
	switch {
	case w.ConsecutiveFailures > 0:
		out = fmt.Sprintf("failing ×%d since %s", w.ConsecutiveFailures, w.FailingSinceAt.UTC().Format("2006-01-02 15:04"))
	case w.Late:
		out = "late"
	case w.Outcome != nil:
		out = string(w.Outcome.Status)
	}
	if w.Last != nil && !w.Last.Status.Final() {
		if out == "-" {
			return string(w.Last.Status)
		}
		out += " (" + string(w.Last.Status) + ")"
	}
	return out
}

// outcomeHistory is how many runs back Workflows looks for the newest
// succeeded run when counting consecutive failures.
const outcomeHistory = 1000

// setOutcome fills the last real outcome and the consecutive failures of w
// from its run history: unsettled holds the newest runs of the workflows
// whose newest run did not succeed (state.UnsettledRuns, one query for
// all of them).
func setOutcome(w *Workflow, unsettled map[string][]state.Run) {
	if w.Last == nil {
		return
	}
	runs := []state.Run{*w.Last}
	if u := unsettled[w.Workflow]; w.Last.Status != state.StatusSucceeded && len(u) > 0 {
		runs = u
	}
	for i := range runs {
		r := &runs[i]
		switch r.Status {
		case state.StatusSucceeded:
		case state.StatusFailed:
			w.ConsecutiveFailures++
			w.FailingSinceAt = r.StartedAt
		case state.StatusCancelled:
		default:
			continue // skipped, queued or running: no outcome
		}
		if w.Outcome == nil {
			w.Outcome = r
			w.LastOutcome = &r.Status
		}
		if r.Status == state.StatusSucceeded {
			break
		}
	}
	w.FailingSince = Time(w.FailingSinceAt)
}

// NextFire is when deployed workflow d runs next on its schedule after now:
// computed from the deployed schedule itself (so a redeploy shows at once,
// serve running or not), the zero time for disabled or on-demand workflows.
// A fire time the state recorded that serve has not handled yet (a tick
// missed while no serve ran: serve catches it up) comes first.
func NextFire(d *deploy.Workflow, now time.Time) time.Time {
	s := d.Spec.Workflow.Schedule
	if !d.Enabled || s.Kind == catalog.OnDemand || s.Kind == "" {
		return time.Time{}
	}
	next := s.Next(now)
	if p := d.NextFireAt; !p.IsZero() && p.Before(next) && p.After(d.LastFireAt) && s.IsFireTime(p) {
		return p
	}
	return next
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

// Workflows summarizes at now every deployed workflow and every workflow
// that only has run history, ordered by name.
func Workflows(ctx context.Context, st state.Store, now time.Time) ([]Workflow, error) {
	ds, err := deploy.List(ctx, st)
	if err != nil {
		return nil, err
	}
	last, err := st.LastRuns(ctx)
	if err != nil {
		return nil, err
	}
	wms, err := st.Watermarks(ctx)
	if err != nil {
		return nil, err
	}
	unsettled, err := st.UnsettledRuns(ctx, outcomeHistory)
	if err != nil {
		return nil, err
	}
	out := make([]Workflow, 0, len(ds)+len(last))
	deployed := make(map[string]bool, len(ds))
	for i := range ds {
		deployed[ds[i].Name] = true
	}
	for name := range last {
		if deployed[name] {
			continue
		}
		w := Workflow{Workflow: name, Schedule: "not deployed"}
		w.setRuns(last[name], unsettled, wms, now)
		out = append(out, w)
	}
	for i := range ds {
		d := &ds[i]
		w := Workflow{Workflow: d.Name, Table: d.Spec.Workflow.Table, Deployed: true, Enabled: d.Enabled, Schedule: Schedule(d.Spec.Workflow.Schedule)}
		w.NextFireAt = NextFire(d, now)
		w.NextRunAt = Time(w.NextFireAt)
		w.setRuns(last[d.Name], unsettled, wms, now)
		if sla := d.Spec.Workflow.FreshnessSLA; sla > 0 {
			secs := sla.Seconds()
			w.FreshnessSLASeconds = &secs
			_, w.Late = Late(d, last[d.Name].LastSucceeded, now)
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b Workflow) int { return strings.Compare(a.Workflow, b.Workflow) })
	return out, nil
}

// setRuns fills what w's runs and watermark say.
func (w *Workflow) setRuns(lr state.LastRuns, unsettled map[string][]state.Run, wms map[string]*coltype.Watermark, now time.Time) {
	w.Last, w.LastSucceeded = lr.Last, lr.LastSucceeded
	if lr.Last != nil {
		r := RunOf(*lr.Last)
		w.LastRun = &r
	}
	if lr.LastSucceeded != nil {
		w.LastSuccessAt = Time(lr.LastSucceeded.FinishedAt)
		secs := Freshness(*lr.LastSucceeded, now).Seconds()
		w.FreshnessSeconds = &secs
	}
	setOutcome(w, unsettled)
	if wm := wms[w.Workflow]; wm != nil {
		w.Watermark = &wm.Text
	}
}

// Workers lists the wharf processes sharing st, newest heartbeat first,
// each alive or not at now by state.Worker.Alive (its own dead-after).
func Workers(ctx context.Context, st state.Store, now time.Time) ([]Worker, error) {
	ws, err := st.Workers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Worker, 0, len(ws))
	for _, w := range ws {
		out = append(out, Worker{ID: w.ID, Host: w.Host, PID: w.PID, Role: w.Role,
			StartedAt: Time(w.StartedAt), HeartbeatAt: Time(w.HeartbeatAt),
			Alive: w.Alive(now)})
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

// Freshness is how old the data a succeeded run landed is at now: now
// minus its DataTime (the upper watermark when that is a time, else when
// it finished).
func Freshness(r state.Run, now time.Time) time.Duration { return now.Sub(r.DataTime()) }

// Late reports whether deployed workflow d, which has a freshness SLA, is
// late at now, and since when its data's age counts: the DataTime of its
// newest succeeded run (lastSucceeded), or when it was deployed if none
// succeeded. Disabled workflows are never late. The status views and the
// engine's freshness check share this rule.
func Late(d *deploy.Workflow, lastSucceeded *state.Run, now time.Time) (since time.Time, late bool) {
	sla := d.Spec.Workflow.FreshnessSLA
	if sla <= 0 || !d.Enabled {
		return time.Time{}, false
	}
	since = d.CreatedAt
	if lastSucceeded != nil {
		since = lastSucceeded.DataTime()
	}
	return since, now.Sub(since) > sla
}

// HumanBytes formats a byte count for people: 512 B, 1.4 KiB, 3.0 GiB.
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
