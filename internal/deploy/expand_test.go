package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/source"
)

func parse(t *testing.T, yaml string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Parse("c.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	return cat
}

// fakeLister serves tables per "connection/schema" and counts calls.
type fakeLister struct {
	tables map[string][]source.TableRef
	calls  int
}

func (f *fakeLister) Tables(_ context.Context, conn *catalog.Connection, schema string) ([]source.TableRef, error) {
	f.calls++
	ts, ok := f.tables[conn.Name+"/"+schema]
	if !ok {
		return nil, fmt.Errorf("schema %q: %w", schema, source.ErrNotFound)
	}
	return ts, nil
}

func refs(schema string, names ...string) []source.TableRef {
	out := make([]source.TableRef, len(names))
	for i, n := range names {
		out[i] = source.TableRef{Schema: schema, Name: n}
	}
	return out
}

const patternCatalog = `
connections:
  hr: {engine: postgres, secret: env:HR}
  shop: {engine: sqlite, secret: env:SHOP}
lakes:
  raw: {url: "file:///lake"}
defaults: {lake: raw, cursor: updated_at}
workflows:
  - name: hr
    connection: hr
    table: "public.*"
    exclude: [audit_log, "tmp_*"]
    schedule: rate(1 hour)
  - name: "shop_{table}"
    connection: shop
    table: "*"
  - name: hr_special
    connection: hr
    table: public.employees
    cursor: modified_at
  - name: hr_also_public
    connection: hr
    table: public.regions_x
`

func names(rs []catalog.Resolved) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Workflow.Name+"="+r.Workflow.Table)
	}
	return strings.Join(out, " ")
}

func TestExpand(t *testing.T) {
	cat := parse(t, patternCatalog)
	l := &fakeLister{tables: map[string][]source.TableRef{
		"hr/public": refs("public", "audit_log", "countries", "employees", "regions_x", "tmp_1", "Mixed Case"),
		"shop/":     refs("main", "orders", "order.items"),
	}}
	e, err := Expand(t.Context(), cat, l)
	if err != nil {
		t.Fatal(err)
	}
	want := "hr_special=public.employees hr_also_public=public.regions_x " +
		"hr_countries=public.countries hr_Mixed_Case=public.Mixed Case " +
		"shop_orders=orders shop_order.items=\"order.items\""
	if got := names(e.Workflows); got != want {
		t.Errorf("Expand =\n%s\nwant\n%s", got, want)
	}
	c := e.Workflows[2]
	if c.Workflow.Cursor != "updated_at" || !c.Workflow.CursorAuto || c.Workflow.Schedule.Expr != "rate(1 hour)" ||
		c.Connection.Name != "hr" || c.Connection.Secret != "env:HR" || c.Lake.URL != "file:///lake" {
		t.Errorf("expanded workflow settings: %+v", c)
	}
	if len(e.Notes) != 0 || l.calls != 2 {
		t.Errorf("notes %q, %d listings", e.Notes, l.calls)
	}
}

func TestExpandErrors(t *testing.T) {
	two := patternCatalog + `
  - name: hr
    connection: hr
    table: "public.c*"
`
	for _, tc := range []struct {
		name, yaml string
		tables     map[string][]source.TableRef
		want       string
	}{
		{"listing fails", patternCatalog, map[string][]source.TableRef{"shop/": nil},
			`table pattern hr (c.yaml:9, table "public.*"): list tables of connection hr: schema "public": not found`},
		{"name collision with an explicit workflow", patternCatalog + `
  - name: hr_countries
    connection: shop
    table: countries
`, map[string][]source.TableRef{"hr/public": refs("public", "countries"), "shop/": nil},
			`table pattern hr (c.yaml:9, table "public.*"): table public.countries would be workflow hr_countries, a name taken by workflow hr_countries (c.yaml:25); exclude the table or change the name template`},
		{"collision between patterns", two, map[string][]source.TableRef{
			"hr/public": refs("public", "countries"), "shop/": nil},
			`table pattern hr (c.yaml:25, table "public.c*"): table public.countries would be workflow hr_countries, a name taken by table pattern hr (c.yaml:9, table "public.*") for table public.countries`},
		{"name too long", patternCatalog, map[string][]source.TableRef{
			"hr/public": refs("public", strings.Repeat("x", 126)), "shop/": nil},
			"is 129 characters long: at most 128; exclude the table or write a workflow for it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Expand(t.Context(), parse(t, tc.yaml), &fakeLister{tables: tc.tables})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Expand error =\n%v\nwant it to contain\n%s", err, tc.want)
			}
			if tc.name == "listing fails" && !errors.Is(err, source.ErrNotFound) {
				t.Errorf("error does not wrap the lister's: %v", err)
			}
		})
	}
	if _, err := Expand(t.Context(), parse(t, patternCatalog), nil); err == nil ||
		!strings.Contains(err.Error(), "cannot list the tables of connection hr") {
		t.Errorf("nil lister: %v", err)
	}
}

func TestExpandNoMatchNote(t *testing.T) {
	cat := parse(t, patternCatalog)
	e, err := Expand(t.Context(), cat, &fakeLister{tables: map[string][]source.TableRef{
		"hr/public": refs("public", "audit_log"), "shop/": nil}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`table pattern hr (c.yaml:9, table "public.*") matches no table of connection hr`,
		`table pattern shop_{table} (c.yaml:14, table "*") matches no table of connection shop`,
	}
	if strings.Join(e.Notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes =\n%s\nwant\n%s", strings.Join(e.Notes, "\n"), strings.Join(want, "\n"))
	}
}

func TestExpandWithoutPatternsNeedsNoLister(t *testing.T) {
	cat := parse(t, `
connections: {hr: {engine: postgres, secret: env:HR}}
lakes: {raw: {url: "file:///lake"}}
workflows:
  - {name: b, table: public.b}
  - {name: a, table: public.a}
`)
	e, err := Expand(t.Context(), cat, nil)
	if err != nil || names(e.Workflows) != "b=public.b a=public.a" {
		t.Fatalf("Expand = %v, %v", e, err)
	}
}
