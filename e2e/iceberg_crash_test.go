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
