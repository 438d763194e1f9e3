package deploy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/state"
)

// resolved returns a full spec for a workflow.
func resolved(name string) catalog.Resolved {
	return catalog.Resolved{
		Workflow: catalog.Workflow{Name: name, Connection: "hr", Table: "public." + name, Lake: "raw",
			Blueprint: "landing", Cursor: "updated_at", Lookback: time.Minute, Format: "parquet",
			Schedule: catalog.Schedule{Kind: catalog.Rate, Expr: "rate(1 hour)", Every: time.Hour}},
		Connection: catalog.Connection{Name: "hr", Engine: "postgres", Secret: "env:HR"},
		Lake:       catalog.Lake{Name: "raw", URL: "file:///lake", Compression: "zstd", RowGroupRows: 100, FileBytes: 1 << 20},
	}
}

func deployedAs(r catalog.Resolved, enabled bool) state.Deployed {
	return state.Deployed{ID: "id-" + r.Workflow.Name, Name: r.Workflow.Name, Spec: catalog.EncodeSpec(r), SpecHash: specHash(r), Enabled: enabled}
}

func specHash(r catalog.Resolved) string { return state.HashSpec(catalog.EncodeSpec(r)) }

func TestChangesNamesEveryField(t *testing.T) {
	for _, tc := range []struct {
		change func(r *catalog.Resolved)
		want   string
		reset  bool
	}{
		{func(r *catalog.Resolved) { r.Workflow.Connection, r.Connection.Name = "sales", "sales" }, "connection", false},
		{func(r *catalog.Resolved) { r.Workflow.Table = "public.other" }, "table", true},
		{func(r *catalog.Resolved) { r.Workflow.Cursor = "modified_at" }, "cursor", true},
		{func(r *catalog.Resolved) { r.Workflow.Cursor = "" }, "cursor", true},
		{func(r *catalog.Resolved) { r.Workflow.CursorAuto = true }, "defaults.cursor", false},
		{func(r *catalog.Resolved) { r.Workflow.Lookback = 0 }, "lookback", false},
		{func(r *catalog.Resolved) {
			r.Workflow.Schedule.Expr = "rate(2 hours)"
			r.Workflow.Schedule.Every = 2 * time.Hour
		}, "schedule", false},
		{func(r *catalog.Resolved) { r.Workflow.Schedule = catalog.Schedule{Kind: catalog.OnDemand} }, "schedule", false},
		{func(r *catalog.Resolved) { r.Workflow.Schedule.Dialect = "aws" }, "schedule", false},
		{func(r *catalog.Resolved) { r.Workflow.Schedule.TimeZone = "Europe/Paris" }, "timezone", false},
		{func(r *catalog.Resolved) { r.Workflow.PartitionBy = "region" }, "partition_by", false},
		{func(r *catalog.Resolved) { r.Workflow.Blueprint = "other" }, "blueprint", false},
		{func(r *catalog.Resolved) { r.Workflow.Format = "csv" }, "format", false},
		{func(r *catalog.Resolved) { r.Workflow.FileCountHint = 4 }, "file_count", false},
		{func(r *catalog.Resolved) { r.Connection.Engine = "mysql" }, "connection.engine", false},
		{func(r *catalog.Resolved) { r.Connection.Secret = "env:HR2" }, "connection.secret", false},
		{func(r *catalog.Resolved) { r.Workflow.Lake, r.Lake.Name = "cold", "cold" }, "lake", false},
		{func(r *catalog.Resolved) { r.Lake.URL = "s3://bucket/x" }, "lake.url", false},
		{func(r *catalog.Resolved) { r.Lake.Compression = "snappy" }, "lake.compression", false},
		{func(r *catalog.Resolved) { r.Lake.RowGroupRows = 7 }, "lake.row_group_rows", false},
		{func(r *catalog.Resolved) { r.Lake.FileBytes = 7 }, "lake.file_size", false},
		{func(r *catalog.Resolved) { r.Workflow.Pos = catalog.Pos{File: "x.yaml", Line: 9} }, "", false},
	} {
		old, new := resolved("w"), resolved("w")
		tc.change(&new)
		if got := strings.Join(Changes(old, new), ","); got != tc.want {
			t.Errorf("Changes for %s = %q", tc.want, got)
		}
		if got := ResetsWatermark(old, new); got != tc.reset {
			t.Errorf("ResetsWatermark for %s = %v, want %v", tc.want, got, tc.reset)
		}
		// Every named change is a change of the spec hash, and the other way round.
		if (tc.want != "") != (specHash(old) != specHash(new)) {
			t.Errorf("%s: changes %q but spec hash changed: %v", tc.want, tc.want, specHash(old) != specHash(new))
		}
	}
	// Several at once come in the documented order.
	old, new := resolved("w"), resolved("w")
	new.Lake.URL, new.Workflow.Table, new.Workflow.Schedule.TimeZone = "file:///x", "public.y", "UTC"
	if got := strings.Join(Changes(old, new), ","); got != "table,timezone,lake.url" {
		t.Errorf("Changes = %s", got)
	}
	// One table written another way (quoted) is no change of table and
	// resets nothing.
	old, new = resolved("w"), resolved("w")
	new.Workflow.Table = `"public"."w"`
	if got := Changes(old, new); len(got) != 0 || ResetsWatermark(old, new) {
		t.Errorf("public.w quoted: Changes = %v, ResetsWatermark = %v", got, ResetsWatermark(old, new))
	}
}

func TestPlanEveryKind(t *testing.T) {
	changed := resolved("b_update")
	changed.Workflow.Schedule = catalog.Schedule{Kind: catalog.Cron, Expr: "@daily", Dialect: "standard"}
	changed.Lake.URL = "file:///elsewhere"
	moved := resolved("c_reset")
	moved.Workflow.Table = "public.c_reset_v2"
	back := resolved("e_back")
	want := []catalog.Resolved{resolved("a_new"), changed, moved, resolved("d_same"), back, resolved("g_back_changed")}
	backChanged := resolved("g_back_changed")
	backChanged.Connection.Secret = "env:OLD"
	deployed := []state.Deployed{
		deployedAs(resolved("b_update"), true),
		deployedAs(resolved("c_reset"), true),
		deployedAs(resolved("d_same"), true),
		deployedAs(back, false),
		deployedAs(resolved("f_gone"), true),
		deployedAs(backChanged, false),
		deployedAs(resolved("h_long_gone"), false),
	}
	p, err := New(want, deployed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p)
	wantJSON := `{"create":["a_new"],"update":[{"name":"b_update","changes":["schedule","lake.url"]},` +
		`{"name":"c_reset","changes":["table"]},{"name":"e_back","changes":["enabled"]},` +
		`{"name":"g_back_changed","changes":["enabled","connection.secret"]}],` +
		`"unchanged":["d_same"],"disable":["f_gone"],"delete":[]}`
	if string(got) != wantJSON {
		t.Errorf("plan JSON =\n%s\nwant\n%s", got, wantJSON)
	}
	if !reflect.DeepEqual(p.Resets, []string{"c_reset"}) || !p.Update[1].ResetsWatermark || p.Update[0].ResetsWatermark {
		t.Errorf("resets = %v, updates %+v", p.Resets, p.Update)
	}
	if p.Kept != 1 || p.Summary() != "1 to create, 4 to update, 1 unchanged, 1 to disable, 0 to delete (1 disabled kept; --prune deletes them)." {
		t.Errorf("Kept %d, Summary %q", p.Kept, p.Summary())
	}
	if !reflect.DeepEqual(p.Create[0].Spec, resolved("a_new")) || !reflect.DeepEqual(p.Update[0].Spec, changed) {
		t.Errorf("plan items carry the wrong specs: %+v", p.Create[0])
	}

	// --prune deletes what is not in the catalog, disabled already or not.
	p, err = New(want, deployed, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	j := p.JSON()
	if !reflect.DeepEqual(j.Delete, []string{"f_gone", "h_long_gone"}) || len(j.Disable) != 0 || p.Kept != 0 {
		t.Errorf("prune plan = %+v", j)
	}

	// Changes: resets need allowReset.
	_, err = p.Changes(false)
	var re *ResetError
	if !errors.As(err, &re) || err.Error() != "workflow c_reset: the cursor column or source table changed, which resets the watermark (the next run is a full load); deploy with --allow-reset to apply (nothing was deployed)" {
		t.Errorf("Changes(false) error = %v", err)
	}
	c, err := p.Changes(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Create) != 1 || len(c.Update) != 4 || !reflect.DeepEqual(c.Delete, []string{"f_gone", "h_long_gone"}) ||
		!reflect.DeepEqual(c.ResetWatermark, []string{"c_reset"}) || c.Update[2].Name != "e_back" {
		t.Errorf("Changes(true) = %+v", c)
	}
}

func TestPlanEmptyJSONLists(t *testing.T) {
	p, err := New(nil, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p)
	if string(got) != `{"create":[],"update":[],"unchanged":[],"disable":[],"delete":[]}` || !p.Empty() {
		t.Errorf("empty plan JSON = %s", got)
	}
	if p.Summary() != "0 to create, 0 to update, 0 unchanged, 0 to disable, 0 to delete." {
		t.Errorf("Summary = %q", p.Summary())
	}
}

func TestPlanSpecEncodingOnly(t *testing.T) {
	// Same settings, a stored hash from another encoding: rewritten as "spec".
	d := deployedAs(resolved("a"), true)
	d.SpecHash = "0000"
	p, err := New([]catalog.Resolved{resolved("a")}, []state.Deployed{d}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Update) != 1 || !reflect.DeepEqual(p.Update[0].Changes, []string{"spec"}) {
		t.Errorf("plan = %+v", p.JSON())
	}
	if _, err := New([]catalog.Resolved{resolved("a"), resolved("a")}, nil, Options{}); err == nil ||
		err.Error() != "plan: workflow a is in the catalog twice" {
		t.Errorf("duplicate: %v", err)
	}
}
