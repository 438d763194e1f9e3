package statetest

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/state"
)

// spec returns the canonical spec of a workflow with every field set.
func spec(name string) []byte { return catalog.EncodeSpec(resolved(name)) }

// resolved returns a resolved workflow with every field set.
func resolved(name string) catalog.Resolved {
	return catalog.Resolved{
		Workflow: catalog.Workflow{
			Name: name, Connection: "hr", Table: "public." + name + " \"ünï\"", Lake: "raw", Blueprint: "landing",
			Cursor: "updated_at", CursorAuto: true, Lookback: 90 * time.Second, PartitionBy: "region",
			Format: "parquet", FileCountHint: 3,
			Schedule: catalog.Schedule{Kind: catalog.Cron, Expr: "cron(10 21 * * ? *)", Dialect: "aws",
				Every: 15 * time.Minute, TimeZone: "Europe/Paris"},
		},
		Connection: catalog.Connection{Name: "hr", Engine: "postgres", Secret: "env:HR_DSN"},
		Lake: catalog.Lake{Name: "raw", URL: "file:///lake/<raw>&", Compression: "zstd",
			RowGroupRows: 1000, FileBytes: 1 << 28},
	}
}

func deployed(name string) state.Deployed { return state.Deployed{Name: name, Spec: spec(name)} }

func apply(t *testing.T, s state.Store, c state.DeployChanges) {
	t.Helper()
	if err := s.ApplyDeploy(t.Context(), c); err != nil {
		t.Fatalf("ApplyDeploy: %v", err)
	}
}

func mustDeployed(t *testing.T, s state.Store) []state.Deployed {
	t.Helper()
	ds, err := s.DeployedWorkflows(t.Context())
	if err != nil {
		t.Fatalf("DeployedWorkflows: %v", err)
	}
	return ds
}

func mustDeployedOne(t *testing.T, s state.Store, name string) *state.Deployed {
	t.Helper()
	d, err := s.DeployedWorkflow(t.Context(), name)
	if err != nil {
		t.Fatalf("DeployedWorkflow(%s): %v", name, err)
	}
	return d
}

// snapshot is everything a deploy can change, to compare before and after.
type snapshot struct {
	Deployed   []state.Deployed
	Runs       []state.Run
	Watermarks map[string]string
}

func snap(t *testing.T, s state.Store, workflows ...string) snapshot {
	t.Helper()
	runs, err := s.Runs(t.Context(), state.RunFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	wms := map[string]string{}
	for _, wf := range workflows {
		wm, cursor, err := s.Watermark(t.Context(), wf)
		if err != nil {
			t.Fatal(err)
		}
		if wm != nil {
			wms[wf] = cursor + "=" + wm.Text
		}
	}
	return snapshot{mustDeployed(t, s), runs, wms}
}

func testDeployRoundTrip(t *testing.T, b Backend) {
	s := fresh(t, b)
	if ds := mustDeployed(t, s); len(ds) != 0 {
		t.Fatalf("fresh store has %d deployed workflows", len(ds))
	}
	before := time.Now().Add(-time.Second)
	given := deployed("b_given_id")
	given.ID = "0199a000-0000-7000-8000-00000000beef"
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("c"), given, {Name: "a_no_name", Spec: spec("a_no_name")}}})
	ds := mustDeployed(t, s)
	if len(ds) != 3 {
		t.Fatalf("DeployedWorkflows = %d, want 3", len(ds))
	}
	ids := map[string]bool{}
	for i, want := range []string{"a_no_name", "b_given_id", "c"} {
		d := ds[i]
		if d.Name != want {
			t.Fatalf("DeployedWorkflows[%d] = %s, want %s (ordered by name)", i, d.Name, want)
		}
		if !reflect.DeepEqual(d.Spec, spec(want)) {
			t.Errorf("%s: Spec = %+v\nwant %+v", want, d.Spec, spec(want))
		}
		if d.SpecHash != state.HashSpec(spec(want)) || len(d.SpecHash) != 64 {
			t.Errorf("%s: SpecHash = %q, want %q", want, d.SpecHash, state.HashSpec(spec(want)))
		}
		if !d.Enabled || d.CreatedAt.Before(before) || !d.UpdatedAt.Equal(d.CreatedAt) ||
			d.CreatedAt.Location() != time.UTC || d.CreatedAt != d.CreatedAt.Truncate(time.Microsecond) {
			t.Errorf("%s: Enabled %v CreatedAt %v UpdatedAt %v; want enabled, now, equal, UTC µs", want, d.Enabled, d.CreatedAt, d.UpdatedAt)
		}
		if !d.LastFireAt.IsZero() || !d.NextFireAt.IsZero() {
			t.Errorf("%s: fire times %v, %v; want zero", want, d.LastFireAt, d.NextFireAt)
		}
		if d.ID == "" || ids[d.ID] {
			t.Errorf("%s: ID %q empty or not unique", want, d.ID)
		}
		ids[d.ID] = true
		one := mustDeployedOne(t, s, want)
		if !reflect.DeepEqual(*one, d) {
			t.Errorf("DeployedWorkflow(%s) = %+v, want %+v", want, *one, d)
		}
	}
	if ds[1].ID != given.ID {
		t.Errorf("given ID %s became %s", given.ID, ds[1].ID)
	}
	if len(ds[0].ID) != 36 || ds[0].ID[14] != '7' {
		t.Errorf("assigned ID %q is not a UUIDv7", ds[0].ID)
	}
	_, err := s.DeployedWorkflow(t.Context(), "nope")
	if !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("DeployedWorkflow(nope) error = %v, want ErrNotFound naming it", err)
	}
	// Zero-valued specs (on-demand, no cursor) round-trip too.
	bare := catalog.Resolved{Workflow: catalog.Workflow{Name: "bare", Schedule: catalog.Schedule{Kind: catalog.OnDemand}}}
	apply(t, s, state.DeployChanges{Create: []state.Deployed{{Name: "bare", Spec: catalog.EncodeSpec(bare)}}})
	if got := mustDeployedOne(t, s, "bare").Spec; string(got) != string(catalog.EncodeSpec(bare)) {
		t.Errorf("bare spec = %s, want %s", got, catalog.EncodeSpec(bare))
	}
}

func testDeployUpdateKeepsHistory(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("orders"), deployed("other")}})
	orig := mustDeployedOne(t, s, "orders")
	last, next := base.UTC().Truncate(time.Microsecond), base.Add(time.Hour).UTC().Truncate(time.Microsecond)
	if err := s.SetFireTimes(t.Context(), "orders", last, next); err != nil {
		t.Fatalf("SetFireTimes: %v", err)
	}
	r := startRun(t, s, "orders", base)
	wm := &coltype.Watermark{Kind: coltype.Int64, Text: "42"}
	if err := s.CommitRun(t.Context(), r, []state.File{{Path: "p/1.parquet", Rows: 1, Bytes: 2}}, wm, "id"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // UpdatedAt must move past CreatedAt
	res := resolved("orders")
	res.Workflow.Schedule = catalog.Schedule{Kind: catalog.Rate, Expr: "rate(5 minutes)", Every: 5 * time.Minute}
	res.Lake.URL = "file:///elsewhere"
	changed := catalog.EncodeSpec(res)
	apply(t, s, state.DeployChanges{Update: []state.Deployed{{Name: "orders", Spec: changed}}})
	got := mustDeployedOne(t, s, "orders")
	if got.ID != orig.ID || !got.CreatedAt.Equal(orig.CreatedAt) || !got.UpdatedAt.After(orig.UpdatedAt) {
		t.Errorf("after update: ID %s CreatedAt %v UpdatedAt %v; want ID %s, CreatedAt %v, UpdatedAt later",
			got.ID, got.CreatedAt, got.UpdatedAt, orig.ID, orig.CreatedAt)
	}
	if !reflect.DeepEqual(got.Spec, changed) || got.SpecHash != state.HashSpec(changed) || got.SpecHash == orig.SpecHash {
		t.Errorf("after update: spec %+v hash %s; want the new spec", got.Spec, got.SpecHash)
	}
	if !got.LastFireAt.Equal(last) || !got.NextFireAt.Equal(next) || got.NextFireAt.Location() != time.UTC {
		t.Errorf("after update: fire times %v, %v; want %v, %v kept (UTC)", got.LastFireAt, got.NextFireAt, last, next)
	}
	checkWatermark(t, s, "orders", wm, "id")
	if runs, _ := s.Runs(t.Context(), state.RunFilter{Workflow: "orders"}); len(runs) != 1 || len(mustFiles(t, s, r.ID)) != 1 {
		t.Errorf("after update: %d runs, want the 1 run and its file kept", len(runs))
	}
	// Disable keeps everything but Enabled; an update re-enables.
	apply(t, s, state.DeployChanges{Disable: []string{"orders"}})
	dis := mustDeployedOne(t, s, "orders")
	if dis.Enabled || dis.ID != orig.ID || !reflect.DeepEqual(dis.Spec, changed) || !dis.NextFireAt.Equal(next) {
		t.Errorf("after disable: %+v", dis)
	}
	checkWatermark(t, s, "orders", wm, "id")
	// Disabling again changes nothing, not even UpdatedAt.
	apply(t, s, state.DeployChanges{Disable: []string{"orders"}})
	if again := mustDeployedOne(t, s, "orders"); !reflect.DeepEqual(again, dis) {
		t.Errorf("second disable changed %+v into %+v", dis, again)
	}
	apply(t, s, state.DeployChanges{Update: []state.Deployed{deployed("orders")}})
	if re := mustDeployedOne(t, s, "orders"); !re.Enabled || re.ID != orig.ID || !reflect.DeepEqual(re.Spec, spec("orders")) {
		t.Errorf("after re-enable: %+v", re)
	}
	if other := mustDeployedOne(t, s, "other"); !reflect.DeepEqual(other.Spec, spec("other")) || !other.UpdatedAt.Equal(other.CreatedAt) {
		t.Errorf("other workflow changed: %+v", other)
	}
}

func testDeployDeleteAndReset(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("gone"), deployed("kept"), deployed("reset")}})
	runs := map[string]*state.Run{}
	for _, wf := range []string{"gone", "kept", "reset"} {
		r := startRun(t, s, wf, base)
		if err := s.CommitRun(t.Context(), r, []state.File{{Path: wf + "/1.parquet"}}, &coltype.Watermark{Kind: coltype.Int64, Text: "7"}, "id"); err != nil {
			t.Fatal(err)
		}
		runs[wf] = r
	}
	apply(t, s, state.DeployChanges{Disable: []string{"gone"}})
	apply(t, s, state.DeployChanges{Delete: []string{"gone"}, ResetWatermark: []string{"reset"}})
	if _, err := s.DeployedWorkflow(t.Context(), "gone"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("deleted workflow still deployed: %v", err)
	}
	if _, err := s.Run(t.Context(), runs["gone"].ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("run of the deleted workflow kept: %v", err)
	}
	if runs, _ := s.Runs(t.Context(), state.RunFilter{Workflow: "gone"}); len(runs) != 0 {
		t.Errorf("deleted workflow has %d runs", len(runs))
	}
	checkWatermark(t, s, "gone", nil, "")
	checkWatermark(t, s, "reset", nil, "")
	checkWatermark(t, s, "kept", &coltype.Watermark{Kind: coltype.Int64, Text: "7"}, "id")
	if d := mustDeployedOne(t, s, "reset"); !d.Enabled {
		t.Errorf("reset workflow disabled")
	}
	for _, wf := range []string{"kept", "reset"} {
		if got := mustFiles(t, s, runs[wf].ID); len(got) != 1 {
			t.Errorf("workflow %s has %d files, want 1", wf, len(got))
		}
	}
	// A deleted name can be created again, with a new ID.
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("gone")}})
	if d := mustDeployedOne(t, s, "gone"); !d.Enabled {
		t.Errorf("re-created workflow: %+v", d)
	}
	// Delete of an enabled workflow works too (prune decides what to delete).
	apply(t, s, state.DeployChanges{Delete: []string{"kept"}})
	checkWatermark(t, s, "kept", nil, "")
}

func testDeployAtomic(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("a"), deployed("b"), deployed("c")}})
	r := startRun(t, s, "c", base)
	if err := s.CommitRun(t.Context(), r, nil, &coltype.Watermark{Kind: coltype.Int64, Text: "1"}, "id"); err != nil {
		t.Fatal(err)
	}
	res := resolved("a")
	res.Workflow.Table = "public.changed"
	upd := catalog.EncodeSpec(res)
	good := state.DeployChanges{
		Create:         []state.Deployed{deployed("new1"), deployed("new2")},
		Update:         []state.Deployed{{Name: "a", Spec: upd}},
		Disable:        []string{"b"},
		Delete:         []string{"c"},
		ResetWatermark: []string{"a"},
	}
	for _, tc := range []struct {
		name    string
		mutate  func(c *state.DeployChanges)
		want    string
		wantErr error
	}{
		{"update of a name not deployed", func(c *state.DeployChanges) {
			c.Update = append(c.Update, deployed("missing"))
		}, "update workflow missing: not deployed", state.ErrNotFound},
		{"disable of a name not deployed", func(c *state.DeployChanges) {
			c.Disable = append(c.Disable, "missing")
		}, "disable workflow missing: not deployed", state.ErrNotFound},
		{"delete of a name not deployed", func(c *state.DeployChanges) {
			c.Delete = append(c.Delete, "missing")
		}, "delete workflow missing: not deployed", state.ErrNotFound},
		{"create of a deployed name", func(c *state.DeployChanges) {
			c.Create = append(c.Create, deployed("b"))
		}, "workflow b is listed twice (create and disable)", nil},
		{"create of a deployed name (last)", func(c *state.DeployChanges) {
			c.Disable = nil
			c.Create = append(c.Create, deployed("b"))
		}, "create workflow b: already deployed", state.ErrAlreadyDeployed},
		{"duplicate create", func(c *state.DeployChanges) {
			c.Create = append(c.Create, deployed("new1"))
		}, "workflow new1 is listed twice", nil},
		{"duplicate ID", func(c *state.DeployChanges) {
			c.Create[0].ID = mustDeployedOne(t, s, "b").ID
		}, "ID", nil},
		{"spec not JSON", func(c *state.DeployChanges) {
			c.Update[0].Spec = []byte(`{"workflow":`)
		}, `update workflow a: its spec must be JSON`, nil},
		{"wrong SpecHash", func(c *state.DeployChanges) {
			c.Create[1].SpecHash = "00"
		}, "create workflow new2: SpecHash 00 does not match its spec", nil},
		{"reset of a deleted workflow", func(c *state.DeployChanges) {
			c.ResetWatermark = append(c.ResetWatermark, "c")
		}, "workflow c is listed twice (delete and reset watermark)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := snap(t, s, "a", "b", "c", "new1", "new2")
			c := good
			c.Create = append([]state.Deployed(nil), good.Create...)
			c.Update = append([]state.Deployed(nil), good.Update...)
			c.Disable = append([]string(nil), good.Disable...)
			c.Delete = append([]string(nil), good.Delete...)
			c.ResetWatermark = append([]string(nil), good.ResetWatermark...)
			tc.mutate(&c)
			err := s.ApplyDeploy(t.Context(), c)
			if err == nil || !strings.HasPrefix(err.Error(), "deploy: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ApplyDeploy error = %v, want one starting with \"deploy: \" containing %q", err, tc.want)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("ApplyDeploy error = %v, want it to wrap %v", err, tc.wantErr)
			}
			if after := snap(t, s, "a", "b", "c", "new1", "new2"); !reflect.DeepEqual(after, before) {
				t.Fatalf("a failed ApplyDeploy changed the state:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	// The good one applies as a whole.
	apply(t, s, good)
	ds := mustDeployed(t, s)
	var got []string
	for _, d := range ds {
		got = append(got, fmt.Sprintf("%s:%v", d.Name, d.Enabled))
	}
	if want := "a:true b:false new1:true new2:true"; strings.Join(got, " ") != want {
		t.Errorf("after the deploy: %s, want %s", strings.Join(got, " "), want)
	}
	checkWatermark(t, s, "c", nil, "")
}

func testDeployIdempotent(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("a"), deployed("b")}})
	before := snap(t, s, "a", "b")
	// An empty deploy changes nothing.
	apply(t, s, state.DeployChanges{})
	if after := snap(t, s, "a", "b"); !reflect.DeepEqual(after, before) {
		t.Fatalf("empty deploy changed the state:\nbefore %+v\nafter  %+v", before, after)
	}
	// Creating what exists fails and changes nothing, as often as tried.
	for range 2 {
		err := s.ApplyDeploy(t.Context(), state.DeployChanges{Create: []state.Deployed{deployed("a")}})
		if !errors.Is(err, state.ErrAlreadyDeployed) {
			t.Fatalf("second create: %v, want ErrAlreadyDeployed", err)
		}
	}
	if after := snap(t, s, "a", "b"); !reflect.DeepEqual(after, before) {
		t.Fatalf("failed creates changed the state")
	}
	// The same update twice gives the same workflow (but for UpdatedAt).
	upd := state.DeployChanges{Update: []state.Deployed{{Name: "a", Spec: spec("a")}}}
	apply(t, s, upd)
	first := mustDeployedOne(t, s, "a")
	apply(t, s, upd)
	second := mustDeployedOne(t, s, "a")
	first.UpdatedAt, second.UpdatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(first, second) || first.ID != before.Deployed[0].ID {
		t.Errorf("repeated update: %+v then %+v", first, second)
	}
}

func testDeployConcurrentCreate(t *testing.T, b Backend) {
	url := b.NewURL(t)
	s1, s2 := open(t, b, url), open(t, b, url)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, s := range []state.Store{s1, s2} {
		wg.Go(func() {
			errs[i] = s.ApplyDeploy(t.Context(), state.DeployChanges{Create: []state.Deployed{deployed("x"), deployed(fmt.Sprint("only", i))}})
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			if !errors.Is(err, state.ErrAlreadyDeployed) {
				t.Fatalf("concurrent create: %v, want ErrAlreadyDeployed", err)
			}
			failed++
		}
	}
	if ds := mustDeployed(t, s1); failed != 1 || len(ds) != 2 {
		t.Fatalf("concurrent creates: %d failed, %d deployed; want 1 failed and 2 deployed (x and the winner's own)", failed, len(ds))
	}
}

func testSetFireTimes(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("a"), deployed("b")}})
	last, next := base, base.Add(90*time.Minute) // sub-microsecond digits, not UTC
	if err := s.SetFireTimes(t.Context(), "a", last, next); err != nil {
		t.Fatal(err)
	}
	d := mustDeployedOne(t, s, "a")
	if !d.LastFireAt.Equal(last.Truncate(time.Microsecond)) || !d.NextFireAt.Equal(next.Truncate(time.Microsecond)) ||
		d.LastFireAt.Location() != time.UTC || d.LastFireAt != d.LastFireAt.Truncate(time.Microsecond) {
		t.Errorf("fire times = %v, %v; want %v, %v (UTC µs)", d.LastFireAt, d.NextFireAt, last, next)
	}
	if b := mustDeployedOne(t, s, "b"); !b.LastFireAt.IsZero() || !b.NextFireAt.IsZero() {
		t.Errorf("other workflow's fire times set: %v, %v", b.LastFireAt, b.NextFireAt)
	}
	// Zero clears (e.g. the schedule became on-demand).
	if err := s.SetFireTimes(t.Context(), "a", last, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d := mustDeployedOne(t, s, "a"); !d.NextFireAt.IsZero() || !d.LastFireAt.Equal(last.Truncate(time.Microsecond)) {
		t.Errorf("after clearing next: %v, %v", d.LastFireAt, d.NextFireAt)
	}
	err := s.SetFireTimes(t.Context(), "missing", last, next)
	if !errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("SetFireTimes of a workflow not deployed: %v", err)
	}
}

// basisOf is the Basis a deploy planned against the store's current
// workflows would carry.
func basisOf(t *testing.T, s state.Store) map[string]string {
	t.Helper()
	b := map[string]string{}
	for _, d := range mustDeployed(t, s) {
		b[d.Name] = state.BasisKey(d.SpecHash, d.Enabled)
	}
	return b
}

func testDeployBasisConflict(t *testing.T, b Backend) {
	s := fresh(t, b)
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("a"), deployed("b")}})
	stale := basisOf(t, s)

	// Someone else deploys in between: an update of a, a create of c.
	res := resolved("a")
	res.Workflow.Cursor = "modified_at"
	apply(t, s, state.DeployChanges{Update: []state.Deployed{{Name: "a", Spec: catalog.EncodeSpec(res)}}})
	before := snap(t, s, "a", "b", "c")

	for _, c := range []state.DeployChanges{
		{Create: []state.Deployed{deployed("c")}, Basis: stale},
		{Disable: []string{"b"}, Basis: stale},
		{Update: []state.Deployed{deployed("a")}, Basis: stale},
	} {
		err := s.ApplyDeploy(t.Context(), c)
		if !errors.Is(err, state.ErrDeployConflict) || !strings.Contains(err.Error(), "workflow a") {
			t.Fatalf("deploy planned against a stale state: %v, want ErrDeployConflict naming a", err)
		}
		if after := snap(t, s, "a", "b", "c"); !reflect.DeepEqual(after, before) {
			t.Fatalf("a conflicting deploy changed the state")
		}
	}
	// Planned against the current state, the same change applies.
	apply(t, s, state.DeployChanges{Create: []state.Deployed{deployed("c")}, Basis: basisOf(t, s)})
	// A workflow created meanwhile is a conflict too.
	err := s.ApplyDeploy(t.Context(), state.DeployChanges{Disable: []string{"b"}, Basis: before.basisWithout("c")})
	if !errors.Is(err, state.ErrDeployConflict) || !strings.Contains(err.Error(), "workflow c") {
		t.Fatalf("deploy unaware of c: %v, want ErrDeployConflict naming c", err)
	}
}

// basisWithout is the basis of the snapshot's deployed workflows, less one.
func (sn snapshot) basisWithout(name string) map[string]string {
	b := map[string]string{}
	for _, d := range sn.Deployed {
		if d.Name != name {
			b[d.Name] = state.BasisKey(d.SpecHash, d.Enabled)
		}
	}
	return b
}
