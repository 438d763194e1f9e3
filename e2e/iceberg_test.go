package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	"github.com/apache/iceberg-go/table"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// TestIcebergLake lands one PostgreSQL table into a parquet lake and an
// iceberg lake (catalog in the state store), over three runs, the last one
// after a new column. The Iceberg table, read back through iceberg-go's scan,
// holds every source row once; its data files, read by DuckDB, hold the same
// rows with the same types as the parquet lake's; it has one snapshot per
// run that landed rows, each naming its run and window.
func TestIcebergLake(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(10,2) NOT NULL, note text,
		ref uuid, doc jsonb, day date, paid boolean, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO orders SELECT g, g * 1.5, 'n' || g, md5(g::text)::uuid, jsonb_build_object('g', g),
		'2024-01-01'::date + g, g % 2 = 0, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 500) g`)

	dir := t.TempDir()
	pqDir, iceDir := filepath.Join(dir, "pq"), filepath.Join(dir, "ice")
	statePath := filepath.Join(dir, "state.db")
	cat := fmt.Sprintf(`connections:
  shop: {engine: postgres, secret: env:SHOP_DB_URL}
lakes:
  pq: {url: "file://%s"}
  ice: {url: "file://%s", format: iceberg}
workflows:
  - {name: orders_pq, table: %s.orders, cursor: updated_at, lake: pq}
  - {name: orders_ice, table: %s.orders, cursor: updated_at, lake: ice}
`, pqDir, iceDir, schema, schema)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SHOP_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + statePath}
	runBoth := func() {
		t.Helper()
		mustWharf(t, dir, env, "run", "orders_pq")
		mustWharf(t, dir, env, "run", "orders_ice")
	}

	runBoth()
	sqlExec(t, conn, `UPDATE orders SET amount = amount + 1000, updated_at = now() WHERE id IN (3, 300)`)
	sqlExec(t, conn, `INSERT INTO orders VALUES (501, 1.00, 'x', NULL, NULL, NULL, NULL, now())`)
	runBoth()
	runBoth() // nothing new: no snapshot
	sqlExec(t, conn, `ALTER TABLE orders ADD COLUMN channel text`)
	sqlExec(t, conn, `INSERT INTO orders VALUES (502, 2.00, 'y', NULL, NULL, NULL, NULL, now(), 'web')`)
	runBoth()

	v := mustWharf(t, dir, env, "lake", "verify", "orders_ice")
	if !strings.Contains(v.stdout, "orders_ice: OK") || !strings.Contains(v.stdout, "3 snapshot(s); the current one has 3 file(s), 504 rows") {
		t.Errorf("lake verify:\n%s", v)
	}

	// The table, through the catalog in the state store.
	db, err := sql.Open("sqlite", statesqlite.DSN(statePath))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := sqlcat.NewCatalog("wharf", db, sqlcat.SQLite, iceberg.Properties{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tbl, err := c.LoadTable(ctx, table.Identifier{"postgres", schema + "_orders"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tbl.Location(), "file://"+iceDir+"/postgres/"+schema+".orders"; got != want {
		t.Errorf("location %s, want %s", got, want)
	}

	// One snapshot per run that landed rows, each naming its run.
	var landed []string
	for _, r := range runsJSON(t, dir, env, "orders_ice") {
		if r.Status == "succeeded" && r.Rows > 0 {
			landed = append(landed, r.ID)
		}
	}
	var named []string
	for _, s := range tbl.Metadata().Snapshots() {
		p := s.Summary.Properties
		named = append(named, p["wharf.run-id"])
		if p["wharf.workflow"] != "orders_ice" || p["wharf.rows"] == "" || p["wharf.watermark-to"] == "" {
			t.Errorf("snapshot %d summary: %v", s.SnapshotID, p)
		}
	}
	slices.Sort(landed)
	slices.Sort(named)
	if len(landed) != 3 || !slices.Equal(landed, named) {
		t.Errorf("snapshots name runs %v; the runs that landed rows are %v", named, landed)
	}
	if f := tbl.Schema().Field(0); f.Name != "id" {
		t.Errorf("first field %v", f)
	}
	if _, ok := tbl.Schema().FindFieldByName("channel"); !ok {
		t.Errorf("schema did not gain the new column: %s", tbl.Schema())
	}

	// iceberg-go's scan: every id of the source once per version landed.
	at, err := tbl.Scan(table.WithSelectedFields("id")).ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	count := map[int32]int{}
	for _, ch := range at.Column(0).Data().Chunks() {
		for i := 0; i < ch.Len(); i++ {
			count[ch.(*array.Int32).Value(i)]++
		}
	}
	if len(count) != 502 || count[3] != 2 || count[300] != 2 || count[1] != 1 || count[502] != 1 {
		t.Errorf("scan: %d distinct ids (want 502), id 3 ×%d, 300 ×%d, 1 ×%d, 502 ×%d", len(count), count[3], count[300], count[1], count[502])
	}

	// DuckDB reads the table's data files: same rows, same types as the
	// parquet lake's files.
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, task := range tasks {
		files = append(files, "'"+strings.TrimPrefix(task.File.FilePath(), "file://")+"'")
	}
	duck := duckread.Open(t)
	cols := "id, amount, note, ref, doc::VARCHAR AS doc, day, paid, updated_at" // Iceberg has no JSON type: a string
	read := func(list string) [][]*string {
		return duckread.Strings(t, duck, fmt.Sprintf(`SELECT to_json(t)::VARCHAR, %s FROM (SELECT %s FROM read_parquet([%s], union_by_name=true)) t ORDER BY id, amount`,
			typeofs(cols), cols, list))
	}
	var pqFiles []string
	for _, f := range parquetFiles(t, pqDir) {
		pqFiles = append(pqFiles, "'"+filepath.Join(pqDir, f)+"'")
	}
	ice, pq := read(strings.Join(files, ",")), read(strings.Join(pqFiles, ","))
	if len(ice) != 504 || fmt.Sprint(deref(ice)) != fmt.Sprint(deref(pq)) {
		t.Errorf("DuckDB: iceberg files hold %d rows, parquet lake %d; first rows\n%v\n%v", len(ice), len(pq), deref(ice[:2]), deref(pq[:2]))
	}
}

func typeofs(cols string) string {
	var out []string
	for _, c := range strings.Split(cols, ", ") {
		f := strings.Fields(c) // "expr AS name": the name
		out = append(out, "typeof("+f[len(f)-1]+")")
	}
	return strings.Join(out, ", ")
}

func deref(rows [][]*string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, v := range r {
			s := "NULL"
			if v != nil {
				s = *v
			}
			out[i] = append(out[i], s)
		}
	}
	return out
}
