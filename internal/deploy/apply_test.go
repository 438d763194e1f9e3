package deploy

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// catalogYAML is a catalog of workflows given as "name:table:schedule".
func catalogYAML(entries ...string) string {
	var b strings.Builder
	b.WriteString("connections:\n  hr: {engine: postgres, secret: env:HR}\nlakes:\n  raw: {url: \"file:///lake\"}\n")
	b.WriteString("defaults: {cursor: updated_at}\nworkflows:\n")
	for _, e := range entries {
		p := strings.SplitN(e, ":", 3)
		fmt.Fprintf(&b, "  - {name: %s, table: %s, schedule: %q}\n", p[0], p[1], p[2])
	}
	return b.String()
}

func openState(t *testing.T) (state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := stateurl.Open(t.Context(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// deploy plans yaml against s and applies it.
func deploy(t *testing.T, s state.Store, yaml string, opts Options, allowReset bool) (*Plan, error) {
	t.Helper()
	p, _, err := Compute(t.Context(), s, parse(t, yaml), nil, opts)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return p, Apply(t.Context(), s, p, allowReset)
}

func mustDeploy(t *testing.T, s state.Store, yaml string, opts Options, allowReset bool) *Plan {
	t.Helper()
	p, err := deploy(t, s, yaml, opts, allowReset)
	if err != nil {
		t.Fatalf("deploy: %v", err)
	}
	return p
}

func planJSON(p *Plan) string {
	b, _ := p.MarshalJSON()
	return string(b)
}

type stateSnap struct {
	Deployed   []state.Deployed
	Runs       []state.Run
	Watermarks map[string]string
}

func snapState(t *testing.T, s state.Store) stateSnap {
	t.Helper()
	ds, err := s.DeployedWorkflows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(t.Context(), state.RunFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	wms := map[string]string{}
	for _, r := range runs {
		if wm, cursor, err := s.Watermark(t.Context(), r.Workflow); err != nil {
			t.Fatal(err)
		} else if wm != nil {
			wms[r.Workflow] = cursor + "=" + wm.Text
		}
	}
	return stateSnap{ds, runs, wms}
}

// land records a succeeded run of workflow with a watermark.
func land(t *testing.T, s state.Store, workflow, wm string) *state.Run {
	t.Helper()
	r := &state.Run{ID: "run-" + workflow + "-" + wm, Workflow: workflow, Trigger: state.TriggerManual}
	if err := s.StartRun(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitRun(t.Context(), r, []state.File{{Path: workflow + "/" + wm + ".parquet", Rows: 1, Bytes: 1}},
		&coltype.Watermark{Kind: coltype.Int64, Text: wm}, "updated_at"); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDeployAndRedeploy(t *testing.T) {
	s, _ := openState(t)
	yaml := catalogYAML("b:public.b:rate(1 hour)", "a:public.a:@daily")
	p := mustDeploy(t, s, yaml, Options{}, false)
	if got := planJSON(p); got != `{"create":["a","b"],"update":[],"unchanged":[],"disable":[],"delete":[]}` {
		t.Errorf("first deploy plan = %s", got)
	}
	before := snapState(t, s)
	if len(before.Deployed) != 2 || !before.Deployed[0].Enabled || !strings.Contains(string(before.Deployed[0].Spec), `"expr":"@daily"`) {
		t.Fatalf("deployed: %+v", before.Deployed)
	}
	// The same catalog again: zero changes, nothing written.
	p = mustDeploy(t, s, yaml, Options{}, false)
	if got := planJSON(p); got != `{"create":[],"update":[],"unchanged":["a","b"],"disable":[],"delete":[]}` || !p.Empty() {
		t.Errorf("redeploy plan = %s", got)
	}
	if after := snapState(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("redeploy changed the state:\nbefore %+v\nafter  %+v", before, after)
	}
	// Moving entries around in the file changes nothing either.
	p = mustDeploy(t, s, catalogYAML("a:public.a:@daily", "b:public.b:rate(1 hour)"), Options{}, false)
	if !p.Empty() {
		t.Errorf("reordered catalog plan = %s", planJSON(p))
	}
}

func TestDeployKeepsHistoryAcrossUpdate(t *testing.T) {
	s, _ := openState(t)
	mustDeploy(t, s, catalogYAML("a:public.a:@daily", "b:public.b:@daily"), Options{}, false)
	orig, _ := s.DeployedWorkflow(t.Context(), "a")
	if err := s.SetFireTimes(t.Context(), "a", orig.CreatedAt, orig.CreatedAt.Add(1e9)); err != nil {
		t.Fatal(err)
	}
	run := land(t, s, "a", "41")
	p := mustDeploy(t, s, catalogYAML("a:public.a:rate(5 minutes)", "b:public.b:@daily"), Options{}, false)
	if got := planJSON(p); got != `{"create":[],"update":[{"name":"a","changes":["schedule"]}],"unchanged":["b"],"disable":[],"delete":[]}` {
		t.Errorf("plan = %s", got)
	}
	got, _ := Get(t.Context(), s, "a")
	if got.ID != orig.ID || !got.CreatedAt.Equal(orig.CreatedAt) || got.Spec.Workflow.Schedule.Expr != "rate(5 minutes)" ||
		!got.NextFireAt.Equal(orig.CreatedAt.Add(1e9)) {
		t.Errorf("updated workflow %+v, was %+v", got, orig)
	}
	if r, err := s.Run(t.Context(), run.ID); err != nil || r.Status != state.StatusSucceeded {
		t.Errorf("run after update: %+v, %v", r, err)
	}
	if wm, cursor, _ := s.Watermark(t.Context(), "a"); wm == nil || wm.Text != "41" || cursor != "updated_at" {
		t.Errorf("watermark after update: %v %s", wm, cursor)
	}
}

func TestDeployDisablePruneReenable(t *testing.T) {
	s, _ := openState(t)
	mustDeploy(t, s, catalogYAML("a:public.a:@daily", "b:public.b:@daily", "c:public.c:@daily"), Options{}, false)
	runB, runC := land(t, s, "b", "1"), land(t, s, "c", "2")
	// b and c leave the catalog: disabled, history kept.
	p := mustDeploy(t, s, catalogYAML("a:public.a:@daily"), Options{}, false)
	if got := planJSON(p); got != `{"create":[],"update":[],"unchanged":["a"],"disable":["b","c"],"delete":[]}` {
		t.Errorf("plan = %s", got)
	}
	for _, name := range []string{"b", "c"} {
		if d, err := s.DeployedWorkflow(t.Context(), name); err != nil || d.Enabled {
			t.Errorf("%s after removal: %+v, %v", name, d, err)
		}
	}
	if _, err := s.Run(t.Context(), runB.ID); err != nil {
		t.Errorf("run of a disabled workflow: %v", err)
	}
	// Deploying again keeps them disabled and says so.
	p = mustDeploy(t, s, catalogYAML("a:public.a:@daily"), Options{}, false)
	if !p.Empty() || p.Kept != 2 || !strings.Contains(p.Summary(), "(2 disabled kept; --prune deletes them)") {
		t.Errorf("second plan = %s, %s", planJSON(p), p.Summary())
	}
	// c comes back: an update that re-enables it, with its history.
	p = mustDeploy(t, s, catalogYAML("a:public.a:@daily", "c:public.c:@daily"), Options{}, false)
	if got := planJSON(p); got != `{"create":[],"update":[{"name":"c","changes":["enabled"]}],"unchanged":["a"],"disable":[],"delete":[]}` {
		t.Errorf("re-enable plan = %s", got)
	}
	if d, _ := s.DeployedWorkflow(t.Context(), "c"); !d.Enabled {
		t.Errorf("c not re-enabled")
	}
	if wm, _, _ := s.Watermark(t.Context(), "c"); wm == nil || wm.Text != "2" {
		t.Errorf("c lost its watermark: %v", wm)
	}
	// --prune deletes the already-disabled b with its runs and watermark.
	p = mustDeploy(t, s, catalogYAML("a:public.a:@daily", "c:public.c:@daily"), Options{Prune: true}, false)
	if got := planJSON(p); got != `{"create":[],"update":[],"unchanged":["a","c"],"disable":[],"delete":["b"]}` {
		t.Errorf("prune plan = %s", got)
	}
	if _, err := s.DeployedWorkflow(t.Context(), "b"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("b after prune: %v", err)
	}
	if _, err := s.Run(t.Context(), runB.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("b's run after prune: %v", err)
	}
	if wm, _, _ := s.Watermark(t.Context(), "b"); wm != nil {
		t.Errorf("b's watermark after prune: %v", wm)
	}
	if _, err := s.Run(t.Context(), runC.ID); err != nil {
		t.Errorf("c's run after pruning b: %v", err)
	}
	// --prune also deletes a workflow that leaves the catalog in the same deploy.
	p = mustDeploy(t, s, catalogYAML("a:public.a:@daily"), Options{Prune: true}, false)
	if got := planJSON(p); got != `{"create":[],"update":[],"unchanged":["a"],"disable":[],"delete":["c"]}` {
		t.Errorf("prune of an enabled workflow = %s", got)
	}
}

func TestDeployAllowReset(t *testing.T) {
	s, _ := openState(t)
	mustDeploy(t, s, catalogYAML("a:public.a:@daily", "b:public.b:@daily"), Options{}, false)
	land(t, s, "a", "5")
	land(t, s, "b", "6")
	before := snapState(t, s)
	moved := catalogYAML("a:public.a_v2:@daily", "b:public.b:rate(1 hour)")
	p, err := deploy(t, s, moved, Options{}, false)
	var re *ResetError
	if !errors.As(err, &re) || !reflect.DeepEqual(re.Workflows, []string{"a"}) || !strings.Contains(err.Error(), "--allow-reset") {
		t.Fatalf("deploy of a changed table without --allow-reset: %v", err)
	}
	if got := planJSON(p); got != `{"create":[],"update":[{"name":"a","changes":["table"]},{"name":"b","changes":["schedule"]}],"unchanged":[],"disable":[],"delete":[]}` {
		t.Errorf("plan = %s", got)
	}
	if after := snapState(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused deploy changed the state (b's update must not apply alone)")
	}
	mustDeploy(t, s, moved, Options{}, true)
	if wm, _, _ := s.Watermark(t.Context(), "a"); wm != nil {
		t.Errorf("a's watermark survived --allow-reset: %v", wm)
	}
	if wm, _, _ := s.Watermark(t.Context(), "b"); wm == nil || wm.Text != "6" {
		t.Errorf("b's watermark: %v", wm)
	}
	if runs, _ := s.Runs(t.Context(), state.RunFilter{Workflow: "a"}); len(runs) != 1 {
		t.Errorf("a's runs after a reset: %d, want its 1 run kept", len(runs))
	}
	// A changed cursor resets too.
	_, err = deploy(t, s, strings.Replace(moved, "defaults: {cursor: updated_at}", "defaults: {cursor: modified_at}", 1), Options{}, false)
	if !errors.As(err, &re) || !reflect.DeepEqual(re.Workflows, []string{"a", "b"}) {
		t.Errorf("changed cursor: %v", err)
	}
}

// TestDeployAtomic makes the database refuse one insert in the middle of a
// deploy (after its deletes, disables and updates ran): nothing may change.
func TestDeployAtomic(t *testing.T) {
	s, path := openState(t)
	mustDeploy(t, s, catalogYAML("a:public.a:@daily", "b:public.b:@daily", "c:public.c:@daily"), Options{}, false)
	land(t, s, "c", "3")
	db, err := sql.Open("sqlite", statesqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TRIGGER wharf_test_refuse BEFORE INSERT ON wharf_workflows
		WHEN NEW.name = 'zz_boom' BEGIN SELECT RAISE(ABORT, 'test trigger refuses zz_boom'); END`); err != nil {
		t.Fatal(err)
	}
	before := snapState(t, s)
	next := catalogYAML("a:public.a:rate(1 hour)", "d:public.d:@daily", "zz_boom:public.boom:@daily")
	p, err := deploy(t, s, next, Options{Prune: true}, false)
	if err == nil || !strings.Contains(err.Error(), "deploy: create workflow zz_boom") ||
		!strings.Contains(err.Error(), "test trigger refuses zz_boom") || !strings.HasSuffix(err.Error(), "(nothing was deployed)") {
		t.Fatalf("deploy error = %v", err)
	}
	if got := planJSON(p); got != `{"create":["d","zz_boom"],"update":[{"name":"a","changes":["schedule"]}],"unchanged":[],"disable":[],"delete":["b","c"]}` {
		t.Errorf("plan = %s", got)
	}
	if after := snapState(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("a failed deploy changed the state:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := db.Exec(`DROP TRIGGER wharf_test_refuse`); err != nil {
		t.Fatal(err)
	}
	mustDeploy(t, s, next, Options{Prune: true}, false)
	if got := snapState(t, s); len(got.Deployed) != 3 || len(got.Runs) != 0 {
		t.Errorf("after the retried deploy: %d deployed, %d runs", len(got.Deployed), len(got.Runs))
	}
}

// TestDeployPlannedAgainstStaleStateConflicts: a plan applied after another
// deploy changed the workflows fails, changes nothing, and says to plan again.
func TestDeployPlannedAgainstStaleStateConflicts(t *testing.T) {
	s, _ := openState(t)
	mustDeploy(t, s, catalogYAML("a:public.a:on_demand", "b:public.b:on_demand"), Options{}, false)

	mine, _, err := Compute(t.Context(), s, parse(t, catalogYAML("a:public.a:on_demand", "b:public.b:rate(1 hour)")), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A colleague deploys first.
	mustDeploy(t, s, catalogYAML("a:public.a:rate(5 minutes)", "b:public.b:on_demand"), Options{}, false)
	before := snapState(t, s)

	err = Apply(t.Context(), s, mine, false)
	if !errors.Is(err, state.ErrDeployConflict) || !strings.Contains(err.Error(), "plan again") || !strings.Contains(err.Error(), "nothing was deployed") {
		t.Fatalf("stale plan: %v, want ErrDeployConflict", err)
	}
	if after := snapState(t, s); !reflect.DeepEqual(after, before) {
		t.Errorf("a conflicting deploy changed the state")
	}
}
