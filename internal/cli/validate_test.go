package cli

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/quickstart"
)

// TestValidateRefusesWhatRunWould: validate fails on what a run on this
// machine would refuse before reaching any server, each with its message.
func TestValidateRefusesWhatRunWould(t *testing.T) {
	t.Setenv("WHARF_SECRETS", "")
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")

	glue := writeFile(t, "glue.json", `{"WorkflowList": [{"WorkflowName": "w", "SecretName": "DemoDBSecret",
  "SourceTable": "public.regions", "DestinationBucketName": "file:///tmp/lake"}]}`)
	code, stdout, stderr := runCLI(t, "validate", "-c", glue)
	want := glue + `: connection DemoDBSecret: secret "DemoDBSecret": a secret name needs a secrets provider: pass --secrets or set WHARF_SECRETS (e.g. --secrets aws-sm: or file:/etc/wharf/secrets), or write env:VAR or file:PATH
error: ` + glue + `: 1 error(s)
`
	if code != ExitFailed || stdout != "" || stderr != want {
		t.Errorf("Glue SecretName without --secrets: exit %d, stdout %q\nstderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	if code, _, stderr := runCLI(t, "validate", "-c", glue, "--secrets", "file:"+t.TempDir()); code != ExitOK {
		t.Errorf("with --secrets: exit %d, stderr %q", code, stderr)
	}

	s3 := writeFile(t, "s3.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "s3://bucket/raw"}
  eu: {url: "s3://bucket/eu?region=eu-west-1"}
  keys: {url: "s3://bucket/keys", secret: lake-keys}
workflows:
  - {name: a, table: public.a, lake: raw}
  - {name: b, table: public.b, lake: eu}
  - {name: c, table: public.c, lake: keys, schedule: "cron(0 0 30 2 ? *)"}
`)
	code, stdout, stderr = runCLI(t, "validate", "-c", s3, "--offline") // no PostgreSQL at DB_URL
	want = "warning: " + s3 + `:10:54: workflows[2].schedule: cron(0 0 30 2 ? *) never fires: no date after today matches it, so the workflow runs only when triggered
` + s3 + `: lake keys: lake URL s3://bucket/keys: no region: add ?region=REGION to the URL or set AWS_REGION
` + s3 + `: lake keys: secret "lake-keys": a secret name needs a secrets provider: pass --secrets or set WHARF_SECRETS (e.g. --secrets aws-sm: or file:/etc/wharf/secrets), or write env:VAR or file:PATH
` + s3 + `: lake raw: lake URL s3://bucket/raw: no region: add ?region=REGION to the URL or set AWS_REGION
error: ` + s3 + `: 3 error(s)
`
	if code != ExitFailed || stdout != "" || stderr != want {
		t.Errorf("s3 lakes without a region: exit %d, stdout %q\nstderr\n%s\nwant\n%s", code, stdout, stderr, want)
	}
	// The alerts webhook is a secret like the others.
	hook := writeFile(t, "hook.yaml", `connections:
  db: {engine: sqlite, secret: env:DB}
lakes:
  raw: {url: "file:///tmp/lake"}
alerts: {webhook: slack-hook}
workflows:
  - {name: a, table: a}
`)
	code, _, stderr = runCLI(t, "validate", "-c", hook, "--offline")
	if want := hook + `: alerts.webhook: secret "slack-hook": a secret name needs a secrets provider`; code != ExitFailed || !strings.HasPrefix(stderr, want) {
		t.Errorf("alerts webhook name without --secrets: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	code, stdout, stderr = runCLI(t, "validate", "-c", s3, "--secrets", "file:"+t.TempDir(), "--offline")
	if code != ExitOK || !strings.HasPrefix(stderr, "warning: ") || strings.Count(stderr, "\n") != 1 || !strings.Contains(stdout, "valid wharf catalog") {
		t.Errorf("with AWS_REGION and --secrets: exit %d, stdout %q, stderr %q; want valid with the schedule warning", code, stdout, stderr)
	}
}

// TestValidateChecksColumnsAgainstSources: validate checks the column
// choices against the sources it can reach, as plan does; a source it
// cannot reach is a note, and --offline connects to nothing.
func TestValidateChecksColumnsAgainstSources(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "quickstart", "--dir", dir); code != ExitOK {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	secretPath := filepath.Join(dir, filepath.FromSlash(quickstart.SecretFile))
	t.Setenv("WHARF_TEST_DOWN_URL", "postgres://app:Hunter2@127.0.0.1:1/hr?sslmode=disable")
	cat := writeFile(t, "cols.yaml", `connections:
  hr: {engine: sqlite, secret: "file:`+secretPath+`"}
  down: {engine: postgres, secret: env:WHARF_TEST_DOWN_URL}
lakes:
  local: {url: "file://`+filepath.Join(dir, "lake2")+`"}
defaults: {lake: local}
workflows:
  - {name: regions, connection: hr, table: regions, columns: [region_id, region_nmae]}
  - {name: countries, connection: hr, table: countries, exclude_columns: [updated]}
  - {name: elsewhere, connection: down, table: public.t, exclude_columns: [x]}
  - {name: elsewhere2, connection: down, table: public.u, exclude_columns: [y]}
`)
	code, stdout, stderr := runCLI(t, "validate", "-c", cat)
	want := `note: source down not checked: postgres source: connect (user=app host=127.0.0.1 database=hr): `
	if code != ExitFailed || stdout != "" || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "note:") != 1 || strings.Contains(stderr, "Hunter2") {
		t.Errorf("exit %d, stdout %q, stderr\n%s\nwant it to start with %q, one note and no password", code, stdout, stderr, want)
	}
	for _, want := range []string{
		cat + `: workflow regions: columns: table regions has no column "region_nmae" (did you mean "region_name"?)` + "\n",
		cat + `: workflow countries: exclude_columns: table countries has no column "updated" (did you mean "updated_at"?)` + "\n",
		"error: " + cat + ": 2 error(s)\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	code, stdout, stderr = runCLI(t, "validate", "-c", cat, "--offline")
	if code != ExitOK || stderr != "" || !strings.Contains(stdout, "valid wharf catalog: 4 workflow(s)") {
		t.Errorf("--offline: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestValidateChecksTables: validate finds a missing table of a workflow
// without column choices (with a "did you mean"), lists each schema once,
// and takes a view, which the listing leaves out.
func TestValidateChecksTables(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "quickstart", "--dir", dir); code != ExitOK {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, "source", "hr.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE VIEW region_names AS SELECT region_name FROM regions`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	secretPath := filepath.Join(dir, filepath.FromSlash(quickstart.SecretFile))
	cat := writeFile(t, "tables.yaml", `connections:
  hr: {engine: sqlite, secret: "file:`+secretPath+`"}
lakes:
  local: {url: "file://`+filepath.Join(dir, "lake2")+`"}
workflows:
  - {name: regions, table: regions}
  - {name: names, table: region_names}
  - {name: countries, table: contries}
`)
	code, stdout, stderr := runCLI(t, "validate", "-c", cat)
	want := cat + `: workflow countries: sqlite hr: table contries not found (did you mean "countries"?)` + "\n" +
		"error: " + cat + ": 1 error(s)\n"
	if code != ExitFailed || stdout != "" || stderr != want {
		t.Errorf("exit %d, stdout %q\nstderr %q\nwant   %q", code, stdout, stderr, want)
	}
}

// TestDiscoverEmptyDefaultSchema: discover of a default schema without
// tables says to name one with --schema (PostgreSQL tables are often
// elsewhere than public).
func TestDiscoverEmptyDefaultSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "empty.db")
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cat := writeFile(t, "empty.yaml", `connections:
  c: {engine: sqlite, secret: "file:`+writeFile(t, "c.secret", "sqlite:"+dbPath)+`"}
lakes:
  l: {url: "file://`+filepath.Join(dir, "lake")+`"}
workflows: []
`)
	code, stdout, stderr := runCLI(t, "discover", "-c", cat, "--connection", "c")
	if want := "note: no tables in the default schema of connection c: name another with --schema\n"; code != ExitOK ||
		!strings.HasPrefix(stdout, "# wharf discover: 0 table(s)") || !strings.Contains(stderr, want) {
		t.Errorf("exit %d\nstdout %q\nstderr %q\nwant the note %q", code, stdout, stderr, want)
	}
}
