package e2e

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestIcebergNestedJSON: JSON inside a list (jsonb[]) and inside a
// composite lands in an Iceberg lake as strings at every level, as a JSON
// column does, and reads back through iceberg-go's scan.
func TestIcebergNestedJSON(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, fmt.Sprintf(`CREATE TYPE %s.tagged AS (n integer, doc json)`, schema))
	sqlExec(t, conn, fmt.Sprintf(`CREATE TABLE docs (id integer PRIMARY KEY, docs jsonb[], t %s.tagged)`, schema))
	sqlExec(t, conn, `INSERT INTO docs VALUES (1, ARRAY['{"a": 1}'::jsonb, NULL, '[2]'], ROW(7, '{"b": "x"}')),
		(2, '{}', NULL), (3, NULL, ROW(NULL, NULL))`)

	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	catPath := filepath.Join(dir, "wharf.yaml")
	writeText(t, catPath, fmt.Sprintf(`connections:
  shop: {engine: postgres, secret: env:SHOP_DB_URL}
lakes:
  ice: {url: "file://%s", format: iceberg}
workflows:
  - {name: docs, table: %s.docs}
`, filepath.Join(dir, "ice"), schema))
	env := []string{"SHOP_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + statePath}
	mustWharf(t, dir, env, "run", "docs")

	ctx := context.Background()
	tbl := stateTable(t, "sqlite", statesqlite.DSN(statePath), table.Identifier{"postgres", schema + "_docs"})
	if got, want := fmt.Sprint(tbl.Schema().Fields()[1:3]), "[2: docs: optional list<string> 4: t: optional struct<5: n: optional int, 6: doc: optional string>]"; got != want {
		t.Errorf("table schema fields docs and t:\n%s\nwant\n%s", got, want)
	}
	at, err := tbl.Scan(table.WithSelectedFields("id", "docs", "t")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	tr := array.NewTableReader(at, -1)
	defer tr.Release()
	var got bytes.Buffer
	for tr.Next() {
		if err := array.RecordToJSON(tr.RecordBatch(), &got); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"docs":["{\"a\": 1}",null,"[2]"],"id":1,"t":{"doc":"{\"b\": \"x\"}","n":7}}
{"docs":[],"id":2,"t":null}
{"docs":null,"id":3,"t":{"doc":null,"n":null}}
`
	if got.String() != want {
		t.Errorf("iceberg-go scan:\n%s\nwant\n%s", got.String(), want)
	}
}
