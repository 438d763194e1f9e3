package e2e

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/testdb"
)

// Rows of the crash tests' source table: a small first window, then a big
// one of 256 hex characters a row (~25 MB of zstd Parquet), so that a run
// writes several files of more than one 8 MiB upload part each.
const (
	crashFirstRows = 20000
	crashTotalRows = 300000
)

// TestKilledRunsLandEveryRowOnce kills the real wharf process (SIGKILL,
// through WHARF_TEST_CRASH_AT) at each point of a run into an S3 lake
// (versitygw) from PostgreSQL — during a part upload, after a file, after
// the last upload but before the state commit, right after the commit, after
// the manifest — then runs it again. An independent read (aws-sdk-go-v2
// listing, arrow-go Parquet reader) then finds each source row in the lake
// exactly once, no unfinished upload, and manifests that claim exactly the
// lake's files with their true row counts and sizes.
func TestKilledRunsLandEveryRowOnce(t *testing.T) {
	t.Parallel()
	conn, schema := crashSource(t)

	cases := []struct {
		point string
		// committed: the killed run committed (its rows must not land again).
		committed bool
	}{
		{"upload-part", false},
		{"upload-part:2", false}, // one part later
		{"file-written", false},
		{"before-commit", false},
		{"after-commit", true},
		{"after-manifest", true},
	}
	for i, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			s, dir, env, prefix := killedRun(t, conn, schema, fmt.Sprintf("events_%d", i), "", c.point)
			afterCrash := s.Keys(t)
			switch c.point {
			case "upload-part", "upload-part:2":
				if len(s.Uploads(t)) == 0 {
					t.Errorf("killed during a part upload, the bucket should hold an unfinished multipart upload")
				}
			case "file-written", "before-commit":
				if !hasLeftover(afterCrash, prefix) {
					t.Errorf("killed after writing files, the bucket should hold them: %v", afterCrash)
				}
				ls := wharf(t, dir, env, "lake", "ls", "raw", prefix)
				if ls.code != 0 || !regexp.MustCompile(`(?m)^leftover +- `).MatchString(ls.stdout) {
					t.Errorf("lake ls should show the killed run's files as leftovers:\n%s", ls)
				}
			}

			r := mustWharf(t, dir, env, "run", "events")
			if c.committed && !strings.Contains(r.stdout, "Nothing new to land") {
				t.Errorf("the killed run had committed: its retry should land nothing:\n%s", r)
			}
			if !c.committed && !strings.Contains(r.stdout, fmt.Sprint(crashTotalRows-crashFirstRows)) {
				t.Errorf("the retry should land the %d rows of the window:\n%s", crashTotalRows-crashFirstRows, r)
			}

			checkExactlyOnce(t, s, prefix, crashTotalRows)
			if up := s.Uploads(t); len(up) != 0 {
				t.Errorf("unfinished multipart uploads left behind: %v", up)
			}
			v := wharf(t, dir, env, "lake", "verify", "events")
			if v.code != 0 || !strings.Contains(v.stdout, "events: OK") || !strings.Contains(v.stdout, "0 leftover file(s)") {
				t.Errorf("lake verify after the retry:\n%s", v)
			}
			if c.point == "after-commit" {
				ms := manifests(t, s)
				repaired := 0
				for _, m := range ms {
					if m.Repaired {
						repaired++
					}
				}
				if repaired != 1 {
					t.Errorf("the run killed after its commit should have a repaired manifest; %d of %d are", repaired, len(ms))
				}
			}
		})
	}
}

// crashSource makes the crash tests' source schema with its template
// table of crashTotalRows rows.
func crashSource(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("lands over 100 MB into S3")
	}
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, fmt.Sprintf(`CREATE TABLE template AS SELECT g AS id,
		md5(g::text) || md5((g * 3)::text) || md5((g * 5)::text) || md5((g * 7)::text) ||
		md5((g * 11)::text) || md5((g * 13)::text) || md5((g * 17)::text) || md5((g * 19)::text) AS payload,
		'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second' AS updated_at
		FROM generate_series(1, %d) g`, crashTotalRows))
	return conn, schema
}

// killedRun makes table (the template's first window), a bucket and a
// catalog landing the table into it (lakeFormat: "" = parquet), lands the
// first window, adds the rest, and runs wharf killed at point. It returns
// the bucket, the directory and environment of the catalog, and the
// table's lake prefix.
func killedRun(t *testing.T, conn *pgx.Conn, schema, table, lakeFormat, point string) (*testdb.S3Server, string, []string, string) {
	t.Helper()
	sqlExec(t, conn, fmt.Sprintf(`CREATE TABLE %s (id integer PRIMARY KEY, payload text NOT NULL, updated_at timestamptz NOT NULL)`, table))
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO %s SELECT * FROM template WHERE id <= %d`, table, crashFirstRows))
	s := testdb.S3Bucket(t)
	dir := t.TempDir()
	env := s3Catalog(t, dir, s, schema, table, lakeFormat, "updated_at")
	mustWharf(t, dir, env, "run", "events")
	sqlExec(t, conn, fmt.Sprintf(`INSERT INTO %s SELECT * FROM template WHERE id > %d`, table, crashFirstRows))
	r := wharf(t, dir, append(env, "WHARF_TEST_CRASH_AT="+point), "run", "events")
	if r.code != -1 || !strings.Contains(r.stderr, "killing the process") {
		t.Fatalf("the run should have been killed at %s:\n%s", point, r)
	}
	return s, dir, env, "postgres/" + schema + "." + table
}

// s3Catalog writes a catalog landing <schema>.<table> into the test bucket
// as workflow events, with the lake's keys in a secret file (lakeFormat: ""
// = parquet; cursor: "" = a full load every run), and returns the
// environment.
func s3Catalog(t *testing.T, dir string, s *testdb.S3Server, schema, table, lakeFormat, cursor string) []string {
	t.Helper()
	cursorField := ""
	if cursor != "" {
		cursorField = ", cursor: " + cursor
	}
	keys := filepath.Join(dir, "lake-keys.json")
	if err := os.WriteFile(keys, []byte(s.Secret()), 0o600); err != nil {
		t.Fatal(err)
	}
	cat := fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw:
    url: %q
    secret: file:%s
    file_size: 32MiB
    format: %s
workflows:
  - {name: events, table: %s.%s%s}
`, s.URL(""), keys, cmp.Or(lakeFormat, "parquet"), schema, table, cursorField)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"PG_URL=" + testdb.PostgresURL(), "WHARF_CATALOG=" + catPath, "WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
}

func hasLeftover(keys []string, prefix string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix+"/") && strings.HasSuffix(k, ".parquet") {
			return true
		}
	}
	return false
}

// manifestDoc is the part of a run manifest the test reads.
type manifestDoc struct {
	RunID    string `json:"run_id"`
	Rows     int64  `json:"rows"`
	Repaired bool   `json:"repaired"`
	Files    []struct {
		Path  string `json:"path"`
		Rows  int64  `json:"rows"`
		Bytes int64  `json:"bytes"`
	} `json:"files"`
}

func manifests(t *testing.T, s *testdb.S3Server) []manifestDoc {
	t.Helper()
	var out []manifestDoc
	for _, k := range s.Keys(t) {
		if !strings.HasPrefix(k, "_wharf/manifests/") {
			continue
		}
		var m manifestDoc
		if err := json.Unmarshal(s.Get(t, k), &m); err != nil {
			t.Fatalf("manifest %s: %v", k, err)
		}
		out = append(out, m)
	}
	return out
}

// checkExactlyOnce reads every Parquet object of the bucket with a plain S3
// client and arrow-go's reader: ids 1..total each appear once, and the
// manifests claim exactly these objects with their true rows and sizes.
func checkExactlyOnce(t *testing.T, s *testdb.S3Server, prefix string, total int) {
	t.Helper()
	seen := make([]int, total+1)
	type obj struct{ rows, size int64 }
	objects := map[string]obj{}
	for _, k := range s.Keys(t) {
		if strings.HasPrefix(k, "_wharf/") || strings.HasPrefix(k, prefix+"/metadata/") { // Iceberg's metadata
			continue
		}
		if !strings.HasPrefix(k, prefix+"/") || !strings.HasSuffix(k, ".parquet") {
			t.Errorf("unexpected object %s", k)
			continue
		}
		data := s.Get(t, k)
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, ch := range tbl.Column(0).Data().Chunks() {
			ids := ch.(*array.Int32)
			for i := 0; i < ids.Len(); i++ {
				id := int(ids.Value(i))
				if id < 1 || id > total {
					t.Fatalf("%s: id %d out of range", k, id)
				}
				seen[id]++
			}
		}
		objects[k] = obj{rows: tbl.NumRows(), size: int64(len(data))}
		tbl.Release()
		pf.Close()
	}
	var missing, dup []int
	for id := 1; id <= total; id++ {
		switch {
		case seen[id] == 0:
			missing = append(missing, id)
		case seen[id] > 1:
			dup = append(dup, id)
		}
	}
	if len(missing) > 0 || len(dup) > 0 {
		t.Errorf("%d ids missing (first %v), %d landed more than once (first %v)", len(missing), head(missing), len(dup), head(dup))
	}

	claimed := map[string]bool{}
	for _, m := range manifests(t, s) {
		var rows int64
		for _, f := range m.Files {
			o, ok := objects[f.Path]
			switch {
			case !ok:
				t.Errorf("manifest of run %s claims %s, which is not in the bucket", m.RunID, f.Path)
			case o.rows != f.Rows || o.size != f.Bytes:
				t.Errorf("manifest of run %s: %s has %d rows, %d bytes; the object %d rows, %d bytes", m.RunID, f.Path, f.Rows, f.Bytes, o.rows, o.size)
			}
			if claimed[f.Path] {
				t.Errorf("%s is claimed by two manifests", f.Path)
			}
			claimed[f.Path] = true
			rows += f.Rows
		}
		if rows != m.Rows {
			t.Errorf("manifest of run %s: files hold %d rows, it says %d", m.RunID, rows, m.Rows)
		}
	}
	var unclaimed []string
	for k := range objects {
		if !claimed[k] {
			unclaimed = append(unclaimed, k)
		}
	}
	sort.Strings(unclaimed)
	if len(unclaimed) > 0 {
		t.Errorf("objects no manifest claims: %v", unclaimed)
	}
}

func head(s []int) []int {
	if len(s) > 5 {
		return s[:5]
	}
	return s
}
