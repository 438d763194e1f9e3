package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/quickstart"
	"github.com/wharf-data/wharf/internal/testdb"
)

// TestPlanCreatesNothing: plan reads the state without creating,
// migrating or writing it; a state that does not exist yet has nothing
// deployed.
func TestPlanCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "quickstart", "--dir", dir); code != ExitOK {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	secretPath := filepath.Join(dir, filepath.FromSlash(quickstart.SecretFile))
	cat := writeFile(t, "plan.yaml", `connections:
  hr: {engine: sqlite, secret: "file:`+secretPath+`"}
lakes:
  local: {url: "file://`+filepath.Join(dir, "lake2")+`"}
defaults: {connection: hr, lake: local}
workflows:
  - {name: regions, table: regions, schedule: "rate(1 hour)"}
`)
	missing := filepath.Join(t.TempDir(), "not", "yet", "state.db")
	code, stdout, stderr := runCLI(t, "plan", "-c", cat, "--state", "sqlite:"+missing)
	if code != ExitOK || stdout != "create     regions\nPlan: 1 to create, 0 to update, 0 unchanged, 0 to disable, 0 to delete.\n" {
		t.Errorf("plan against a missing state: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("plan created %s (stat: %v)", filepath.Dir(missing), err)
	}

	// A deployed state is read, not written.
	state := filepath.Join(t.TempDir(), "state.db")
	if code, _, stderr := runCLI(t, "deploy", "-c", cat, "--state", "sqlite:"+state); code != ExitOK {
		t.Fatalf("deploy: exit %d: %s", code, stderr)
	}
	before, err := os.ReadFile(state)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "plan", "-c", cat, "--state", "sqlite:"+state)
	if code != ExitOK || !strings.HasSuffix(stdout, "Plan: 0 to create, 0 to update, 1 unchanged, 0 to disable, 0 to delete.\n") {
		t.Errorf("plan against the deployed state: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if after, err := os.ReadFile(state); err != nil || string(after) != string(before) {
		t.Errorf("plan changed the state file (read: %v)", err)
	}

	t.Run("postgres", func(t *testing.T) {
		dsn, schema := testdb.PostgresSchema(t)
		code, stdout, stderr := runCLI(t, "plan", "-c", cat, "--state", dsn)
		if code != ExitOK || !strings.HasPrefix(stdout, "create     regions\n") {
			t.Errorf("plan against an empty schema: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
		}
		var tables int
		if err := testdb.Postgres(t).QueryRow(context.Background(),
			`SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, schema).Scan(&tables); err != nil {
			t.Fatal(err)
		}
		if tables != 0 {
			t.Errorf("plan created %d tables in schema %s", tables, schema)
		}
	})
}

// TestPlanErrorsOneLineEach: plan's errors, one per workflow, are printed
// each on its own "error:" line.
func TestPlanErrorsOneLineEach(t *testing.T) {
	t.Parallel()
	cat := writeFile(t, "plan.yaml", `connections:
  c: {engine: sqlite, secret: "env:WHARF_TEST_PLAN_ERRORS_UNSET"}
lakes:
  l: {url: "file:///tmp/lake"}
workflows:
  - {name: a, table: a, columns: [id]}
  - {name: b, table: b, columns: [id]}
`)
	code, _, stderr := runCLI(t, "plan", "-c", cat, "--state", "sqlite:"+filepath.Join(t.TempDir(), "state.db"))
	const unset = `: connection c: secret "env:WHARF_TEST_PLAN_ERRORS_UNSET": secret not found: environment variable WHARF_TEST_PLAN_ERRORS_UNSET is not set`
	if want := "error: workflow a" + unset + "\nerror: workflow b" + unset + "\n"; code != ExitFailed || stderr != want {
		t.Errorf("plan: exit %d\nstderr %q\nwant   %q", code, stderr, want)
	}
}
