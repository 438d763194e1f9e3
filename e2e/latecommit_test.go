package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestLateCommitLandsNextRun reproduces the lost late commit: session A
// updates region 2 (updated_at = clock_timestamp()) and stays open while
// session B updates region 3 and commits, and wharf runs. Region 3's
// timestamp is above A's row's, so a window up to max(updated_at) would move
// the watermark past A's row before it commits, and it would never land.
// wharf holds the window below A's start instead: that run lands neither,
// says which rule bounded it, and once A commits both land, once each.
func TestLateCommitLandsNextRun(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (id integer PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO regions VALUES (1, 'Europe', '2024-01-01'), (2, 'Americas', '2024-01-01'), (3, 'Asia', '2024-01-01'), (4, 'Africa', '2024-01-01')`)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(fmt.Sprintf(`connections:
  hr: {engine: postgres, secret: env:HR_DB_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: regions, table: %s.regions, cursor: updated_at}
`, lakeDir, schema)), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HR_DB_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath,
		"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
	mustWharf(t, dir, env, "run", "regions")

	ctx := context.Background()
	a, err := pgx.Connect(ctx, testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(ctx)
	txA, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer txA.Rollback(ctx)
	if _, err := txA.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "regions"}.Sanitize()+" SET name = 'Americas (late)', updated_at = clock_timestamp() WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	sqlExec(t, conn, `UPDATE regions SET name = 'Asia (B)', updated_at = clock_timestamp() WHERE id = 3`)

	r := mustWharf(t, dir, env, "run", "regions", "--log-level", "info")
	if !strings.Contains(r.stderr, "bounded_by=\"a transaction in flight since") {
		t.Errorf("the run's log should say a transaction in flight bounded it:\n%s", r)
	}
	if err := txA.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	bothLandOnce(t, dir, env, lakeDir)
}

// bothLandOnce runs the workflow until A's and B's rows have landed, and
// checks each landed once. The next run lands both unless a write
// transaction older than B's row is still in flight: on MySQL/MariaDB the
// bound is server-wide (innodb_trx does not say which tables a transaction
// writes), and other tests hold transactions open on the same server. Such
// a run says so (bounded_by="a transaction in flight since T"): run again,
// as a scheduler would, until nothing holds the rows back (for up to 2
// minutes). A run that lands them not without being held back fails.
func bothLandOnce(t *testing.T, dir string, env []string, lakeDir string) {
	t.Helper()
	var landed []string
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		r := mustWharf(t, dir, env, "run", "regions", "--log-level", "info")
		if landed = landedNames(t, lakeDir); len(landed) >= 2 {
			break
		}
		if held := strings.Contains(r.stderr, `bounded_by="a transaction in flight since`); !held || time.Now().After(deadline) {
			t.Fatalf("after A commits, its row and B's must land (held back by a transaction in flight: %v); changed rows landed: %q\n%s", held, landed, r)
		}
	}
	sort.Strings(landed)
	if strings.Join(landed, ",") != "Americas (late),Asia (B)" {
		t.Fatalf("after A commits, its row and B's must each land once; changed rows landed: %q", landed)
	}
}

// landedNames returns the names of the rows landed after the first (full) run.
func landedNames(t *testing.T, lakeDir string) []string {
	t.Helper()
	var names []string
	for _, f := range parquetFiles(t, lakeDir) {
		tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, f))
		for _, row := range parquettest.Rows(t, tbl) {
			if n, ok := row[1].(string); ok && strings.Contains(n, "(") {
				names = append(names, n)
			}
		}
		tbl.Release()
	}
	return names
}

// TestMySQLLateCommitLandsNextRun is the same late commit on MariaDB:
// session A updates region 2 (updated_at = NOW(6)) and stays open while B
// updates region 3 and commits. The run's window ends below A's start
// (information_schema.innodb_trx), so it lands neither and says why; once A
// commits both land, once each.
func TestMySQLLateCommitLandsNextRun(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE regions (id int PRIMARY KEY, name varchar(40) NOT NULL, updated_at timestamp(6) NOT NULL)")
	mysqlExec(t, tdb.DB, "INSERT INTO regions VALUES (1, 'Europe', '2024-01-01'), (2, 'Americas', '2024-01-01'), (3, 'Asia', '2024-01-01'), (4, 'Africa', '2024-01-01')")

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	// wharf connects as root, which may read innodb_trx (PROCESS): the
	// test's own user may not, and would see no transaction in flight.
	env := mysqlCatalog(t, dir, tdb.AdminURL, fmt.Sprintf("  - {name: regions, table: %s.regions, cursor: updated_at}\n", tdb.Name))
	mustWharf(t, dir, env, "run", "regions")

	ctx := context.Background()
	a, err := tdb.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustExec := func(q string) {
		t.Helper()
		if _, err := a.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	mustExec("BEGIN")
	defer a.ExecContext(ctx, "ROLLBACK") //nolint:errcheck // after COMMIT, a no-op
	mustExec("UPDATE regions SET name = 'Americas (late)', updated_at = NOW(6) WHERE id = 2")
	time.Sleep(10 * time.Millisecond)
	mysqlExec(t, tdb.DB, "UPDATE regions SET name = 'Asia (B)', updated_at = NOW(6) WHERE id = 3")

	r := mustWharf(t, dir, env, "run", "regions", "--log-level", "info")
	if !strings.Contains(r.stderr, "bounded_by=\"a transaction in flight since") {
		t.Errorf("the run's log should say a transaction in flight bounded it:\n%s", r)
	}
	if got := landedNames(t, lakeDir); len(got) != 0 {
		t.Errorf("rows landed while A was in flight: %q; A's row would be lost", got)
	}
	mustExec("COMMIT")
	bothLandOnce(t, dir, env, lakeDir)
}

// TestMySQLWithoutProcessWarns: a run as a MariaDB role without PROCESS
// cannot bound its window below the transactions in flight: it warns once,
// saying what to grant, and wharf run's summary notes it; a workflow with
// settle is bounded by it and says nothing. validate notes it beforehand.
func TestMySQLWithoutProcessWarns(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE regions (id int PRIMARY KEY, updated_at timestamp(6) NOT NULL)")
	mysqlExec(t, tdb.DB, "INSERT INTO regions VALUES (1, '2024-01-01'), (2, '2024-01-02')")
	mysqlExec(t, tdb.DB, "CREATE TABLE jobs AS SELECT * FROM regions")
	dir := t.TempDir()
	// The test's own user lacks PROCESS (testdb.MySQL).
	env := mysqlCatalog(t, dir, tdb.URL, fmt.Sprintf(`  - {name: regions, table: %[1]s.regions, cursor: updated_at}
  - {name: jobs, table: %[1]s.jobs, cursor: updated_at, settle: 1s}
`, tdb.Name))
	grant := "GRANT PROCESS ON *.* TO '" + tdb.User + "'@'"
	// validate notes it once for the connection, naming the workflow
	// without settle.
	v := mustWharf(t, dir, env, "validate")
	if strings.Count(v.stderr, "note: source hr: ") != 1 || !strings.Contains(v.stderr, grant) ||
		!strings.Contains(v.stderr, "workflows with a cursor and no settle (a timestamp cursor is at risk): regions\n") {
		t.Errorf("validate should note the connection once, with %s... and workflow regions:\n%s", grant, v)
	}
	r := mustWharf(t, dir, env, "run", "--all")
	var warns, notes []string
	for line := range strings.Lines(r.stderr) {
		if strings.Contains(line, `level=WARN msg="rows committed late may be skipped"`) {
			warns = append(warns, line)
		}
		if strings.HasPrefix(line, "note: ") && strings.Contains(line, "rows committed late may be skipped") {
			notes = append(notes, line)
		}
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "workflow=regions") || !strings.Contains(warns[0], grant) {
		t.Errorf("want one WARN for workflow regions saying %s...; got %q\n%s", grant, warns, r)
	}
	if len(notes) != 1 || !strings.HasPrefix(notes[0], "note: regions: rows committed late may be skipped: ") || !strings.Contains(notes[0], grant) {
		t.Errorf("want one summary note for regions saying %s...; got %q\n%s", grant, notes, r)
	}
}

// mysqlCatalog writes dir/wharf.yaml: connection hr (a MySQL/MariaDB at
// url), lake raw (dir/lake) and the workflows lines given; it returns the
// environment of a wharf using it, with its state in dir.
func mysqlCatalog(t *testing.T, dir, url, workflows string) []string {
	t.Helper()
	catPath := filepath.Join(dir, "wharf.yaml")
	writeText(t, catPath, fmt.Sprintf(`connections:
  hr: {engine: mysql, secret: env:HR_DB_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
%s`, filepath.Join(dir, "lake"), workflows))
	return []string{"HR_DB_URL=" + url, "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
}
