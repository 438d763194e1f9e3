package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	_ "github.com/apache/iceberg-go/io/gocloud/s3" // iceberg-go's own S3 reader: independent of wharf's
	"github.com/apache/iceberg-go/table"

	"github.com/wharf-data/wharf/internal/state/statesqlite"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestKilledIcebergRunsLandEveryRowOnce is the crash test of an iceberg
// lake on S3 (versitygw): the real wharf is SIGKILLed after its last file,
// before its state commit, after the state commit but before the catalog
// commit, after the catalog commit and after the manifest; then run again.
// Read back with iceberg-go's own S3 reader, the table's current snapshot
// holds every row of the source once, and there is one snapshot per
// succeeded run (a retry that finds nothing new makes an empty one), each
// naming its run; the bucket holds every row once, as on a parquet lake.
func TestKilledIcebergRunsLandEveryRowOnce(t *testing.T) {
	t.Parallel()
	conn, schema := crashSource(t)
	cases := []struct {
		point     string
		committed bool // the killed run committed in the state store
	}{
		{"file-written", false},
		{"before-commit", false},
		{"after-commit", true},   // before the catalog commit
		{"after-snapshot", true}, // after it
		{"after-manifest", true},
	}
	for i, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			tname := fmt.Sprintf("ice_events_%d", i)
			s, dir, env, prefix := killedRun(t, conn, schema, tname, "iceberg", c.point)
			tbl := icebergTable(t, s, filepath.Join(dir, "state.db"), schema+"_"+tname)
			wantSnaps := 1
			if c.point == "after-snapshot" || c.point == "after-manifest" {
				wantSnaps = 2
			}
			if n := len(tbl.Metadata().Snapshots()); n != wantSnaps {
				t.Errorf("killed at %s: the table has %d snapshots, want %d", c.point, n, wantSnaps)
			}

			if c.point == "after-commit" {
				v := wharf(t, dir, env, "lake", "verify", "events")
				if v.code != 1 || !strings.Contains(v.stdout, "committed in the state store but has no snapshot in Iceberg table") {
					t.Errorf("lake verify should report the committed run without a snapshot:\n%s", v)
				}
			}
			r := mustWharf(t, dir, env, "run", "events")
			if c.committed && !strings.Contains(r.stdout, "Nothing new to land") {
				t.Errorf("the killed run had committed: its retry should land nothing:\n%s", r)
			}
			if c.point == "after-commit" && !strings.Contains(r.stderr, "appended the missing snapshot of a committed run") {
				t.Errorf("the retry should have appended the killed run's snapshot:\n%s", r)
			}
			checkExactlyOnce(t, s, prefix, crashTotalRows)

			tbl = icebergTable(t, s, filepath.Join(dir, "state.db"), schema+"_"+tname)
			wantRuns := 2 // the first run and the retry
			if c.committed {
				wantRuns = 3 // and the killed run; the retry lands nothing
			}
			if n := checkSnapshotRuns(t, tbl, dir, env, "events"); n != wantRuns {
				t.Errorf("%d succeeded runs, want %d", n, wantRuns)
			}
			if bad, others := onceEach(scanIDs(t, tbl), crashTotalRows); bad > 0 || others > 0 {
				t.Errorf("the table's current snapshot: %d of %d ids are not there exactly once", bad, crashTotalRows)
			}
			v := wharf(t, dir, env, "lake", "verify", "events")
			if v.code != 0 || !strings.Contains(v.stdout, "events: OK") || !strings.Contains(v.stdout, fmt.Sprintf("%d snapshot(s); the current one has", wantRuns)) {
				t.Errorf("lake verify after the retry:\n%s", v)
			}
		})
	}
}

// icebergTable loads a table from the SQL catalog in a wharf state file,
// with iceberg-go's own S3 file IO for the test bucket.
func icebergTable(t *testing.T, s *testdb.S3Server, statePath, name string) *table.Table {
	t.Helper()
	db, err := sql.Open("sqlite", statesqlite.DSN(statePath))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c, err := sqlcat.NewCatalog("wharf", db, sqlcat.SQLite, s.IcebergIO())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.LoadTable(context.Background(), table.Identifier{"postgres", name})
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestKilledIcebergFullLoadRepaired kills a full-load workflow (no cursor)
// between its state commit and the catalog commit: the next run first
// makes the killed run's snapshot, an overwrite, then its own, another
// overwrite. The table holds the source's rows as the last run read them,
// once each (not a copy per run), and time travel reaches each run's.
func TestKilledIcebergFullLoadRepaired(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	const first, total = 1000, 2000
	sqlExec(t, conn, `CREATE TABLE items (id integer PRIMARY KEY, payload text NOT NULL)`)
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, %d) g`, first))
	s := testdb.S3Bucket(t)
	dir := t.TempDir()
	env := s3Catalog(t, dir, s, schema, "items", "iceberg", "")
	mustWharf(t, dir, env, "run", "events")
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO items SELECT g, md5(g::text) FROM generate_series(%d, %d) g`, first+1, total))
	if r := wharf(t, dir, append(env, "WHARF_TEST_CRASH_AT=after-commit"), "run", "events"); r.code != -1 || !strings.Contains(r.stderr, "killing the process") {
		t.Fatalf("the run should have been killed after its state commit:\n%s", r)
	}
	sqlExec(t, conn, `DELETE FROM items WHERE id = 1`)
	r := mustWharf(t, dir, env, "run", "events")
	if !strings.Contains(r.stderr, "appended the missing snapshot of a committed run") {
		t.Errorf("the run should have made the killed run's snapshot:\n%s", r)
	}

	tbl := icebergTable(t, s, filepath.Join(dir, "state.db"), schema+"_items")
	if n := checkSnapshotRuns(t, tbl, dir, env, "events"); n != 3 {
		t.Errorf("%d succeeded runs, want 3", n)
	}
	snaps := tbl.Metadata().Snapshots()
	var ops []string
	for _, snap := range snaps {
		ops = append(ops, string(snap.Summary.Operation))
	}
	if got := strings.Join(ops, " "); got != "append overwrite overwrite" {
		t.Errorf("snapshot operations %q, want append overwrite overwrite (the first full load has nothing to replace)", got)
	}
	// The current snapshot: ids 2..total, as the source is now.
	count := scanIDs(t, tbl)
	if bad, others := onceEach(count, total); bad != 1 || count[1] != 0 || others > 0 {
		t.Errorf("the current snapshot should hold ids 2..%d once each: %d ids are not there once (id 1: %d times), %d others", total, bad, count[1], others)
	}
	// Time travel: the first run's rows and the killed run's, once each.
	for i, n := range []int{first, total} {
		if bad, others := onceEach(scanIDs(t, tbl, table.WithSnapshotID(snaps[i].SnapshotID)), n); bad > 0 || others > 0 {
			t.Errorf("time travel to snapshot %d: %d of ids 1..%d are not there once, %d others", i+1, bad, n, others)
		}
	}
	v := wharf(t, dir, env, "lake", "verify", "events")
	if v.code != 0 || !strings.Contains(v.stdout, "events: OK") || !strings.Contains(v.stdout, fmt.Sprintf("3 snapshot(s); the current one has 1 file(s), %d rows", total-1)) {
		t.Errorf("lake verify after the repair:\n%s", v)
	}
}
