package sourcesqlite

import (
	"errors"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/source"
)

func TestTables(t *testing.T) {
	path := newDB(t, "shop.db",
		`CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT)`, // creates sqlite_sequence
		`CREATE TABLE "Mixed Case" (id INTEGER)`,
		`CREATE TABLE order_items (id INTEGER PRIMARY KEY) WITHOUT ROWID`,
		`CREATE VIEW orders_view AS SELECT * FROM orders`,
		`CREATE INDEX orders_x ON orders (x)`,
		`CREATE TABLE a_b (id INTEGER)`,
		`CREATE TABLE aXb (id INTEGER)`,
	)
	src, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, schema := range []string{"", "main", "MAIN"} {
		refs, err := src.Tables(t.Context(), schema)
		if err != nil {
			t.Fatalf("Tables(%q): %v", schema, err)
		}
		var names []string
		for _, r := range refs {
			if r.Schema != "main" {
				t.Errorf("%v: schema %q, want main", r, r.Schema)
			}
			names = append(names, r.Name)
		}
		// Byte order; no views, indexes or sqlite_sequence; '_' is not a LIKE wildcard here.
		if got, want := strings.Join(names, ","), "Mixed Case,aXb,a_b,order_items,orders"; got != want {
			t.Errorf("Tables(%q) = %s, want %s", schema, got, want)
		}
	}
	if _, err := src.Tables(t.Context(), "temp"); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Tables(temp): %v, want ErrNotFound", err)
	}
}
