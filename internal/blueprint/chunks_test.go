package blueprint_test

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/catalog"
	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestChunksReadByAnotherProcess: a parallel run of a PostgreSQL table,
// and of a MariaDB one, records its chunks with their orders
// (Lander.QueueChunks); another
// lander (another process: its own ID, sources and lakes) reads chunks
// from the orders alone (LandChunk) while the run's own stream reads the
// rest. The run commits once: every row once, masked with the same salt
// and partitioned alike whoever read it, in a Parquet and an Iceberg lake.
func TestChunksReadByAnotherProcess(t *testing.T) {
	t.Parallel()
	const rows = 100_000
	pgDSN, pgSchema, _ := peopleTable(t, rows)
	my := peopleMySQL(t, rows)
	for _, tc := range []struct{ engine, dsn, schema, format string }{
		{"postgres", pgDSN, pgSchema, catalog.LakeParquet},
		{"postgres", pgDSN, pgSchema, catalog.LakeIceberg},
		{"mysql", my.URL, my.Name, catalog.LakeParquet},
		{"mysql", my.URL, my.Name, catalog.LakeIceberg},
	} {
		t.Run(tc.engine+"/"+tc.format, func(t *testing.T) {
			t.Parallel()
			job, st, dir, secrets := peopleRun(t, tc.dsn, tc.schema, tc.format)
			job.Connection.Engine = tc.engine
			lakeDir := filepath.Join(dir, "lake")
			orders := make(chan []blueprint.ChunkOrder, 1)
			a := &blueprint.Lander{State: st, WorkerID: "a", Secrets: "file:" + secrets, QueueChunks: func(_ context.Context, _ any, o []blueprint.ChunkOrder) error {
				orders <- o
				return nil
			}}
			b := &blueprint.Lander{State: st, WorkerID: "b", Secrets: "file:" + secrets}
			c := &blueprint.Lander{State: st, WorkerID: "c", Secrets: "file:" + t.TempDir()}
			defer a.Close()
			defer b.Close()
			defer c.Close()

			var wg sync.WaitGroup
			var res *blueprint.Result
			landed := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(landed)
				res, _ = a.Land(t.Context(), job, state.TriggerManual)
			}()
			var got []blueprint.ChunkOrder
			select {
			case got = <-orders:
			case <-landed:
				t.Fatalf("the run ended without recording chunks: %+v", res)
			}
			// c cannot resolve the secrets: it fails without claiming.
			if err := c.LandChunk(t.Context(), job, got[0]); err == nil || !strings.Contains(err.Error(), `secret "salt"`) {
				t.Errorf("a chunk on a process without the secrets: %v, want an error naming the secret", err)
			}
			// b reads the first chunks, two at once, as two chunk jobs would.
			sem := make(chan struct{}, 2)
			for _, o := range got {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					if err := b.LandChunk(t.Context(), job, o); err != nil && !errors.Is(err, blueprint.ErrChunkNotTaken) {
						t.Errorf("chunk %d: %v", o.Chunk+1, err)
					}
				}()
			}
			wg.Wait()
			if res == nil || res.Err != nil || res.Rows != rows {
				t.Fatalf("run %+v, want %d rows landed", res, rows)
			}
			chunks, err := st.RunChunks(t.Context(), res.RunID)
			if err != nil {
				t.Fatal(err)
			}
			byB := 0
			for _, c := range chunks {
				if c.WorkerID == "b" {
					byB++
				}
				if c.WorkerID == "c" || c.Attempts != 1 {
					t.Errorf("chunk %d: read by %s in %d attempts, want once by a or b", c.Chunk+1, c.WorkerID, c.Attempts)
				}
			}
			if len(chunks) < 4 || byB == 0 || byB == len(chunks) {
				t.Fatalf("%d chunks, %d read by the other process; want some by each", len(chunks), byB)
			}

			seen := map[int64]int{}
			for _, f := range res.Files {
				tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, f.Path))
				sch := tbl.Schema()
				ids, emails := sch.FieldIndices("id")[0], sch.FieldIndices("email")[0]
				idCol, emailCol := tbl.Column(ids).Data().Chunks(), tbl.Column(emails).Data().Chunks()
				for c := range idCol {
					for i := range idCol[c].Len() {
						id := idCol[c].(*array.Int64).Value(i)
						seen[id]++
						sum := sha256.Sum256(fmt.Appendf(nil, "pepper%x@example.com", md5.Sum([]byte(strconv.FormatInt(id, 10)))))
						if got := emailCol[c].(*array.String).Value(i); got != hex.EncodeToString(sum[:]) {
							t.Fatalf("%s: id %d: email %q, want its sha256 with the salt", f.Path, id, got)
						}
					}
				}
			}
			if len(seen) != rows {
				t.Fatalf("%d ids in the lake, want %d", len(seen), rows)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("id %d landed %d times", id, n)
				}
			}
		})
	}
}

// peopleTable creates a table people of rows rows in a schema of its own
// and returns its DSN, schema and a connection to it.
func peopleTable(t *testing.T, rows int) (string, string, *pgx.Conn) {
	t.Helper()
	dsn, schema := testdb.PostgresSchema(t)
	src, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close(context.Background()) })
	for _, q := range []string{
		`CREATE TABLE people (id bigint PRIMARY KEY, email text, region text NOT NULL, updated_at timestamptz NOT NULL)`,
		fmt.Sprintf(`INSERT INTO people SELECT g, md5(g::text) || '@example.com', 'r' || (g %% 3),
			'2026-01-01'::timestamptz + g * interval '1 second' FROM generate_series(1, %d) g`, rows),
	} {
		if _, err := src.Exec(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	return dsn, schema, src
}

// peopleMySQL is peopleTable on MariaDB/MySQL.
func peopleMySQL(t *testing.T, rows int) *testdb.MySQLDatabase {
	t.Helper()
	tdb := testdb.MySQL(t)
	if _, err := tdb.DB.ExecContext(t.Context(), `CREATE TABLE people (id bigint PRIMARY KEY, email text, region varchar(8) NOT NULL, updated_at datetime(6) NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for lo := 1; lo <= rows; lo += 1000 { // MySQL's default CTE depth is 1000
		if _, err := tdb.DB.ExecContext(t.Context(), fmt.Sprintf(`INSERT INTO people
			WITH RECURSIVE g(n) AS (SELECT %d UNION ALL SELECT n + 1 FROM g WHERE n < %d)
			SELECT n, CONCAT(MD5(n), '@example.com'), CONCAT('r', n %% 3), TIMESTAMP('2026-01-01') + INTERVAL n SECOND FROM g`, lo, min(lo+999, rows))); err != nil {
			t.Fatal(err)
		}
	}
	return tdb
}

// peopleRun is a workflow landing people with parallel: 4 into a lake of
// format under the returned dir (lake/), with its secrets as bare names in
// the returned secrets folder, and a SQLite state where processes a, b
// and c beat.
func peopleRun(t *testing.T, dsn, schema, format string) (*catalog.Resolved, state.Store, string, string) {
	t.Helper()
	dir, secrets := t.TempDir(), t.TempDir()
	secret := func(name, value string) string {
		if err := os.WriteFile(filepath.Join(secrets, name+".json"), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
		return name
	}
	job := &catalog.Resolved{
		Workflow: catalog.Workflow{Name: "people", Connection: "hr", Table: schema + ".people", Lake: "raw", Cursor: "updated_at",
			Blueprint: "landing", Format: "parquet", Parallel: 4, PartitionBy: "region",
			Choices: catalog.ColumnChoices{Mask: map[string]string{"email": "sha256"}, MaskSalt: secret("salt", "pepper")}},
		Connection: catalog.Connection{Name: "hr", Engine: "postgres", Secret: secret("hr", dsn)},
		Lake:       catalog.Lake{Name: "raw", URL: "file://" + filepath.Join(dir, "lake"), Format: format},
	}
	st, err := stateurl.Open(t.Context(), "sqlite:"+filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for _, id := range []string{"a", "b", "c"} {
		if err := st.Heartbeat(t.Context(), &state.Worker{ID: id, Host: "elsewhere", PID: 1, Role: "serve", DeadAfter: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	return job, st, dir, secrets
}

// TestChunkStopsWhenRunEnds: a process reading a chunk of another's run
// stops when the run ends (here cancelled) instead of reading on: its
// read is held back by a lock the test queues on the table, so it would
// never finish by itself.
func TestChunkStopsWhenRunEnds(t *testing.T) {
	t.Parallel()
	dsn, schema, src := peopleTable(t, 100_000)
	job, st, dir, secrets := peopleRun(t, dsn, schema, catalog.LakeParquet)
	orders := make(chan []blueprint.ChunkOrder, 1)
	a := &blueprint.Lander{State: st, WorkerID: "a", Secrets: "file:" + secrets, QueueChunks: func(_ context.Context, _ any, o []blueprint.ChunkOrder) error {
		orders <- o
		return nil
	}}
	b := &blueprint.Lander{State: st, WorkerID: "b", Secrets: "file:" + secrets, RunWatch: 50 * time.Millisecond}
	defer a.Close()
	defer b.Close()
	ctxA, cancelA := context.WithCancel(t.Context())
	defer cancelA()
	landed := make(chan struct{})
	go func() {
		defer close(landed)
		_, _ = a.Land(ctxA, job, state.TriggerManual)
	}()
	var got []blueprint.ChunkOrder
	select {
	case got = <-orders:
	case <-landed:
		t.Fatal("the run ended without recording chunks")
	}
	// The coordinator's snapshot holds the table; an exclusive lock queued
	// behind it holds back every later read of it: b's.
	lockTx, err := src.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer lockTx.Rollback(context.Background()) //nolint:errcheck // ended below
	locked := make(chan error, 1)
	go func() {
		_, err := lockTx.Exec(t.Context(), "SET LOCAL lock_timeout = '120s'; LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
		locked <- err
	}()
	probe, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close(context.Background())
	waitUntil(t, "the lock queued", func() bool {
		var n int
		err := probe.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass`, schema+".people").Scan(&n)
		return err == nil && n > 0
	})
	errB := make(chan error, 1)
	go func() { errB <- b.LandChunk(t.Context(), job, got[0]) }()
	runID := got[0].RunID
	waitUntil(t, "b to claim its chunk", func() bool {
		cs, err := st.RunChunks(t.Context(), runID)
		return err == nil && cs[0].Status == state.ChunkRunning && cs[0].WorkerID == "b"
	})
	run, err := st.Run(t.Context(), runID)
	if err != nil {
		t.Fatal(err)
	}
	run.Status, run.Error = state.StatusCancelled, "cancelled (test)"
	if err := st.FinishRun(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errB:
		if !errors.Is(err, blueprint.ErrChunkNotTaken) || !strings.Contains(err.Error(), "its run ended") {
			t.Fatalf("b's chunk after the run was cancelled: %v; want it stopped because its run ended", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("b still reads its chunk 30 s after its run was cancelled")
	}
	cancelA()
	<-landed
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	_ = lockTx.Rollback(t.Context())
	var files []string
	_ = filepath.WalkDir(filepath.Join(dir, "lake"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 0 {
		t.Fatalf("files left by a cancelled run: %v", files)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
