package status_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/status"
)

func openState(t *testing.T) state.Store {
	t.Helper()
	st, err := stateurl.Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func spec(name, schedule string) catalog.Resolved {
	s, err := catalog.ParseSchedule(schedule, "")
	if err != nil {
		panic(err)
	}
	return catalog.Resolved{Workflow: catalog.Workflow{Name: name, Table: "public." + name, Schedule: s}}
}

var n int

// record adds a finished run of workflow with status at started.
func record(t *testing.T, st state.Store, workflow string, status state.RunStatus, started time.Time) {
	t.Helper()
	n++
	r := &state.Run{ID: fmt.Sprintf("01900000-0000-7000-8000-%012d", n), Workflow: workflow, Trigger: state.TriggerSchedule, StartedAt: started}
	if err := st.StartRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if status == state.StatusRunning {
		return
	}
	if status == state.StatusSucceeded {
		if err := st.CommitRun(t.Context(), r, nil, nil, ""); err != nil {
			t.Fatal(err)
		}
		return
	}
	r.Status, r.FinishedAt = status, started.Add(time.Second)
	if err := st.FinishRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
}

// TestWorkflowsTellTheTruth: the next run comes from the deployed schedule
// (none for on-demand, even with a stale fire time recorded), workflows with
// only run history are listed, and a skipped tick does not hide failures.
func TestWorkflowsTellTheTruth(t *testing.T) {
	st := openState(t)
	ctx := t.Context()
	now := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	base := now.Add(-3 * time.Hour)
	if err := st.ApplyDeploy(ctx, state.DeployChanges{Create: []state.Deployed{
		{Name: "daily", Spec: catalog.EncodeSpec(spec("daily", "cron(10 21 * * ? *)"))},
		{Name: "employees", Spec: catalog.EncodeSpec(spec("employees", "on_demand"))},
		{Name: "quarter", Spec: catalog.EncodeSpec(spec("quarter", "rate(15 minutes)"))},
	}}); err != nil {
		t.Fatal(err)
	}
	// A stale fire time from before employees was redeployed on demand.
	if err := st.SetFireTimes(ctx, "employees", base, now.Add(36*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// daily: succeeded, failed, failed its retry, then a skipped tick.
	record(t, st, "daily", state.StatusSucceeded, base)
	record(t, st, "daily", state.StatusFailed, base.Add(time.Hour))
	record(t, st, "daily", state.StatusFailed, base.Add(time.Hour+time.Minute))
	record(t, st, "daily", state.StatusSkipped, base.Add(2*time.Hour))
	// quarter: cancelled after a success; a run going on now.
	record(t, st, "quarter", state.StatusSucceeded, base)
	record(t, st, "quarter", state.StatusCancelled, base.Add(time.Hour))
	record(t, st, "quarter", state.StatusRunning, base.Add(2*time.Hour))
	// adhoc: never deployed, landed by plain wharf runs; failing from the start.
	record(t, st, "adhoc", state.StatusFailed, base)

	ws, err := status.Workflows(ctx, st, now)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ name, next, health string }
	var got []row
	for i := range ws {
		next := "-"
		if !ws[i].NextFireAt.IsZero() {
			next = ws[i].NextFireAt.Format(time.RFC3339)
		}
		got = append(got, row{ws[i].Workflow, next, ws[i].Health()})
	}
	want := []row{
		{"adhoc", "-", "failing ×1 since 2026-11-29 20:00"},
		{"daily", "2026-11-30T21:10:00Z", "failing ×2 since 2026-11-29 21:00"},
		{"employees", "-", "-"},
		{"quarter", "2026-11-29T23:15:00Z", "cancelled (running)"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("workflows:\n got %v\nwant %v", got, want)
	}

	b, err := json.Marshal(ws[1])
	if err != nil {
		t.Fatal(err)
	}
	var daily map[string]any
	if err := json.Unmarshal(b, &daily); err != nil {
		t.Fatal(err)
	}
	if daily["last_outcome"] != "failed" || daily["consecutive_failures"] != 2.0 ||
		daily["failing_since"] != "2026-11-29T21:00:00Z" || daily["deployed"] != true ||
		daily["last_run"].(map[string]any)["status"] != "skipped" {
		t.Errorf("daily as JSON: %s", b)
	}
	if b, _ := json.Marshal(ws[0]); ws[0].Deployed || ws[0].Schedule != "not deployed" || ws[0].NextRunAt != nil {
		t.Errorf("adhoc (history only): %s", b)
	}
}
