package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestIncrementalLandsOnlyChangedRows: load, update some rows and insert
// some, run: only those land; run again: nothing. Once with the embedded
// SQLite state, once with the state in PostgreSQL.
func TestIncrementalLandsOnlyChangedRows(t *testing.T) {
	t.Parallel()
	t.Run("sqlite-state", func(t *testing.T) {
		testIncremental(t, "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	})
	t.Run("postgres-state", func(t *testing.T) {
		stateURL, _ := testdb.PostgresSchema(t)
		testIncremental(t, stateURL)
	})
}

func testIncremental(t *testing.T, stateURL string) {
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO orders SELECT g, g * 1.5, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 1000) g`)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	cat := fmt.Sprintf(`connections:
  shop:
    engine: postgres
    secret: env:SHOP_DB_URL
lakes:
  raw:
    url: file://%s
workflows:
  - name: shop_orders
    table: %s.orders
    cursor: updated_at
`, lakeDir, schema)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SHOP_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=" + stateURL}

	r := mustWharf(t, dir, env, "run", "shop_orders")
	if !strings.Contains(r.stdout, "1000") || !strings.Contains(r.stdout, "full") {
		t.Fatalf("first run should be a full load of 1000 rows:\n%s", r)
	}
	first := parquetFiles(t, lakeDir)
	if len(first) != 1 {
		t.Fatalf("first run: want 1 file, got %v", first)
	}

	sqlExec(t, conn, `UPDATE orders SET amount = amount + 1000, updated_at = now() WHERE id IN (3, 500, 999)`)
	sqlExec(t, conn, `INSERT INTO orders VALUES (1001, 1.00, now()), (1002, 2.00, now())`)
	r = mustWharf(t, dir, env, "run", "shop_orders")
	if !strings.Contains(r.stdout, "incremental") {
		t.Errorf("second run should be incremental:\n%s", r)
	}
	second := newFiles(first, parquetFiles(t, lakeDir))
	if len(second) != 1 {
		t.Fatalf("second run: want 1 new file, got %v", second)
	}
	tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, second[0]))
	var ids []int
	for _, c := range tbl.Column(0).Data().Chunks() {
		for i := 0; i < c.Len(); i++ {
			ids = append(ids, int(c.(*array.Int32).Value(i)))
		}
	}
	sort.Ints(ids)
	if fmt.Sprint(ids) != "[3 500 999 1001 1002]" {
		t.Errorf("second run landed ids %v, want [3 500 999 1001 1002]", ids)
	}

	r = mustWharf(t, dir, env, "run", "shop_orders")
	if !strings.Contains(r.stdout, "Nothing new to land") {
		t.Errorf("third run should land nothing:\n%s", r)
	}
	if got := parquetFiles(t, lakeDir); len(got) != 2 {
		t.Errorf("third run wrote files: %v", got)
	}
}

// TestFailedRunMovesNothing: a workflow that fails (a value wharf cannot
// land as its column's type) leaves no files and no watermark, names the column, and the
// other workflows of the same run still land; the exit code is 1.
func TestFailedRunMovesNothing(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE good (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO good VALUES (1), (2)`)
	sqlExec(t, conn, `CREATE TABLE bad (id int PRIMARY KEY, grid int[], updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO bad VALUES (1, '{{1,2},{3,4}}')`)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	cat := fmt.Sprintf(`connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "file://%s"}
defaults:
  cursor: updated_at
workflows:
  - {name: good, table: %[2]s.good}
  - {name: bad, table: %[2]s.bad}
`, lakeDir, schema)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"DB_URL=" + testdb.PostgresURL()}
	r := wharf(t, dir, env, "run", "-c", catPath, "--all")
	if r.code != 1 {
		t.Fatalf("want exit 1 when a workflow fails:\n%s", r)
	}
	if !strings.Contains(r.stderr, `column "grid" at key id=1`) || !strings.Contains(r.stderr, "cast: {grid: json}") {
		t.Errorf("the error should name the column and the key, and say how to land it:\n%s", r)
	}
	files := parquetFiles(t, lakeDir)
	if len(files) != 1 || !strings.Contains(files[0], ".good/") {
		t.Errorf("only the good workflow should have landed: %v", files)
	}
}

func newFiles(before, after []string) []string {
	seen := map[string]bool{}
	for _, f := range before {
		seen[f] = true
	}
	var out []string
	for _, f := range after {
		if !seen[f] {
			out = append(out, f)
		}
	}
	return out
}

// TestCursorChangeNeedsAllowReset: a run whose cursor column is not the one
// its watermark was committed with would land the whole table again, so
// wharf run refuses it (nothing lands, the watermark stays) until
// --allow-reset; a deployed workflow's cursor changes through deploy
// first, even with --allow-reset, so that its schedule agrees.
func TestCursorChangeNeedsAllowReset(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, seq bigint NOT NULL, at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO events SELECT g, g, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' FROM generate_series(1, 50) g`)
	dir := t.TempDir()
	// catalog writes a catalog of the workflows named, each landing the
	// table by cursor into a lake of its own.
	catalog := func(file, cursor string, workflows ...string) string {
		cat := "connections:\n  app:\n    engine: postgres\n    secret: env:APP_DB_URL\nlakes:\n"
		for _, wf := range workflows {
			cat += fmt.Sprintf("  %s:\n    url: file://%s\n", wf, filepath.Join(dir, "lake", wf))
		}
		cat += "workflows:\n"
		for _, wf := range workflows {
			cat += fmt.Sprintf("  - {name: %s, table: %s.events, cursor: %s, lake: %s}\n", wf, schema, cursor, wf)
		}
		path := filepath.Join(dir, file)
		if err := os.WriteFile(path, []byte(cat), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	byAt := catalog("at.yaml", "at", "events", "scheduled")
	bySeq := catalog("seq.yaml", "seq", "events", "scheduled")
	env := []string{"APP_DB_URL=" + testdb.PostgresURL(), "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}

	mustWharf(t, dir, env, "deploy", "-c", catalog("deploy-at.yaml", "at", "scheduled"))
	mustWharf(t, dir, env, "run", "-c", byAt, "--all")
	landed := parquetFiles(t, dir)

	r := wharf(t, dir, env, "run", "-c", bySeq, "events")
	if r.code != 1 || !strings.Contains(r.stderr, "the watermark was committed with cursor at, and the workflow's cursor is now seq") ||
		!strings.Contains(r.stderr, "--allow-reset") {
		t.Fatalf("a changed cursor should be refused, naming both columns and --allow-reset:\n%s", r)
	}
	r = wharf(t, dir, env, "run", "-c", bySeq, "--allow-reset", "scheduled")
	if r.code != 1 || !strings.Contains(r.stderr, "workflow scheduled is deployed with table "+schema+".events, cursor at, and the catalog says table "+schema+".events, cursor seq") ||
		!strings.Contains(r.stderr, "wharf deploy --allow-reset") {
		t.Fatalf("a deployed workflow's changed cursor should be refused until deployed:\n%s", r)
	}
	if now := parquetFiles(t, dir); len(now) != len(landed) {
		t.Fatalf("refused runs landed files: %v, before %v", now, landed)
	}
	// The watermark is still the one committed with at.
	if r := mustWharf(t, dir, env, "run", "-c", byAt, "events"); !strings.Contains(r.stdout, "incremental") {
		t.Fatalf("the refused run changed the watermark:\n%s", r)
	}

	// --all: the deployed workflow is refused, the other one runs.
	r = wharf(t, dir, env, "run", "-c", bySeq, "--allow-reset", "--all")
	if r.code != 1 || !strings.Contains(r.stderr, "workflow scheduled is deployed with table") ||
		!strings.Contains(r.stdout, "full") || !strings.Contains(r.stdout, "50") || !strings.Contains(r.stderr, "cursor changed from at to seq: full load") {
		t.Fatalf("--allow-reset should run a full load of events by seq, and refuse scheduled:\n%s", r)
	}
	mustWharf(t, dir, env, "deploy", "-c", catalog("deploy-seq.yaml", "seq", "scheduled"), "--allow-reset")
	if r := mustWharf(t, dir, env, "run", "-c", bySeq, "scheduled"); !strings.Contains(r.stdout, "full") {
		t.Fatalf("after deploy --allow-reset the deployed workflow should run a full load by seq:\n%s", r)
	}
}

// TestMovedWorkflowLandsOn: a workflow moved to another lake lands on
// incrementally there (the watermark is the source's), and a workflow
// whose table changed is refused until --allow-reset, as a changed cursor
// is: the watermark bounds the old table's rows.
func TestMovedWorkflowLandsOn(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	for _, table := range []string{"a", "b"} {
		sqlExec(t, conn, fmt.Sprintf(`CREATE TABLE %s (id integer PRIMARY KEY, seq bigint NOT NULL)`, table))
		sqlExec(t, conn, fmt.Sprintf(`INSERT INTO %s SELECT g, g FROM generate_series(1, 20) g`, table))
	}
	dir := t.TempDir()
	catalog := func(file, lakeDir, table string) string {
		path := filepath.Join(dir, file)
		writeText(t, path, fmt.Sprintf(`connections:
  app: {engine: postgres, secret: env:APP_DB_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: w, table: %s.%s, cursor: seq}
`, filepath.Join(dir, lakeDir), schema, table))
		return path
	}
	env := []string{"APP_DB_URL=" + testdb.PostgresURL(), "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
	mustWharf(t, dir, env, "run", "-c", catalog("first.yaml", "lake1", "a"), "w")

	sqlExec(t, conn, `INSERT INTO a SELECT g, g FROM generate_series(21, 25) g`)
	r := mustWharf(t, dir, env, "run", "-c", catalog("moved.yaml", "lake2", "a"), "w")
	if !strings.Contains(r.stdout, "incremental") || !strings.Contains(r.stdout, " 5 ") {
		t.Fatalf("the moved workflow should land the 5 new rows incrementally:\n%s", r)
	}
	if r := mustWharf(t, dir, env, "lake", "verify", "-c", filepath.Join(dir, "moved.yaml"), "w"); !strings.Contains(r.stdout, "w: 1 committed run(s) landed in another lake") ||
		!strings.Contains(r.stdout, "w: OK — 1 committed run(s)") {
		t.Errorf("lake verify of the new lake should check its own run and pass over the old one:\n%s", r)
	}

	other := catalog("other.yaml", "lake2", "b")
	r = wharf(t, dir, env, "run", "-c", other, "w")
	if r.code != 1 || !strings.Contains(r.stderr, "the workflow's table, its database or the way the table is written changed") || !strings.Contains(r.stderr, "--allow-reset") {
		t.Fatalf("a changed table should be refused:\n%s", r)
	}
	r = mustWharf(t, dir, env, "run", "-c", other, "--allow-reset", "w")
	if !strings.Contains(r.stdout, "full") || !strings.Contains(r.stdout, " 20 ") || !strings.Contains(r.stderr, "table changed") {
		t.Fatalf("--allow-reset should land table b whole:\n%s", r)
	}
}
