package sourcepostgres

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/source"
)

func TestTables(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := t.Context()
	empty, err := src.Tables(ctx, "")
	if err != nil || len(empty) != 0 {
		t.Fatalf("Tables of an empty schema = %v, %v; want none", empty, err)
	}
	for _, stmt := range []string{
		`CREATE TABLE orders (id int)`,
		`CREATE TABLE "Mixed Case" (id int)`,
		`CREATE TABLE order_items (id int)`,
		`CREATE VIEW orders_view AS SELECT * FROM orders`,
		`CREATE MATERIALIZED VIEW orders_mv AS SELECT * FROM orders`,
		`CREATE TABLE events (id int, at date) PARTITION BY RANGE (at)`,
		`CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')`,
		`CREATE SEQUENCE a_seq`,
	} {
		mustExec(t, db, stmt)
	}
	var got []string
	for _, schema := range []string{"", db.schema} {
		refs, err := src.Tables(ctx, schema)
		if err != nil {
			t.Fatalf("Tables(%q): %v", schema, err)
		}
		var names []string
		for _, r := range refs {
			if r.Schema != db.schema {
				t.Errorf("Tables(%q): %v has schema %q, want %q", schema, r, r.Schema, db.schema)
			}
			names = append(names, r.Name)
		}
		got = append(got, strings.Join(names, ","))
	}
	// Byte order; no views, sequences or partitions; the partitioned parent is in.
	want := "Mixed Case,events,order_items,orders"
	if got[0] != want || got[1] != want {
		t.Errorf("Tables = %q and %q, want %q", got[0], got[1], want)
	}
	_, err = src.Tables(ctx, "no_such_schema")
	if !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), "schema no_such_schema") {
		t.Errorf("Tables of a missing schema: %v", err)
	}
	if _, err := src.Tables(ctx, fmt.Sprintf("%s'; DROP TABLE orders; --", db.schema)); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Tables with a quote in the schema: %v", err)
	}
}

// TestDescribeSuggestsTheNameInAnotherCase: PUBLIC.REGIONS for
// public.regions names the existing table.
func TestDescribeSuggestsTheNameInAnotherCase(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, `CREATE TABLE regions (id int)`)
	upper := strings.ToUpper(db.schema)
	_, err := src.Describe(t.Context(), source.TableRef{Schema: upper, Name: "REGIONS"})
	want := fmt.Sprintf(`table %s.REGIONS: no table or view "REGIONS" in schema %s (did you mean "%s.regions"?)`,
		upper, upper, db.schema)
	if !errors.Is(err, source.ErrNotFound) || err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Describe(%s.REGIONS) = %v\nwant %s", upper, err, want)
	}
	if _, err := src.Describe(t.Context(), source.TableRef{Schema: db.schema, Name: "nowhere"}); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("Describe(nowhere) = %v, want no suggestion", err)
	}
}
