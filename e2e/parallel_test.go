package e2e

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// parallelRows is the parallel tests' table size: with 4 streams the
// PostgreSQL table (~2,000 blocks) is read in 15 ctid chunks.
const parallelRows = 200000

// parallelCatalog lands one table twice, into lake one with parallel: 1 and
// into lake four with parallel: 4 (from defaults), with small files so that
// every stream writes several.
func parallelCatalog(t *testing.T, dir, engine, secret, table string) []string {
	t.Helper()
	writeText(t, filepath.Join(dir, "wharf.yaml"), fmt.Sprintf(`connections:
  src: {engine: %s, secret: %q}
lakes:
  one: {url: "file://%s/one"}
  four: {url: "file://%s/four", file_size: 1MiB}
defaults: {parallel: 4}
workflows:
  - {name: events_one, table: %s, cursor: updated_at, lake: one, parallel: 1}
  - {name: events_four, table: %s, cursor: updated_at, lake: four}
`, engine, secret, dir, dir, table, table))
	return []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), "WHARF_CATALOG=" + filepath.Join(dir, "wharf.yaml")}
}

// sameLanding reads both lakes with DuckDB: each holds every source row
// once (count = count distinct = want), and the same values.
func sameLanding(t *testing.T, dir string, want int) {
	t.Helper()
	duck := duckread.Open(t)
	read := func(lake string) string {
		rows := duckread.Strings(t, duck, fmt.Sprintf(`SELECT count(*)::VARCHAR || ' rows, ' || count(DISTINCT id)::VARCHAR || ' ids, hash ' ||
			sum(hash(id, payload, amount, updated_at))::VARCHAR FROM read_parquet('%s/**/*.parquet')`, filepath.Join(dir, lake)))
		return *rows[0][0]
	}
	one, four := read("one"), read("four")
	if !strings.HasPrefix(one, fmt.Sprintf("%d rows, %d ids,", want, want)) {
		t.Errorf("parallel: 1 landed %s; the source has %d rows", one, want)
	}
	if four != one {
		t.Errorf("parallel: 4 landed %s; parallel: 1 landed %s", four, one)
	}
}

// TestParallelPostgres lands a table with parallel: 4 and with parallel: 1
// (full load, then an incremental window): DuckDB reads the same rows from
// both, each once; the run's log says how the window was split.
func TestParallelPostgres(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	insert := func(from, to int) {
		sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, md5(g::text) || md5((g*7)::text), g * 1.25,
			'2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(%d, %d) g`, from, to))
	}
	sqlExec(t, conn, `CREATE TABLE events (id bigint PRIMARY KEY, payload text, amount numeric(14,2), updated_at timestamptz NOT NULL)`)
	insert(1, parallelRows)
	dir := t.TempDir()
	env := append(parallelCatalog(t, dir, "postgres", "env:PG_URL", schema+".events"), "PG_URL="+testdb.PostgresURL())

	r := mustWharf(t, dir, env, "run", "--all")
	if !strings.Contains(r.stderr, "workflow=events_four") || !strings.Contains(r.stderr, "chunks by ctid block ranges") {
		t.Errorf("the log should say events_four was read in ctid chunks:\n%s", r)
	}
	sameLanding(t, dir, parallelRows)

	insert(parallelRows+1, parallelRows+20000)
	mustWharf(t, dir, env, "run", "--all")
	sameLanding(t, dir, parallelRows+20000)
}

// TestConnectionMaxParallel: a connection's max_parallel caps the streams of
// `wharf run` too (no fleet there): validate notes the workflow asking for
// more, the run reads with max_parallel streams and says so, and lands every
// row once; the runs of one `wharf run` on a connection of max_parallel 1
// take turns.
func TestConnectionMaxParallel(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id bigint PRIMARY KEY, payload text, amount numeric(14,2), updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO events SELECT g, md5(g::text), g * 1.25, '2026-01-01'::timestamptz + g * interval '1 second'
		FROM generate_series(1, 50000) g`)
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "wharf.yaml"), fmt.Sprintf(`connections:
  src: {engine: postgres, secret: env:PG_URL, max_parallel: 2}
  narrow: {engine: postgres, secret: env:PG_URL, max_parallel: 1}
lakes:
  one: {url: "file://%[1]s/one"}
  four: {url: "file://%[1]s/four", file_size: 1MiB}
  turn_a: {url: "file://%[1]s/turns/a"}
  turn_b: {url: "file://%[1]s/turns/b"}
  turn_c: {url: "file://%[1]s/turns/c"}
workflows:
  - {name: events_one, connection: src, table: %[2]s.events, cursor: updated_at, lake: one}
  - {name: events_four, connection: src, table: %[2]s.events, cursor: updated_at, lake: four, parallel: 4}
  - {name: turn_a, connection: narrow, table: %[2]s.events, lake: turn_a}
  - {name: turn_b, connection: narrow, table: %[2]s.events, lake: turn_b}
  - {name: turn_c, connection: narrow, table: %[2]s.events, lake: turn_c}
`, dir, schema))
	env := []string{"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db"), "WHARF_CATALOG=" + filepath.Join(dir, "wharf.yaml"), "PG_URL=" + testdb.PostgresURL()}

	r := mustWharf(t, dir, env, "validate")
	if !strings.Contains(r.stderr, `workflow "events_four": parallel 4 is above connection "src"'s max_parallel 2: it reads with at most 2 streams`) {
		t.Errorf("validate should note that events_four asks for more streams than src allows:\n%s", r)
	}
	r = mustWharf(t, dir, env, "run", "events_four")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`connection's max_parallel: fewer streams" workflow=events_four .*parallel=4 streams=2`),
		regexp.MustCompile(`reading in chunks" workflow=events_four .*own_streams=2 `),
	} {
		if !want.MatchString(r.stderr) {
			t.Errorf("the log does not match %q:\n%s", want, r)
		}
	}
	mustWharf(t, dir, env, "run", "events_one")
	sameLanding(t, dir, 50000)

	// Three runs at once (run's default), one stream allowed: two of them
	// wait, and all land.
	r = mustWharf(t, dir, env, "run", "turn_a", "turn_b", "turn_c")
	if n := strings.Count(r.stderr, "waiting for a slot: the connection is at its max_parallel"); n < 2 {
		t.Errorf("%d runs waited for narrow's one stream; want 2 of 3:\n%s", n, r)
	}
	if got := duckread.Strings(t, duckread.Open(t), fmt.Sprintf(`SELECT count(*)::VARCHAR FROM read_parquet('%s/**/*.parquet')`,
		filepath.Join(dir, "turns"))); *got[0][0] != "150000" {
		t.Errorf("the three runs landed %s rows; want 150000", *got[0][0])
	}
}

// TestParallelMariaDB: the same on MariaDB/MySQL.
func TestParallelMariaDB(t *testing.T) {
	t.Parallel()
	tdb, insert := mysqlParallelSource(t)
	dir := t.TempDir()
	env := append(parallelCatalog(t, dir, "mysql", "env:SHOP_DB_URL", tdb.Name+".events"), "SHOP_DB_URL="+tdb.URL)

	r := mustWharf(t, dir, env, "run", "--all")
	if !strings.Contains(r.stderr, "workflow=events_four") || !strings.Contains(r.stderr, "chunks by ranges of primary key id") {
		t.Errorf("the log should say events_four was read in primary-key chunks:\n%s", r)
	}
	sameLanding(t, dir, parallelRows)

	insert(parallelRows+1, parallelRows+20000)
	mustWharf(t, dir, env, "run", "--all")
	sameLanding(t, dir, parallelRows+20000)
}

// mysqlParallelSource creates the parallel tests' MariaDB table of
// parallelRows rows, and returns its database and what inserts the rows
// of ids from to to.
func mysqlParallelSource(t *testing.T) (*testdb.MySQLDatabase, func(from, to int)) {
	t.Helper()
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, `CREATE TABLE events (id bigint PRIMARY KEY, payload varchar(64), amount decimal(14,2), updated_at datetime(6) NOT NULL)`)
	insert := func(from, to int) {
		for lo := from; lo <= to; lo += 1000 { // MySQL's default CTE depth is 1000
			mysqlExec(t, tdb.DB, fmt.Sprintf(`INSERT INTO events
				WITH RECURSIVE g(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM g WHERE n < %d)
				SELECT n, CONCAT(MD5(n), MD5(n * 7)), n * 1.25, TIMESTAMP('2026-01-01') + INTERVAL n SECOND FROM g`, lo, min(lo+999, to)))
		}
	}
	insert(1, parallelRows)
	return tdb, insert
}

// pgParallelSource creates the parallel tests' PostgreSQL table of
// parallelRows rows and returns its schema.
func pgParallelSource(t *testing.T) string {
	t.Helper()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id bigint PRIMARY KEY, payload text, amount numeric(14,2), updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, md5(g::text) || md5((g*7)::text), g * 1.25,
		'2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, %d) g`, parallelRows))
	return schema
}

// TestParallelRunKilled: wharf run reading with 4 streams is killed
// (SIGKILL) once its streams have written files; the next run removes them
// and lands the window: every id once.
func TestParallelRunKilled(t *testing.T) {
	t.Parallel()
	schema := pgParallelSource(t)
	dir := t.TempDir()
	env := append(parallelCatalog(t, dir, "postgres", "env:PG_URL", schema+".events"), "PG_URL="+testdb.PostgresURL())

	r := wharf(t, dir, append(env, "WHARF_TEST_CRASH_AT=file-written:3"), "run", "events_four")
	if r.code != -1 || !strings.Contains(r.stderr, "killing the process") {
		t.Fatalf("the run should have been killed after its third file:\n%s", r)
	}
	if len(parquetFiles(t, filepath.Join(dir, "four"))) < 3 {
		t.Fatalf("the killed run should have left files behind")
	}
	mustWharf(t, dir, env, "run", "events_four")
	checkIDsOnce(t, filepath.Join(dir, "four"), parallelRows)
}

// parallelFleet deploys the parallel catalog over the parallel tests'
// PostgreSQL table on a PostgreSQL state of its own, for serve processes:
// it returns the directory, the environment and the state's URL.
func parallelFleet(t *testing.T, engine string) (string, []string, string) {
	t.Helper()
	stateURL, _ := testdb.PostgresSchema(t)
	dir := t.TempDir()
	var env []string
	if engine == "mysql" {
		tdb, _ := mysqlParallelSource(t)
		env = append(parallelCatalog(t, dir, "mysql", "env:SHOP_DB_URL", tdb.Name+".events"), "SHOP_DB_URL="+tdb.URL)
	} else {
		schema := pgParallelSource(t)
		env = append(parallelCatalog(t, dir, "postgres", "env:PG_URL", schema+".events"), "PG_URL="+testdb.PostgresURL())
	}
	env = append(env, "WHARF_STATE="+stateURL)
	mustWharf(t, dir, env, "deploy")
	return dir, env, stateURL
}

// TestParallelFleetWorkerKilled: of two serve processes on one PostgreSQL
// state, the one running a parallel: 4 landing (the coordinator of its
// chunks, holding the snapshot) is killed (SIGKILL, at its second file)
// while chunks are read; the other abandons the run once the first is
// known dead (the chunk jobs of the dead run find its snapshot gone) and
// lands the window again as one retry run: every id once.
func TestParallelFleetWorkerKilled(t *testing.T) {
	t.Parallel()
	dir, env, _ := parallelFleet(t, "postgres")

	args := []string{"serve", "--heartbeat", "500ms", "--dead-after", "3s", "--poll-interval", "100ms"}
	// Only the first process is armed, and the second starts once the
	// first has the run: the retry cannot be killed too.
	victim := startWharf(t, dir, append(env, "WHARF_TEST_CRASH_AT=file-written:2"), args...)
	id := strings.TrimSpace(mustWharf(t, dir, env, "trigger", "events_four").stdout)
	waitUntil(t, 60*time.Second, "the run to start", func() bool {
		for _, r := range runsJSON(t, dir, env) {
			if r.ID == id && r.Status == "running" {
				return true
			}
		}
		return false
	})
	survivor := startWharf(t, dir, env, args...)
	select {
	case err := <-victim.done:
		victim.done <- err // for startWharf's cleanup
	case <-time.After(120 * time.Second):
		t.Fatal("the armed process was not killed at its second file")
	}
	if !strings.Contains(victim.stderr.String(), "killing the process") {
		t.Fatalf("the first process ended without the crash point:\n%s", victim.stderr)
	}
	var done runJSON
	waitUntil(t, 180*time.Second, "the other process to land the run", func() bool {
		for _, r := range runsJSON(t, dir, env) {
			if r.Status == "succeeded" && r.Workflow == "events_four" {
				done = r
				return true
			}
		}
		return false
	})
	if done.Trigger != "retry" || done.Rows != parallelRows {
		t.Errorf("succeeded run %+v, want a retry of %d rows", done, parallelRows)
	}
	checkIDsOnce(t, filepath.Join(dir, "four"), parallelRows)
	survivor.stop(t, 30*time.Second)
}

// TestParallelFleetChunkKilled: two serve processes on one PostgreSQL
// state share a parallel: 4 run of a PostgreSQL table, and of a MariaDB
// one, each chunk a River job. Both are armed to
// die while reading a chunk of a run the other coordinates, so the process
// that is not the run's own is killed (SIGKILL) mid-chunk; the run's own
// process reads the chunks it had in hand again once it is known dead, and
// the run commits once: every id once, and only those chunks read twice.
func TestParallelFleetChunkKilled(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{"postgres", "mysql"} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fleetChunkKilled(t, engine)
		})
	}
}

// fleetChunkKilled is TestParallelFleetChunkKilled on a source engine:
// MariaDB's chunks are read from their jobs' arguments alone (key ranges
// planned once, each read in a snapshot of its own).
func fleetChunkKilled(t *testing.T, engine string) {
	dir, env, stateURL := parallelFleet(t, engine)

	args := []string{"serve", "--heartbeat", "500ms", "--dead-after", "3s", "--poll-interval", "100ms", "--workers", "2", "--log-level", "debug"}
	armed := append(env, "WHARF_TEST_CRASH_AT=other-chunk")
	procs := []*daemon{startWharf(t, dir, armed, args...), startWharf(t, dir, armed, args...)}
	id := strings.TrimSpace(mustWharf(t, dir, env, "trigger", "events_four").stdout)

	var victim, survivor *daemon
	select {
	case err := <-procs[0].done:
		procs[0].done <- err
		victim, survivor = procs[0], procs[1]
	case err := <-procs[1].done:
		procs[1].done <- err
		victim, survivor = procs[1], procs[0]
	case <-time.After(120 * time.Second):
		t.Fatalf("no process was killed reading the other's chunk:\n%s\n%s", procs[0].stderr, procs[1].stderr)
	}
	if !strings.Contains(victim.stderr.String(), "other-chunk: killing the process") {
		t.Fatalf("a process ended without the crash point:\n%s", victim.stderr)
	}
	var done runJSON
	waitUntil(t, 120*time.Second, "the run to land", func() bool {
		for _, r := range runsJSON(t, dir, env) {
			if r.ID == id && r.Status != "running" && r.Status != "queued" {
				done = r
				return true
			}
		}
		return false
	})
	if done.Status != "succeeded" || done.Rows != parallelRows {
		t.Fatalf("run %+v, want it succeeded with %d rows (the killed chunk read again, not the run)", done, parallelRows)
	}
	if n := len(runsJSON(t, dir, env)); n != 1 {
		t.Errorf("%d runs, want the one", n)
	}

	state, err := pgx.Connect(t.Context(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close(context.Background())
	// The chunks the killed process had in hand as its log shows them
	// (started, not done): each is read again. It may have claimed one
	// more without logging it yet, but no more than its --workers 2.
	inHand := map[int]bool{}
	for _, m := range regexp.MustCompile(`msg="(reading a chunk|chunk done)" .*?chunk=(\d+) `).FindAllStringSubmatch(victim.stderr.String(), -1) {
		k, _ := strconv.Atoi(m[2])
		inHand[k-1] = m[1] == "reading a chunk"
	}
	rows, err := state.Query(t.Context(), `SELECT chunk, status, attempts FROM wharf_chunks WHERE run_id = $1 ORDER BY chunk`, id)
	if err != nil {
		t.Fatal(err)
	}
	chunks, again := 0, 0
	for rows.Next() {
		var k, attempts int
		var status string
		if err := rows.Scan(&k, &status, &attempts); err != nil {
			t.Fatal(err)
		}
		chunks++
		if attempts == 2 {
			again++
		}
		if status != "done" || attempts < 1 || attempts > 2 || inHand[k] && attempts != 2 {
			t.Errorf("chunk %d: %s after %d attempts, want done after %d", k+1, status, attempts, map[bool]int{false: 1, true: 2}[inHand[k]])
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if chunks < 8 || again == 0 || again > 2 {
		t.Errorf("%d chunks, %d read again; want several, and one or two (those the killed process had in hand) read again", chunks, again)
	}
	t.Logf("%d chunks; %d read again (the killed process's)", chunks, again)
	checkIDsOnce(t, filepath.Join(dir, "four"), parallelRows)
	survivor.stop(t, 30*time.Second)
}

// TestConnectionMaxParallelFleet: two serve processes on one PostgreSQL
// state and a connection of max_parallel 2. A parallel: 4 run reads with
// two streams, its own and one chunk job at a time; once its chunks are
// queued a parallel: 1 run on the same connection starts, and it and the
// chunk jobs take turns at the one slot the run's own stream leaves. The
// source server never has more than two of its sessions reading
// (pg_stat_activity, by the source URL's application_name: client backends
// in a transaction; an idle pooled session is in none, and the parallel
// workers of the server's own plans are not sessions). The test keeps both processes stopped (SIGSTOP) most
// of the time, looking at the server meanwhile, so that every read lasts
// long enough to be seen beside the others. Both runs land every row once.
func TestConnectionMaxParallelFleet(t *testing.T) {
	t.Parallel()
	schema := pgParallelSource(t)
	stateURL, _ := testdb.PostgresSchema(t)
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "wharf.yaml"), fmt.Sprintf(`connections:
  src: {engine: postgres, secret: env:PG_URL, max_parallel: 2}
lakes:
  one: {url: "file://%[1]s/one"}
  four: {url: "file://%[1]s/four", file_size: 1MiB}
workflows:
  - {name: events_one, connection: src, table: %[2]s.events, cursor: updated_at, lake: one}
  - {name: events_four, connection: src, table: %[2]s.events, cursor: updated_at, lake: four, parallel: 4}
`, dir, schema))
	env := []string{"WHARF_STATE=" + stateURL, "WHARF_CATALOG=" + filepath.Join(dir, "wharf.yaml"), "PG_URL=" + withParam(t, testdb.PostgresURL(), "application_name", "capped_src")}
	mustWharf(t, dir, env, "deploy")

	watch, err := pgx.Connect(t.Context(), testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(context.Background())
	state, err := pgx.Connect(t.Context(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close(context.Background())

	args := []string{"serve", "--heartbeat", "500ms", "--dead-after", "10s", "--poll-interval", "100ms", "--workers", "4"}
	procs := []*daemon{startWharf(t, dir, env, args...), startWharf(t, dir, env, args...)}
	// The watcher: both processes stopped for 20 ms, a look at the server,
	// 5 ms running, until done is closed.
	done, watched := make(chan struct{}), make(chan [2]int)
	go func() {
		most, seen := 0, 0
		defer func() { watched <- [2]int{most, seen} }()
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, p := range procs {
				_ = p.cmd.Process.Signal(syscall.SIGSTOP)
			}
			time.Sleep(20 * time.Millisecond)
			var n int
			look := func() error {
				return watch.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE application_name = 'capped_src' AND backend_type = 'client backend' AND xact_start IS NOT NULL`).Scan(&n)
			}
			err := look()
			if err == nil && n > 2 {
				// A session a stream has just closed may not have exited
				// yet; none can start while both processes are stopped.
				time.Sleep(100 * time.Millisecond)
				err = look()
			}
			for _, p := range procs {
				_ = p.cmd.Process.Signal(syscall.SIGCONT)
			}
			if err != nil {
				t.Error(err)
				return
			}
			most = max(most, n)
			if n > 0 {
				seen++
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	stopWatching := sync.OnceValue(func() [2]int { close(done); return <-watched })
	defer stopWatching()

	four := strings.TrimSpace(mustWharf(t, dir, env, "trigger", "events_four").stdout)
	waitUntil(t, 120*time.Second, "events_four's chunks to be queued", func() bool {
		var n int
		if err := state.QueryRow(t.Context(), `SELECT count(*) FROM wharf_chunks WHERE run_id = $1 AND status <> 'done'`, four).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n > 1
	})
	mustWharf(t, dir, env, "trigger", "events_one")
	waitUntil(t, 300*time.Second, "both runs to land", func() bool {
		runs := runsJSON(t, dir, env)
		for _, r := range runs {
			if r.Status != "succeeded" && r.Status != "failed" {
				return false
			}
		}
		return len(runs) == 2
	})
	w := stopWatching()
	for _, r := range runsJSON(t, dir, env) {
		if r.Status != "succeeded" || r.Rows != parallelRows {
			t.Errorf("run %+v, want succeeded with %d rows", r, parallelRows)
		}
	}
	if w[1] == 0 {
		t.Fatal("no session of the source was ever seen reading: the test watched nothing")
	}
	if w[0] > 2 {
		t.Errorf("%d sessions read from the source at once; its max_parallel is 2", w[0])
	}
	t.Logf("at most %d sessions reading at once, seen in %d looks", w[0], w[1])
	checkIDsOnce(t, filepath.Join(dir, "four"), parallelRows)
	checkIDsOnce(t, filepath.Join(dir, "one"), parallelRows)
	for _, p := range procs {
		p.stop(t, 30*time.Second)
	}
}

// withParam is the URL raw with its query parameter key set to value.
func withParam(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
