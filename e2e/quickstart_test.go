package e2e

import (
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

var hrTables = []string{"regions", "countries", "locations", "departments", "jobs", "employees", "job_history"}

func TestQuickstartLandsEveryTableThenNothingNew(t *testing.T) {
	dir := t.TempDir()
	r := mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	for _, tbl := range hrTables {
		if !regexp.MustCompile(`(?m)^hr_` + tbl + `\s+succeeded\s+[1-9]\d*\s+1\s`).MatchString(r.stdout) {
			t.Errorf("summary has no succeeded line with rows and one file for hr_%s:\n%s", tbl, r)
		}
	}
	if !strings.Contains(r.stdout, "7 workflow(s): 7 succeeded, 0 failed") {
		t.Errorf("summary total missing:\n%s", r)
	}

	db, err := sql.Open("sqlite", filepath.Join(dir, "qs", "source", "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lakeDir := filepath.Join(dir, "qs", "lake")
	files := parquetFiles(t, lakeDir)
	if len(files) != len(hrTables) {
		t.Fatalf("want one Parquet file per table, got %v", files)
	}
	layout := regexp.MustCompile(`^hr/([a-z_]+)/ingestion_date=\d{4}-\d{2}-\d{2}/part-[0-9a-f-]{36}-00000\.parquet$`)
	for _, f := range files {
		m := layout.FindStringSubmatch(filepath.ToSlash(f))
		if m == nil {
			t.Fatalf("file %s does not follow <database>/<table>/ingestion_date=YYYY-MM-DD/part-<run>-<n>.parquet", f)
		}
		var want int64
		if err := db.QueryRow(`SELECT count(*) FROM "` + m[1] + `"`).Scan(&want); err != nil {
			t.Fatal(err)
		}
		tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, f))
		if tbl.NumRows() != want {
			t.Errorf("%s: %d rows in Parquet, %d in the source", f, tbl.NumRows(), want)
		}
		if idx := tbl.Schema().FieldIndices("ingestion_timestamp"); len(idx) != 1 {
			t.Errorf("%s: no ingestion_timestamp column: %s", f, tbl.Schema())
		}
	}

	// Again: nothing new, and it says so.
	r = mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	if !strings.Contains(r.stdout, "Nothing new to land") || !strings.Contains(r.stdout, "0 rows, 0 files") {
		t.Errorf("second quickstart should land nothing and say so:\n%s", r)
	}
	if got := parquetFiles(t, lakeDir); len(got) != len(files) {
		t.Errorf("second quickstart wrote files: %v", got)
	}
	for _, f := range allFiles(t, lakeDir) {
		if strings.HasPrefix(f, "_wharf/manifests/") && strings.HasSuffix(f, ".json") {
			continue // run manifests
		}
		if !strings.HasSuffix(f, ".parquet") {
			t.Errorf("stray file in the lake: %s", f)
		}
	}
}
