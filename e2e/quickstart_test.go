package e2e

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
)

var hrTables = []string{"regions", "countries", "locations", "departments", "jobs", "employees", "job_history"}

func TestQuickstartLandsEveryTableThenNothingNew(t *testing.T) {
	t.Parallel()
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

	// The printed next step is a command that works as printed (the binary
	// is not on PATH: it names it by its path).
	m := regexp.MustCompile(`(?m)^Land again \(only new and updated rows\): (\S+) (run -c \S+ --state \S+ --all)$`).FindStringSubmatch(r.stdout)
	if m == nil || m[1] != wharfBin {
		t.Fatalf("quickstart's next step is not %q run ...:\n%s", wharfBin, r)
	}
	again := wharf(t, dir, nil, strings.Fields(m[2])...)
	if again.code != 0 || !strings.Contains(again.stdout, "Nothing new to land") {
		t.Errorf("the printed next step %q did not work:\n%s", m[0], again)
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

// TestRunExpandsTablePatterns: wharf run lands the workflows a table pattern
// expands to, as deploy would name them.
func TestRunExpandsTablePatterns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	qs := filepath.Join(dir, "qs")
	cat := `connections:
  hr: {engine: sqlite, secret: "file:` + filepath.Join(qs, "secrets", "hr.json") + `"}
lakes:
  other: {url: "file://` + filepath.Join(dir, "lake2") + `"}
workflows:
  - name: hr
    table: "*"
    exclude: [job_history, "l*"]
    cursor: updated_at
`
	catPath := filepath.Join(dir, "patterns.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	state := "sqlite:" + filepath.Join(dir, "state.db")
	r := mustWharf(t, dir, nil, "run", "-c", catPath, "--state", state, "--all")
	if !strings.Contains(r.stdout, "5 workflow(s): 5 succeeded, 0 failed") {
		t.Errorf("want the 5 tables the pattern keeps (not job_history, locations):\n%s", r)
	}
	for _, name := range []string{"hr_regions", "hr_countries", "hr_departments", "hr_jobs", "hr_employees"} {
		if !strings.Contains(r.stdout, name+" ") {
			t.Errorf("no %s in the summary:\n%s", name, r)
		}
	}
	r = mustWharf(t, dir, nil, "run", "-c", catPath, "--state", state, "hr_jobs")
	if !strings.Contains(r.stdout, "1 workflow(s): 1 succeeded") {
		t.Errorf("running one expanded workflow by name:\n%s", r)
	}
}
