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
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// TestIcebergLake lands one PostgreSQL table into a parquet lake and an
// iceberg lake (catalog in the state store: the SQLite file, or a fleet's
// PostgreSQL), over three runs, the last one after a new column. The
// Iceberg table, read back through iceberg-go's scan, holds every source
// row once; its data files, read by DuckDB, hold the same rows with the
// same types as the parquet lake's; it has one snapshot per successful run,
// the one that landed nothing included (a snapshot without data files),
// each naming its run and window.
func TestIcebergLake(t *testing.T) {
	t.Parallel()
	t.Run("sqlite-state", func(t *testing.T) {
		t.Parallel()
		statePath := filepath.Join(t.TempDir(), "state.db")
		testIcebergLake(t, "sqlite:"+statePath, "sqlite", statesqlite.DSN(statePath))
	})
	t.Run("postgres-state", func(t *testing.T) {
		t.Parallel()
		stateURL, _ := testdb.PostgresSchema(t)
		testIcebergLake(t, stateURL, "pgx", stateURL)
	})
}

// testIcebergLake runs TestIcebergLake with the state store at stateURL,
// which the test opens as database/sql driver, dsn.
func testIcebergLake(t *testing.T, stateURL, driver, dsn string) {
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(10,2) NOT NULL, note text,
		ref uuid, doc jsonb, day date, paid boolean, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO orders SELECT g, g * 1.5, 'n' || g, md5(g::text)::uuid, jsonb_build_object('g', g),
		'2024-01-01'::date + g, g % 2 = 0, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 500) g`)

	dir := t.TempDir()
	pqDir, iceDir := filepath.Join(dir, "pq"), filepath.Join(dir, "ice")
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
	env := []string{"SHOP_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=" + stateURL}
	runBoth := func() {
		t.Helper()
		mustWharf(t, dir, env, "run", "orders_pq")
		mustWharf(t, dir, env, "run", "orders_ice")
	}

	runBoth()
	sqlExec(t, conn, `UPDATE orders SET amount = amount + 1000, updated_at = now() WHERE id IN (3, 300)`)
	sqlExec(t, conn, `INSERT INTO orders VALUES (501, 1.00, 'x', NULL, NULL, NULL, NULL, now())`)
	runBoth()
	runBoth() // nothing new: an empty snapshot, made by this run itself
	if v := mustWharf(t, dir, env, "lake", "verify", "orders_ice"); !strings.Contains(v.stdout, "3 snapshot(s); the current one has 2 file(s)") {
		t.Errorf("lake verify after a run that landed nothing:\n%s", v)
	}
	sqlExec(t, conn, `ALTER TABLE orders ADD COLUMN channel text`)
	sqlExec(t, conn, `INSERT INTO orders VALUES (502, 2.00, 'y', NULL, NULL, NULL, NULL, now(), 'web')`)
	runBoth()

	v := mustWharf(t, dir, env, "lake", "verify", "orders_ice")
	if !strings.Contains(v.stdout, "orders_ice: OK") || !strings.Contains(v.stdout, "4 snapshot(s); the current one has 3 file(s), 504 rows") {
		t.Errorf("lake verify:\n%s", v)
	}

	ls := mustWharf(t, dir, env, "lake", "ls", "ice")
	if !strings.Contains(ls.stdout, "SNAPSHOT") || strings.Contains(ls.stdout, " none ") ||
		strings.Count(ls.stdout, "postgres."+schema+"_orders@") != 3 ||
		!strings.Contains(ls.stdout, "Iceberg table postgres."+schema+"_orders: 4 snapshot(s); the current one has 3 file(s), 504 rows") {
		t.Errorf("lake ls:\n%s", ls)
	}

	// The table, through the catalog in the state store.
	ctx := context.Background()
	tbl := stateTable(t, driver, dsn, table.Identifier{"postgres", schema + "_orders"})
	if got, want := tbl.Location(), "file://"+iceDir+"/postgres/"+schema+".orders"; got != want {
		t.Errorf("location %s, want %s", got, want)
	}

	// One snapshot per successful run, each naming its run, its rows and
	// its window; the run that landed nothing has one without data files.
	rows := map[string]int64{}
	var succeeded []string
	for _, r := range runsJSON(t, dir, env, "orders_ice") {
		if r.Status == "succeeded" {
			succeeded = append(succeeded, r.ID)
			rows[r.ID] = r.Rows
		}
	}
	var named []string
	empty := 0
	for _, s := range tbl.Metadata().Snapshots() {
		p := s.Summary.Properties
		id := p["wharf.run-id"]
		named = append(named, id)
		if p["wharf.workflow"] != "orders_ice" || p["wharf.rows"] != fmt.Sprint(rows[id]) || p["wharf.watermark-to"] == "" {
			t.Errorf("snapshot %d summary: %v (run %s landed %d rows)", s.SnapshotID, p, id, rows[id])
		}
		if p["wharf.rows"] == "0" {
			empty++
			if p["wharf.watermark-from"] != p["wharf.watermark-to"] || p["added-data-files"] != "" {
				t.Errorf("the empty run's snapshot %d: %v", s.SnapshotID, p)
			}
		}
	}
	slices.Sort(succeeded)
	slices.Sort(named)
	if len(succeeded) != 4 || empty != 1 || !slices.Equal(succeeded, named) {
		t.Errorf("snapshots name runs %v (%d of them empty); the successful runs are %v", named, empty, succeeded)
	}
	if f := tbl.Schema().Field(0); f.Name != "id" {
		t.Errorf("first field %v", f)
	}
	if _, ok := tbl.Schema().FindFieldByName("channel"); !ok {
		t.Errorf("schema did not gain the new column: %s", tbl.Schema())
	}

	// iceberg-go's scan: every id of the source once per version landed.
	count := scanIDs(t, tbl)
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

// checkSnapshotRuns checks that the table's snapshots name exactly the
// workflow's succeeded runs, and returns how many there are.
func checkSnapshotRuns(t *testing.T, tbl *table.Table, dir string, env []string, workflow string) int {
	t.Helper()
	var succeeded, named []string
	for _, r := range runsJSON(t, dir, env, workflow) {
		if r.Status == "succeeded" {
			succeeded = append(succeeded, r.ID)
		}
	}
	for _, snap := range tbl.Metadata().Snapshots() {
		named = append(named, snap.Summary.Properties["wharf.run-id"])
	}
	slices.Sort(succeeded)
	slices.Sort(named)
	if !slices.Equal(named, succeeded) {
		t.Errorf("snapshots name runs %v; the succeeded runs are %v", named, succeeded)
	}
	return len(succeeded)
}

// scanIDs reads the integer column id of the table's current snapshot (or
// the one opts select) through iceberg-go's scan and counts each value.
func scanIDs(t *testing.T, tbl *table.Table, opts ...table.ScanOption) map[int32]int {
	t.Helper()
	at, err := tbl.Scan(append(opts, table.WithSelectedFields("id"))...).ToArrowTable(context.Background())
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
	return count
}

// onceEach reports how many of the ids 1..n are not in count exactly once,
// and how many other ids count holds.
func onceEach(count map[int32]int, n int) (bad, others int) {
	for id := 1; id <= n; id++ {
		if count[int32(id)] != 1 {
			bad++
		}
	}
	for id := range count {
		if id < 1 || int(id) > n {
			others++
		}
	}
	return bad, others
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

// TestIcebergObjectStores lands an iceberg lake under a prefix of a GCS
// bucket (fake-gcs-server) and of an Azure container (Azurite), twice, and
// has lake verify read the table (through the lake's own bucket) against
// the state store.
func TestIcebergObjectStores(t *testing.T) {
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE items (id integer PRIMARY KEY, name text, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO items SELECT g, 'i' || g, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 100) g`)
	stores := []struct {
		name string
		lake func(t *testing.T, dir string) string // the lake's catalog lines
	}{
		{"gcs", func(t *testing.T, dir string) string {
			return fmt.Sprintf("url: gs://%s/raw?anonymous=true", testdb.GCSBucket(t))
		}},
		{"azure", func(t *testing.T, dir string) string {
			a := testdb.AzureContainer(t)
			keys := filepath.Join(dir, "keys.json")
			if err := os.WriteFile(keys, []byte(a.Secret()), 0o600); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("url: %q\n    secret: file:%s", a.URL("raw"), keys)
		}},
	}
	for i, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			dir := t.TempDir()
			cat := fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw:
    %s
    format: iceberg
workflows:
  - {name: items, table: %s.items, cursor: updated_at}
`, s.lake(t, dir), schema)
			catPath := filepath.Join(dir, "wharf.yaml")
			if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"PG_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
			mustWharf(t, dir, env, "run", "items")
			sqlExec(t, conn, fmt.Sprintf(`INSERT INTO items VALUES (%d, 'new', now())`, 1000+i))
			mustWharf(t, dir, env, "run", "items")
			v := mustWharf(t, dir, env, "lake", "verify", "items")
			want := fmt.Sprintf("2 snapshot(s); the current one has 2 file(s), %d rows", 101+i)
			if !strings.Contains(v.stdout, "items: OK") || !strings.Contains(v.stdout, want) {
				t.Errorf("lake verify (want %q):\n%s", want, v)
			}
		})
	}
}

// stateTable loads an Iceberg table from the catalog in the state store
// that driver and dsn open (sqlite or pgx).
func stateTable(t *testing.T, driver, dsn string, id table.Identifier) *table.Table {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dialect := sqlcat.SQLite
	if driver == "pgx" {
		dialect = sqlcat.Postgres
	}
	c, err := sqlcat.NewCatalog("wharf", db, dialect, iceberg.Properties{})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.LoadTable(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}
