package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb, false)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	t.Setenv("WHARF_CATALOG", "")
	code, _, stderr := runCLI(t, "validate")
	if code != ExitUsage || stderr != "error: no catalog: pass -c FILE or set WHARF_CATALOG\n" {
		t.Errorf("no catalog: exit %d, stderr %q", code, stderr)
	}

	good := writeFile(t, "good.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "file:///tmp/lake"}
workflows:
  - {name: a, table: public.a, cursor: updated_at}
  - {name: b, table: public.b, schedule: "cron(10 21 * * ? *)"}
`)
	code, stdout, stderr := runCLI(t, "validate", "-c", good, "--offline") // no PostgreSQL at DB_URL
	if code != ExitOK || stdout != good+": valid wharf catalog: 2 workflow(s), 1 connection(s), 1 lake(s)\n" || stderr != "" {
		t.Errorf("good catalog: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}

	bad := writeFile(t, "bad.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "file:///tmp/lake"}
workflows:
  - {name: a, table: public.a, cursr: updated_at}
  - {name: a, table: public.b, schedule: "cron(10 25 * * ? *)"}
`)
	code, stdout, stderr = runCLI(t, "validate", "-c", bad)
	if code != ExitFailed || stdout != "" {
		t.Errorf("bad catalog: exit %d stdout %q", code, stdout)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 5 || lines[3] != "note: no source was checked: validate checks tables and columns once the catalog has no errors" {
		t.Fatalf("want 3 errors, a note that no source was checked and a count, got:\n%s", stderr)
	}
	for i, want := range []string{bad + ":6:", bad + ":7:", bad + ":7:"} {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("error %d %q should start with %q", i, lines[i], want)
		}
	}
	for _, want := range []string{"cursr", "cursor", "duplicate", "25"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("errors should mention %q:\n%s", want, stderr)
		}
	}
	if lines[4] != "error: "+bad+": 3 error(s)" {
		t.Errorf("last line %q", lines[4])
	}
}

func TestRunUsageErrors(t *testing.T) {
	cat := writeFile(t, "c.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "file:///tmp/lake"}
workflows:
  - {name: orders, table: public.orders}
  - {name: customers, table: public.customers}
`)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-c", cat}, "error: name one or more workflows, or pass --all\n"},
		{[]string{"run", "-c", cat, "--all", "orders"}, "error: name one or more workflows, or pass --all\n"},
		{[]string{"run", "-c", cat, "--parallel", "0", "--all"}, "error: --parallel 0: must be at least 1\n"},
		{[]string{"run", "-c", cat, "order"}, `error: no workflow "order" in ` + cat + " (it has: customers, orders)\n"},
		{[]string{"run", "-c", cat, "--all", "--log-level", "loud"}, "error: --log-level \"loud\": want debug, info, warn or error\n"},
	} {
		code, _, stderr := runCLI(t, c.args...)
		if code != ExitUsage || stderr != c.want {
			t.Errorf("%v: exit %d, stderr %q; want exit 2, %q", c.args, code, stderr, c.want)
		}
	}
}

// TestRunRefusesALakeItCannotOpen: a lake URL that cannot be opened here
// (an s3:// query parameter gocloud.dev does not know) fails the command
// before any run starts, as validate does, and records no run.
func TestRunRefusesALakeItCannotOpen(t *testing.T) {
	cat := writeFile(t, "c.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "s3://bucket/p?region=us-east-1&bogus=1"}
workflows:
  - {name: orders, table: public.orders}
`)
	state := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	code, _, stderr := runCLI(t, "run", "-c", cat, "--state", state, "--all")
	want := "error: " + cat + ": lake raw: lake URL s3://bucket/p?region=us-east-1&bogus=1: unknown query parameter \"bogus\"\n"
	if code != ExitFailed || stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 1, %q", code, stderr, want)
	}
	if code, stdout, _ := runCLI(t, "runs", "--state", state, "orders"); code != ExitOK || strings.Contains(stdout, "failed") {
		t.Errorf("a run was recorded (exit %d):\n%s", code, stdout)
	}
}

func TestVersion(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wharf-data/wharf", Version: "v0.3.0"},
		Deps:     []*debug.Module{{Path: "github.com/riverqueue/river", Version: "v0.51.2"}, {Path: "github.com/apache/arrow-go/v18", Version: "v18.8.0"}},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "56aeef6a"}, {Key: "vcs.time", Value: "2026-11-30T00:22:43Z"}, {Key: "vcs.modified", Value: "true"}}}
	var b strings.Builder
	printVersion(&b, bi)
	want := `wharf v0.3.0
  commit    56aeef6a (with uncommitted changes)
  built     2026-11-30T00:22:43Z (commit time)
  go        go1.26.8
  river     v0.51.2
  arrow-go  v18.8.0
`
	if b.String() != want {
		t.Errorf("version from build info:\n%s\nwant:\n%s", b.String(), want)
	}
	// Stamps from scripts/build.sh win over the build info.
	Version, Commit, BuildDate = "v1.0.0", "abc123", "2026-12-01T10:00:00Z"
	b.Reset()
	printVersion(&b, bi)
	Version, Commit, BuildDate = "", "", ""
	if !strings.HasPrefix(b.String(), "wharf v1.0.0\n  commit    abc123 (with uncommitted changes)\n  built     2026-12-01T10:00:00Z\n") {
		t.Errorf("stamped version:\n%s", b.String())
	}
}

// The hidden profiling flags write profiles that go tool pprof reads
// (gzip-compressed protobuf), and a path that cannot be created is a usage
// error naming the flag.
func TestProfiles(t *testing.T) {
	catalog := writeFile(t, "c.yaml", `connections:
  db: {engine: postgres, secret: env:DB_URL}
lakes:
  raw: {url: "file:///tmp/lake"}
workflows:
  - {name: a, table: public.a}
`)
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	if code, _, stderr := runCLI(t, "validate", "-c", catalog, "--cpuprofile", cpu, "--memprofile", mem); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, %v; want a gzip-compressed profile", p, len(b), err)
		}
	}
	code, _, stderr := runCLI(t, "validate", "-c", catalog, "--memprofile", filepath.Join(dir, "no", "such", "dir"))
	if code != ExitUsage || !strings.Contains(stderr, "--memprofile") {
		t.Errorf("bad --memprofile path: exit %d, stderr %q", code, stderr)
	}
}
