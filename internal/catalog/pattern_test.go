package catalog

import (
	"strings"
	"testing"
	"time"
)

func TestPatternsLoad(t *testing.T) {
	cat := mustLoad(t, "testdata/patterns.good.yaml")
	if len(cat.Workflows) != 1 || cat.Workflows[0].Name != "hr_special" {
		t.Fatalf("workflows: %s", dump(cat.Workflows))
	}
	if len(cat.Patterns) != 2 {
		t.Fatalf("patterns: %s", dump(cat.Patterns))
	}
	hr, shop := cat.Patterns[0], cat.Patterns[1]
	if hr.Name != "hr" || hr.Table != "public.*" || hr.Connection != "hr" || hr.Lake != "raw" ||
		hr.Cursor != "updated_at" || !hr.CursorAuto || hr.Schedule.Every != time.Hour || hr.Pos.Line != 16 {
		t.Errorf("hr pattern: %s", dump(hr))
	}
	if got := strings.Join(hr.Exclude, ","); got != "audit_log,tmp_*,public.flyway_schema_history" {
		t.Errorf("hr excludes: %s", got)
	}
	if shop.Name != "shop_{table}_v2" || strings.Join(shop.Exclude, ",") != "order_x" || shop.Schedule.Kind != OnDemand {
		t.Errorf("shop pattern: %s", dump(shop))
	}
	if len(cat.Notices) != 0 {
		t.Errorf("notices: %q (the patterns use both connections)", cat.Notices)
	}
}

func TestPatternMatch(t *testing.T) {
	p := &Pattern{Workflow: Workflow{Name: "hr", Table: "public.*"},
		Exclude: []string{"audit_log", "tmp_*", "public.flyway_schema_history"}}
	for table, want := range map[string]bool{
		"employees": true, "Mixed Case": true, "audit_log": false, "audit_log2": true,
		"tmp_": false, "tmp_x": false, "flyway_schema_history": false, "": true,
	} {
		if got := p.Match(table); got != want {
			t.Errorf("Match(%q) = %v, want %v", table, got, want)
		}
	}
	q := &Pattern{Workflow: Workflow{Name: "s_{table}_v2", Table: "order_?"}, Exclude: []string{"order_x"}}
	for table, want := range map[string]bool{"order_a": true, "order_x": false, "order_ab": false, "orders": false} {
		if got := q.Match(table); got != want {
			t.Errorf("Match(%q) = %v, want %v", table, got, want)
		}
	}
}

func TestPatternExpand(t *testing.T) {
	p := &Pattern{Workflow: Workflow{Name: "hr", Table: "public.*", Cursor: "updated_at", Connection: "hr"}}
	w := p.Expand("Mixed Case-1.x")
	if w.Name != "hr_Mixed_Case-1.x" || w.Table != `public."Mixed Case-1.x"` || w.Cursor != "updated_at" || w.Connection != "hr" {
		t.Errorf("Expand = %s", dump(w))
	}
	if p.Name != "hr" || p.Table != "public.*" {
		t.Errorf("Expand changed the pattern: %s", dump(p))
	}
	q := &Pattern{Workflow: Workflow{Name: "s_{table}_v2", Table: "*"}}
	if w := q.Expand("orders"); w.Name != "s_orders_v2" || w.Table != "orders" {
		t.Errorf("Expand = %s", dump(w))
	}
	// A dotted table name under a pattern without schema gets the listed schema.
	if w := q.Expand("a.b"); w.Name != "s_a.b_v2" || w.Table != `"a.b"` {
		t.Errorf("Expand dotted = %s", dump(w))
	}
	if w := q.Expand("ünï"); w.Name != "s__n__v2" {
		t.Errorf("Expand non-ASCII = %s", w.Name)
	}
}

func TestIsTablePattern(t *testing.T) {
	for table, want := range map[string]bool{
		"public.*": true, "*": true, "order_?": true, "s.t[ab]": true,
		"public.orders": false, "orders": false, "*.orders": false, "": false,
	} {
		if got := IsTablePattern(table); got != want {
			t.Errorf("IsTablePattern(%q) = %v, want %v", table, got, want)
		}
	}
}

func TestCheckName(t *testing.T) {
	if err := CheckName("hr_orders.v2-x"); err != nil {
		t.Error(err)
	}
	for name, want := range map[string]string{
		"":                       "workflow name is empty",
		"a b":                    `workflow name "a b" is not safe: use letters, digits, _ . -`,
		"-x":                     `workflow name "-x" must not start with "-"`,
		strings.Repeat("a", 129): "is 129 characters long: at most 128",
	} {
		if err := CheckName(name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckName(%q) = %v, want %q", name, err, want)
		}
	}
}
