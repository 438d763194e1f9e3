// Package duckread reads what wharf wrote with DuckDB, a Parquet reader that
// is not arrow-go, for tests. It is the only package that links DuckDB (cgo):
// import it from tests that need it, never from wharf itself.
package duckread

import (
	"database/sql"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// Open returns an in-memory DuckDB, closed when the test ends.
func Open(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Strings runs query and returns every row, each value as text (nil for
// NULL). Cast non-text columns in the query (to_json(c)::VARCHAR, c::VARCHAR).
func Strings(t testing.TB, db *sql.DB, query string, args ...any) [][]*string {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatalf("duckdb %s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatalf("duckdb %s: %v", query, err)
	}
	var out [][]*string
	for rows.Next() {
		row := make([]*string, len(cols))
		dest := make([]any, len(cols))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatalf("duckdb %s: %v", query, err)
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("duckdb %s: %v", query, err)
	}
	return out
}
