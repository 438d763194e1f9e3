package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLakeLsAndVerify: after the quickstart, `lake ls` lists every file as
// committed and `lake verify` passes; then a file swapped for another, a
// file deleted and a stray file are each reported, naming the file, with
// exit 1 for the mismatches.
func TestLakeLsAndVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mustWharf(t, dir, nil, "quickstart", "--dir", "qs")
	env := []string{"WHARF_CATALOG=" + filepath.Join(dir, "qs", "wharf.yaml"), "WHARF_STATE=sqlite:" + filepath.Join(dir, "qs", ".wharf", "state.db")}
	lakeDir := filepath.Join(dir, "qs", "lake")

	r := mustWharf(t, dir, env, "lake", "ls", "local")
	if !strings.Contains(r.stdout, "7 committed file(s) in 7 run(s): 215 rows") || !strings.Contains(r.stdout, "0 leftover, 0 missing") {
		t.Errorf("lake ls after the quickstart:\n%s", r)
	}
	r = mustWharf(t, dir, env, "lake", "ls", "file://"+lakeDir, "hr/regions")
	if !regexp.MustCompile(`(?m)^committed +4 +\S+ KiB +[0-9a-f-]{36} +hr/regions/ingestion_date=[0-9-]+/part-[0-9a-f-]{36}-00000\.parquet$`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "1 committed file(s) in 1 run(s): 4 rows") {
		t.Errorf("lake ls of one table by URL:\n%s", r)
	}
	r = mustWharf(t, dir, env, "lake", "verify", "hr_regions", "hr_jobs", "hr_countries")
	for _, wf := range []string{"hr_regions", "hr_jobs", "hr_countries"} {
		if !regexp.MustCompile(`(?m)^` + wf + `: OK — 1 committed run\(s\), 1 manifest\(s\), 1 file\(s\), \d+ rows checked in file://`).MatchString(r.stdout) {
			t.Errorf("lake verify %s should pass:\n%s", wf, r)
		}
	}

	// Swap the regions file for the countries one, delete the jobs file,
	// and drop a stray file next to the countries one.
	regions := parquetUnder(t, lakeDir, "hr/regions")
	countries := parquetUnder(t, lakeDir, "hr/countries")
	jobs := parquetUnder(t, lakeDir, "hr/jobs")
	data, err := os.ReadFile(filepath.Join(lakeDir, countries))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lakeDir, regions), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(lakeDir, jobs)); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(filepath.Dir(countries), "part-crashed-00000.parquet")
	if err := os.WriteFile(filepath.Join(lakeDir, stray), data, 0o644); err != nil {
		t.Fatal(err)
	}

	r = wharf(t, dir, env, "lake", "verify", "hr_regions", "hr_jobs", "hr_countries")
	if r.code != 1 {
		t.Fatalf("lake verify should fail:\n%s", r)
	}
	for _, want := range []string{
		"hr_regions: " + regions + ": size ",
		"hr_regions: " + regions + ": 25 rows in its footer, the manifest says 4",
		"hr_jobs: " + jobs + ": missing from the lake",
		"hr_countries: leftover: no manifest claims " + stray,
		"hr_countries: OK",
		"error: 3 problem(s) found",
	} {
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("lake verify output lacks %q:\n%s", want, r)
		}
	}
	r = wharf(t, dir, env, "lake", "ls", "local")
	if r.code != 1 || !regexp.MustCompile(`(?m)^missing +19 .* `+regexp.QuoteMeta(jobs)+`$`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^leftover +- .* `+regexp.QuoteMeta(stray)+`$`).MatchString(r.stdout) {
		t.Errorf("lake ls should show the missing and the leftover file and exit 1:\n%s", r)
	}

	r = wharf(t, dir, env, "lake", "ls", "nosuchlake")
	if r.code != 2 || !strings.Contains(r.stderr, `no lake "nosuchlake" in`) {
		t.Errorf("lake ls of an unknown lake:\n%s", r)
	}
}

// parquetUnder returns the one Parquet file under dir of the lake.
func parquetUnder(t *testing.T, lakeDir, dir string) string {
	t.Helper()
	files := parquetFiles(t, filepath.Join(lakeDir, dir))
	if len(files) != 1 {
		t.Fatalf("%s: want one Parquet file, got %v", dir, files)
	}
	return dir + "/" + filepath.ToSlash(files[0])
}
