package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wharf-data/wharf/internal/coltype"
)

// RunStatus is where a run is in its lifecycle (see docs/state.md):
//
//	queued ──▶ running ──▶ succeeded | failed | cancelled
//	   └──────────┴──────▶ failed | cancelled | skipped
//
// A run recorded directly (StartRun) begins at running; a run refused
// before it starts (the workflow is busy) is recorded as skipped.
type RunStatus string

// Run statuses.
const (
	StatusQueued    RunStatus = "queued"
	StatusRunning   RunStatus = "running"
	StatusSucceeded RunStatus = "succeeded"
	StatusFailed    RunStatus = "failed"
	StatusCancelled RunStatus = "cancelled"
	StatusSkipped   RunStatus = "skipped"
)

// Run triggers.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
	TriggerRetry    = "retry"
)

// Statuses lists every run status; Triggers every run trigger.
var (
	Statuses = []RunStatus{StatusQueued, StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled, StatusSkipped}
	Triggers = []string{TriggerManual, TriggerSchedule, TriggerRetry}
)

// Run is one execution of a workflow.
type Run struct {
	ID, Workflow string
	Trigger      string // manual | schedule | retry
	Status       RunStatus
	// StartedAt and FinishedAt are UTC at microsecond precision (the store
	// normalizes them); FinishedAt is zero while the run is not finished.
	StartedAt, FinishedAt time.Time
	Rows, Bytes           int64
	Files                 int
	// WatermarkFrom and WatermarkTo are the run's window; nil = none.
	WatermarkFrom, WatermarkTo *coltype.Watermark
	FullLoad                   bool
	Error                      string
	// SchemaHash identifies the schema the run landed ("" = not recorded)
	// and Schema is that schema as JSON text ("" = not recorded, NULL in
	// the store). The landing blueprint fills them; the store keeps them.
	SchemaHash string
	Schema     string
	// LakePrefix is where the run writes in the lake: the lake's URL
	// (redacted) and the path prefix under it, as lake.Location joins them
	// ("" = not recorded, for runs recorded before wharf kept it). Recorded
	// before the run writes a file (Store.RecordLakePrefix), so a dead run's
	// files can be removed without its source. Once recorded it is kept.
	LakePrefix string
}

// Final reports whether s is an end state (succeeded, failed, cancelled or
// skipped): a run in it never changes again.
func (s RunStatus) Final() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusCancelled, StatusSkipped:
		return true
	}
	return false
}

// Time returns t in UTC truncated to microseconds: what the store keeps.
// The zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// PrepareStart checks r before StartRun records it, and normalizes it in
// place: Status becomes running, a zero StartedAt becomes now, FinishedAt is
// cleared, times are UTC microseconds and Error is storable text.
func (r *Run) PrepareStart(now time.Time) error {
	if err := r.checkIdentity("start"); err != nil {
		return err
	}
	if !slices.Contains(Triggers, r.Trigger) {
		return fmt.Errorf("start run %s of workflow %s: trigger %q is not one of %s",
			r.ID, r.Workflow, r.Trigger, strings.Join(Triggers, ", "))
	}
	if r.Status != "" && r.Status != StatusRunning {
		return fmt.Errorf("start run %s of workflow %s: status %q: a run starts as %s",
			r.ID, r.Workflow, r.Status, StatusRunning)
	}
	r.Status = StatusRunning
	if r.StartedAt.IsZero() {
		r.StartedAt = now
	}
	r.StartedAt = Time(r.StartedAt)
	r.FinishedAt = time.Time{}
	return r.checkStats("start")
}

// PrepareCommit checks r, its files and the new watermark before CommitRun
// writes them, and normalizes them: r.Status becomes succeeded, a zero
// FinishedAt becomes now, r.Files becomes len(files). It returns a copy of
// files with RunID, Workflow and a zero CreatedAt filled in.
func (r *Run) PrepareCommit(now time.Time, files []File, wm *coltype.Watermark, cursor string) ([]File, error) {
	if err := r.checkIdentity("commit"); err != nil {
		return nil, err
	}
	if wm != nil {
		if cursor == "" {
			return nil, fmt.Errorf("commit run %s of workflow %s: watermark %q has no cursor column",
				r.ID, r.Workflow, wm.Text)
		}
		if err := CheckWatermark(wm); err != nil {
			return nil, fmt.Errorf("commit run %s of workflow %s: watermark for cursor %q: %w",
				r.ID, r.Workflow, cursor, err)
		}
	}
	out := make([]File, len(files))
	seen := make(map[string]bool, len(files))
	for i, f := range files {
		if f.RunID == "" {
			f.RunID = r.ID
		}
		if f.Workflow == "" {
			f.Workflow = r.Workflow
		}
		switch {
		case f.Path == "":
			return nil, fmt.Errorf("commit run %s of workflow %s: file %d has an empty path", r.ID, r.Workflow, i)
		case f.RunID != r.ID:
			return nil, fmt.Errorf("commit run %s of workflow %s: file %s belongs to run %s",
				r.ID, r.Workflow, f.Path, f.RunID)
		case f.Workflow != r.Workflow:
			return nil, fmt.Errorf("commit run %s of workflow %s: file %s belongs to workflow %s",
				r.ID, r.Workflow, f.Path, f.Workflow)
		case f.Rows < 0 || f.Bytes < 0:
			return nil, fmt.Errorf("commit run %s of workflow %s: file %s: negative rows (%d) or bytes (%d)",
				r.ID, r.Workflow, f.Path, f.Rows, f.Bytes)
		case !storable(f.Path):
			return nil, fmt.Errorf("commit run %s of workflow %s: file path %q is not valid UTF-8 without NUL",
				r.ID, r.Workflow, f.Path)
		case seen[f.Path]:
			return nil, fmt.Errorf("commit run %s of workflow %s: file %s is listed twice", r.ID, r.Workflow, f.Path)
		}
		seen[f.Path] = true
		if f.CreatedAt.IsZero() {
			f.CreatedAt = now
		}
		f.CreatedAt = Time(f.CreatedAt)
		out[i] = f
	}
	r.Status = StatusSucceeded
	r.Files = len(files)
	r.Error = ""
	r.finishTime(now)
	return out, r.checkStats("commit")
}

// PrepareLakePrefix checks r before RecordLakePrefix records
// r.LakePrefix on the running run.
func (r *Run) PrepareLakePrefix() error {
	if err := r.checkIdentity("record lake prefix of"); err != nil {
		return err
	}
	if r.Status != StatusRunning {
		return fmt.Errorf("record lake prefix of run %s of workflow %s: status %q, want %s", r.ID, r.Workflow, r.Status, StatusRunning)
	}
	if r.LakePrefix == "" || !storable(r.LakePrefix) {
		return fmt.Errorf("record lake prefix of run %s of workflow %s: prefix %q must be non-empty valid UTF-8 without NUL", r.ID, r.Workflow, r.LakePrefix)
	}
	return r.checkStats("record lake prefix of")
}

// PrepareFinish checks r before FinishRun records a non-success end, and
// normalizes it: a zero FinishedAt becomes now.
func (r *Run) PrepareFinish(now time.Time) error {
	if err := r.checkIdentity("finish"); err != nil {
		return err
	}
	switch r.Status {
	case StatusFailed, StatusCancelled, StatusSkipped:
	default:
		return fmt.Errorf("finish run %s of workflow %s: status %q is not one of %s, %s, %s",
			r.ID, r.Workflow, r.Status, StatusFailed, StatusCancelled, StatusSkipped)
	}
	r.finishTime(now)
	return r.checkStats("finish")
}

func (r *Run) finishTime(now time.Time) {
	if r.FinishedAt.IsZero() {
		r.FinishedAt = now
	}
	r.FinishedAt = Time(r.FinishedAt)
	r.StartedAt = Time(r.StartedAt)
}

func (r *Run) checkIdentity(op string) error {
	if r == nil {
		return fmt.Errorf("%s run: nil run", op)
	}
	if r.ID == "" {
		return fmt.Errorf("%s run of workflow %q: empty run ID", op, r.Workflow)
	}
	if r.Workflow == "" {
		return fmt.Errorf("%s run %s: empty workflow name", op, r.ID)
	}
	if !storable(r.ID) || !storable(r.Workflow) {
		return fmt.Errorf("%s run %q of workflow %q: ID and workflow must be valid UTF-8 without NUL", op, r.ID, r.Workflow)
	}
	return nil
}

// checkStats validates the counters and window and makes Error storable.
func (r *Run) checkStats(op string) error {
	if r.Rows < 0 || r.Bytes < 0 || r.Files < 0 {
		return fmt.Errorf("%s run %s of workflow %s: negative rows (%d), bytes (%d) or files (%d)",
			op, r.ID, r.Workflow, r.Rows, r.Bytes, r.Files)
	}
	for _, w := range []struct {
		field string
		wm    *coltype.Watermark
	}{{"WatermarkFrom", r.WatermarkFrom}, {"WatermarkTo", r.WatermarkTo}} {
		if w.wm == nil {
			continue
		}
		if err := CheckWatermark(w.wm); err != nil {
			return fmt.Errorf("%s run %s of workflow %s: %s: %w", op, r.ID, r.Workflow, w.field, err)
		}
	}
	if !storable(r.SchemaHash) || !storable(r.Schema) {
		return fmt.Errorf("%s run %s of workflow %s: schema hash and schema must be valid UTF-8 without NUL", op, r.ID, r.Workflow)
	}
	if r.Schema != "" && !json.Valid([]byte(r.Schema)) {
		return fmt.Errorf("%s run %s of workflow %s: schema is not valid JSON", op, r.ID, r.Workflow)
	}
	r.Error = StorableText(r.Error)
	return nil
}

// StorableText makes s storable by every backend: invalid UTF-8 and NUL
// bytes (which PostgreSQL text cannot hold) become U+FFFD.
func StorableText(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// DataTime is how recent the data a succeeded run landed is: its upper
// watermark when that is a time (the newest row's cursor), else when it
// finished. Freshness (status, metrics, freshness_sla) counts from it.
func (r Run) DataTime() time.Time {
	wm := r.WatermarkTo
	if wm == nil {
		return r.FinishedAt
	}
	var layout string
	switch wm.Kind {
	case coltype.Timestamp:
		layout = coltype.TimestampLayout
	case coltype.TimestampTZ:
		layout = coltype.TimestampTZLayout
	case coltype.Date:
		layout = coltype.DateLayout
	default:
		return r.FinishedAt
	}
	t, err := time.Parse(layout, wm.Text)
	if err != nil {
		return r.FinishedAt
	}
	return t
}
