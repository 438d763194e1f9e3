package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// The source-death tests land rows 1..sourceFirst, add rows up to
// sourceTotal, and kill the source's session while wharf streams that
// window. The table is read through a view that sleeps 2 ms per row above
// sourceFirst, so the window's query runs for seconds and the test kills it
// once the server shows it running: no sleep races the run.
const (
	sourceFirst = 1000
	sourceTotal = 2500
)

// TestPostgresBackendKilledMidRun: pg_terminate_backend on the run's
// session while its COPY streams fails the run with the server's reason,
// lands nothing and moves no watermark; the next run lands the window once.
func TestPostgresBackendKilledMidRun(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, payload text, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, 'event ' || g, '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, %d) g`, sourceFirst))
	sqlExec(t, conn, fmt.Sprintf(`CREATE VIEW slow_events AS SELECT * FROM events WHERE id <= %d OR pg_sleep(0.002) IS NOT NULL`, sourceFirst))
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	catalog := pgFileCatalog(t, dir, lakeDir, u, fmt.Sprintf("  - {name: events, table: %s.slow_events, cursor: updated_at}\n", schema))
	env := []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), catalog}

	mustWharf(t, dir, env, "run", "events")
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, 'event ' || g, '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(%d, %d) g`, sourceFirst+1, sourceTotal))

	killThenRetry(t, dir, env, lakeDir, pgKiller(t, conn, schema), "terminating connection due to administrator command")
}

// pgKiller returns a kill function for runWhileKilling: it terminates the
// backend of wharf's COPY of schema.slow_events once that has streamed for
// half a second. (pg_stat_activity is the whole server's: the schema keeps
// other tests' COPYs of their own slow_events out.)
func pgKiller(t *testing.T, conn *pgx.Conn, schema string) func() string {
	return func() string {
		var pid int32
		err := conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
			WHERE application_name = 'wharf' AND state = 'active' AND query LIKE 'COPY (SELECT %' || $1 || '%slow_events%'
			AND now() - query_start > interval '500 ms'`, schema).Scan(&pid)
		if err != nil {
			return ""
		}
		var ok bool
		if err := conn.QueryRow(context.Background(), `SELECT pg_terminate_backend($1)`, pid).Scan(&ok); err != nil || !ok {
			t.Fatalf("pg_terminate_backend(%d): %v %v", pid, ok, err)
		}
		return fmt.Sprint(pid)
	}
}

// TestMySQLConnectionKilledMidRun: the same with KILL on MariaDB/MySQL.
func TestMySQLConnectionKilledMidRun(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, `CREATE TABLE events (id int PRIMARY KEY, payload varchar(64), updated_at datetime(6) NOT NULL)`)
	insert := func(from, to int) {
		var rows []string
		for n := from; n <= to; n++ {
			rows = append(rows, fmt.Sprintf("(%d, 'event %d', TIMESTAMP('2026-01-01') + INTERVAL %d SECOND)", n, n, n))
		}
		mysqlExec(t, tdb.DB, "INSERT INTO events VALUES "+strings.Join(rows, ", "))
	}
	insert(1, sourceFirst)
	mysqlExec(t, tdb.DB, fmt.Sprintf(`CREATE VIEW slow_events AS SELECT * FROM events WHERE id <= %d OR SLEEP(0.002) = 0`, sourceFirst))
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	writeText(t, filepath.Join(dir, "wharf.yaml"), fmt.Sprintf(`connections:
  shop: {engine: mysql, secret: env:SHOP_DB_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: events, table: %s.slow_events, cursor: updated_at}
`, lakeDir, tdb.Name))
	env := []string{"SHOP_DB_URL=" + tdb.URL, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), "WHARF_CATALOG=" + filepath.Join(dir, "wharf.yaml")}

	mustWharf(t, dir, env, "run", "events")
	insert(sourceFirst+1, sourceTotal)

	// The run's SELECT of the window's rows (not its MAX), once it has run
	// for half a second.
	killer := func() string {
		var id int64
		err := tdb.DB.QueryRow(`SELECT ID FROM information_schema.PROCESSLIST
			WHERE DB = ? AND INFO LIKE 'SELECT %slow_events%' AND INFO NOT LIKE '%MAX(%'
			AND INFO NOT LIKE '%PROCESSLIST%' AND TIME >= 1`, tdb.Name).Scan(&id)
		if err != nil {
			return ""
		}
		if _, err := tdb.DB.Exec(fmt.Sprintf("KILL %d", id)); err != nil {
			t.Fatalf("KILL %d: %v", id, err)
		}
		return fmt.Sprint(id)
	}
	killThenRetry(t, dir, env, lakeDir, killer, "the server closed the connection mid-query")
}

// killThenRetry runs the workflow while kill kills its source session: the
// run must fail saying why (want) with nothing landed; the next run lands
// the window, and every id once.
func killThenRetry(t *testing.T, dir string, env []string, lakeDir string, kill func() string, want string) {
	t.Helper()
	landed := parquetFiles(t, lakeDir)
	r := runWhileKilling(t, dir, env, kill)
	if r.code != 1 || !strings.Contains(r.stderr, "workflow events: ") || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "packets.go") {
		t.Fatalf("the killed run should fail naming the workflow and saying %q:\n%s", want, r)
	}
	t.Logf("killed run: %s", strings.TrimSpace(r.stderr))
	checkNothingLanded(t, dir, env, lakeDir, landed)

	r = mustWharf(t, dir, env, "run", "events")
	if !strings.Contains(r.stdout, fmt.Sprint(sourceTotal-sourceFirst)) {
		t.Errorf("the retry should land the %d rows of the window:\n%s", sourceTotal-sourceFirst, r)
	}
	checkIDsOnce(t, lakeDir, sourceTotal)
}

// runWhileKilling runs `wharf run events` while polling kill, which kills
// the run's source session once it sees it and returns what it killed ("" to
// poll again). It fails the test if the run ended before kill found it.
func runWhileKilling(t *testing.T, dir string, env []string, kill func() string) result {
	t.Helper()
	done := make(chan result, 1)
	go func() { done <- wharf(t, dir, env, "run", "events") }()
	killed := ""
	for killed == "" {
		select {
		case r := <-done:
			t.Fatalf("the run ended before its source session could be killed:\n%s", r)
		case <-time.After(50 * time.Millisecond):
			killed = kill()
		}
	}
	t.Logf("killed source session %s", killed)
	return <-done
}

// checkNothingLanded: after a failed run, the lake holds exactly the files
// it held before, the failed run is recorded with its error and moved no
// watermark.
func checkNothingLanded(t *testing.T, dir string, env []string, lakeDir string, before []string) {
	t.Helper()
	if after := parquetFiles(t, lakeDir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("the failed run changed the lake's files:\nbefore %v\nafter  %v", before, after)
	}
	runs := runsJSON(t, dir, env)
	if len(runs) != 2 {
		t.Fatalf("want 2 runs, got %+v", runs)
	}
	var failed, ok runJSON
	for _, r := range runs {
		switch r.Status {
		case "failed":
			failed = r
		case "succeeded":
			ok = r
		}
	}
	if failed.ID == "" || failed.Error == "" || failed.Rows != 0 || failed.Files != 0 {
		t.Errorf("the killed run should be recorded failed with its error and no rows: %+v", failed)
	}
	if ok.WatermarkTo == nil {
		t.Fatalf("the first run recorded no watermark: %+v", ok)
	}
	if failed.WatermarkTo != nil && *failed.WatermarkTo != *ok.WatermarkTo {
		t.Errorf("the failed run moved the watermark to %s (was %s)", *failed.WatermarkTo, *ok.WatermarkTo)
	}
}

// checkIDsOnce reads every Parquet file of a file lake: ids 1..total each
// appear exactly once.
func checkIDsOnce(t *testing.T, lakeDir string, total int) {
	t.Helper()
	var paths []string
	for _, f := range parquetFiles(t, lakeDir) {
		paths = append(paths, filepath.Join(lakeDir, f))
	}
	if len(paths) == 0 {
		t.Fatal("no parquet files in the lake")
	}
	tbl := parquettest.ReadFiles(t, paths...)
	seen := map[int64]int{}
	reader := array.NewTableReader(tbl, 0)
	defer reader.Release()
	for reader.Next() {
		rec := reader.RecordBatch()
		switch col := rec.Column(int(rec.Schema().FieldIndices("id")[0])).(type) {
		case *array.Int32:
			for i := range col.Len() {
				seen[int64(col.Value(i))]++
			}
		case *array.Int64:
			for i := range col.Len() {
				seen[col.Value(i)]++
			}
		default:
			t.Fatalf("id column is %T", col)
		}
	}
	var rows int
	for id, n := range seen {
		rows += n
		if id < 1 || id > int64(total) {
			t.Errorf("id %d is not in the source", id)
		}
		if n != 1 {
			t.Errorf("id %d landed %d times", id, n)
		}
	}
	if len(seen) != total || rows != total {
		t.Errorf("lake holds %d rows, %d distinct ids; the source %d", rows, len(seen), total)
	}
}

// pgFileCatalog writes dir/wharf.yaml: connection src (an RDS-shaped secret
// file for the test PostgreSQL), lake raw (a file lake in lakeDir) and the
// given workflows (YAML list items). It returns the catalog's environment
// variable.
func pgFileCatalog(t *testing.T, dir, lakeDir string, u *url.URL, workflows string) string {
	t.Helper()
	rdsSecret(t, filepath.Join(dir, "secrets"), "src", u)
	writeText(t, filepath.Join(dir, "wharf.yaml"), fmt.Sprintf(`connections:
  src: {engine: postgres, secret: "file:%s"}
lakes:
  raw: {url: "file://%s"}
workflows:
%s`, filepath.Join(dir, "secrets", "src.json"), lakeDir, workflows))
	return "WHARF_CATALOG=" + filepath.Join(dir, "wharf.yaml")
}

// TestServeRetriesKilledSourceSession: under serve, a run whose source
// session is terminated mid-stream fails and is retried by the same
// process (which keeps sources open between runs); the retry lands every
// row once.
func TestServeRetriesKilledSourceSession(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, payload text, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, 'event ' || g, '2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, %d) g`, sourceTotal))
	sqlExec(t, conn, `CREATE VIEW slow_events AS SELECT * FROM events WHERE pg_sleep(0.001) IS NOT NULL`)
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	catalog := pgFileCatalog(t, dir, lakeDir, u, fmt.Sprintf("  - {name: events, table: %s.slow_events, cursor: updated_at}\n", schema))
	env := []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), catalog}
	mustWharf(t, dir, env, "deploy")
	serve := startWharf(t, dir, env, "serve", "--poll-interval", "100ms", "--retry-backoff", "1s")
	id := strings.TrimSpace(mustWharf(t, dir, env, "trigger", "events").stdout)

	kill := pgKiller(t, conn, schema)
	waitUntil(t, 60*time.Second, "the run's COPY to kill", func() bool { return kill() != "" })
	var runs []runJSON
	waitUntil(t, 90*time.Second, "the retry to land", func() bool {
		runs = runsJSON(t, dir, env)
		for _, r := range runs {
			if r.Status == "succeeded" {
				return true
			}
		}
		return false
	})
	if len(runs) != 2 {
		t.Fatalf("want the killed run and its retry, got %+v", runs)
	}
	for _, r := range runs {
		switch {
		case r.ID == id && (r.Status != "failed" || !strings.Contains(r.Error, "terminating connection due to administrator command")):
			t.Errorf("the killed run should be recorded failed with the server's reason: %+v", r)
		case r.ID != id && (r.Trigger != "retry" || r.Rows != sourceTotal):
			t.Errorf("the retry should land all %d rows: %+v", sourceTotal, r)
		}
	}
	checkIDsOnce(t, lakeDir, sourceTotal)
	serve.stop(t, 30*time.Second)
}
