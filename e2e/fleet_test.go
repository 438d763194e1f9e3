package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestFleetTakesOverKilledProcess runs two wharf serve processes on one
// PostgreSQL state, triggers a slow landing, SIGKILLs the process running
// it, and checks that the other notices (heartbeat), finishes the landing,
// and that every source row is in the lake exactly once.
func TestFleetTakesOverKilledProcess(t *testing.T) {
	t.Parallel()
	const rows = 1500 // ~2 ms per row through the slow view: a run of several seconds
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE events (id integer PRIMARY KEY, payload text, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO events SELECT g, 'event ' || g, '2026-01-01'::timestamptz + g * interval '1 second'
		FROM generate_series(1, %d) g`, rows))
	sqlExec(t, conn, `CREATE VIEW slow_events AS SELECT * FROM events WHERE pg_sleep(0.002) IS NOT NULL`)
	stateURL, _ := testdb.PostgresSchema(t)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	catalog := pgFileCatalog(t, dir, lakeDir, u, fmt.Sprintf("  - {name: slow_events, connection: src, lake: raw, table: %s.slow_events, cursor: updated_at}\n", schema))
	env := []string{"WHARF_STATE=" + stateURL, catalog}
	mustWharf(t, dir, env, "deploy")

	args := []string{"serve", "--heartbeat", "500ms", "--dead-after", "3s", "--poll-interval", "100ms", "--log-level", "debug"}
	procs := []*daemon{startWharf(t, dir, env, args...), startWharf(t, dir, env, args...)}
	id := strings.TrimSpace(mustWharf(t, dir, env, "trigger", "slow_events").stdout)

	state, err := pgx.Connect(context.Background(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer state.Close(context.Background())
	var worker string
	waitUntil(t, 60*time.Second, "the run to start", func() bool {
		var status string
		var w *string
		if err := state.QueryRow(context.Background(), `SELECT status, worker_id FROM wharf_runs WHERE id = $1`, id).Scan(&status, &w); err != nil {
			t.Fatal(err)
		}
		if status == "running" && w != nil {
			worker = *w
			return true
		}
		return false
	})
	time.Sleep(time.Second) // mid-run
	parts := strings.Split(worker, "-")
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil {
		t.Fatalf("worker ID %q: %v", worker, err)
	}
	var victim, survivor *daemon
	for i, p := range procs {
		if p.cmd.Process.Pid == pid {
			victim, survivor = p, procs[1-i]
		}
	}
	if victim == nil {
		t.Fatalf("run %s is on worker %s, not one of the two processes", id, worker)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()

	var done []runJSON
	waitUntil(t, 120*time.Second, "another process to finish the landing", func() bool {
		done = nil
		for _, r := range runsJSON(t, dir, env) {
			if r.Status == "succeeded" {
				done = append(done, r)
			}
		}
		return len(done) > 0
	})
	took := time.Since(killed)
	if len(done) != 1 || done[0].Trigger != "retry" || done[0].Rows != rows {
		t.Fatalf("succeeded runs %+v, want one retry run of %d rows", done, rows)
	}
	all := runsJSON(t, dir, env)
	var dead *runJSON
	for i := range all {
		if all[i].ID == id {
			dead = &all[i]
		}
	}
	if dead == nil || dead.Status != "failed" || !strings.Contains(dead.Error, "abandoned") {
		t.Fatalf("killed run %+v, want failed: abandoned", dead)
	}
	t.Logf("run taken over and finished %s after SIGKILL", took.Round(100*time.Millisecond))

	// Every source row landed exactly once.
	files := parquetFiles(t, lakeDir)
	if len(files) == 0 {
		t.Fatal("no parquet files")
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(lakeDir, f)
		if !strings.Contains(f, "part-"+done[0].ID) {
			t.Errorf("file %s is not from the succeeded run %s (leftover of the killed run?)", f, done[0].ID)
		}
	}
	tbl := parquettest.ReadFiles(t, paths...)
	seen := map[int32]int{}
	reader := array.NewTableReader(tbl, 0)
	defer reader.Release()
	for reader.Next() {
		rec := reader.RecordBatch()
		col := rec.Column(int(rec.Schema().FieldIndices("id")[0])).(*array.Int32)
		for i := range col.Len() {
			seen[col.Value(i)]++
		}
	}
	if len(seen) != rows {
		t.Fatalf("%d distinct ids in the lake, want %d", len(seen), rows)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("id %d landed %d times", id, n)
		}
	}
	survivor.stop(t, 30*time.Second)
}
