package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/blueprint"
	"github.com/wharf-data/wharf/internal/quickstart"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

// TestQuickstartNextStepWorksFromGoRun: run from go's build cache (as go run
// and go test do), quickstart's next step is a go run command.
func TestQuickstartNextStepWorksFromGoRun(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := runCLI(t, "quickstart", "--dir", dir)
	cat := filepath.Join(dir, quickstart.CatalogFile)
	want := "Land again (only new and updated rows): go run ./cmd/wharf run -c " + cat + " --state sqlite:" +
		filepath.Join(dir, ".wharf", "state.db") + " --all\n"
	if code != ExitOK || !strings.HasSuffix(stdout, want) {
		t.Errorf("quickstart: exit %d, stdout %q; want it to end with %q (stderr %q)", code, stdout, want, stderr)
	}
}

// TestNotesGoToStderrFromTheRightCommands: catalog notices come from
// validate and plan only, run notes go to stderr (never into the summary on
// stdout), and an explicit --log-level warn or error silences notes.
func TestNotesGoToStderrFromTheRightCommands(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "quickstart", "--dir", dir); code != ExitOK {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	secretPath := filepath.Join(dir, filepath.FromSlash(quickstart.SecretFile))
	cat := writeFile(t, "notes.yaml", `connections:
  hr: {engine: sqlite, secret: "file:`+secretPath+`"}
  spare: {engine: sqlite, secret: "file:`+secretPath+`"}
lakes:
  local: {url: "file://`+filepath.Join(dir, "lake2")+`"}
defaults: {connection: hr, lake: local, cursor: changed_at}
workflows:
  - {name: regions, table: regions}
`)
	state := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	notice := "note: connection \"spare\" is not used by any workflow\n"

	code, stdout, stderr := runCLI(t, "validate", "-c", cat)
	if code != ExitOK || stderr != notice || strings.Contains(stdout, "note:") {
		t.Errorf("validate: exit %d, stdout %q, stderr %q; want the notice on stderr", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, "validate", "-c", cat, "--log-level", "error")
	if code != ExitOK || stderr != "" {
		t.Errorf("validate --log-level error: exit %d, stderr %q; want no note", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "plan", "-c", cat, "--state", state)
	if code != ExitOK || stderr != notice || !strings.Contains(stdout, "create     regions\n") {
		t.Errorf("plan: exit %d, stdout %q, stderr %q; want the notice on stderr", code, stdout, stderr)
	}

	code, stdout, stderr = runCLI(t, "run", "-c", cat, "--state", state, "--all", "--log-level", "info")
	fullLoad := "note: regions: no changed_at column: full load\n"
	if code != ExitOK || strings.Contains(stdout, "note:") || strings.Contains(stderr, "spare") || !strings.Contains(stderr, fullLoad) {
		t.Errorf("run: exit %d\nstdout %q\nstderr %q\nwant only %q as a note, on stderr", code, stdout, stderr, fullLoad)
	}
	// A full load is bounded by nothing: the landed line says no bounded_by.
	if !strings.Contains(stderr, "msg=landed ") || strings.Contains(stderr, "bounded_by") {
		t.Errorf("run: the landed line should leave bounded_by out when nothing bounded the window:\n%s", stderr)
	}
	code, _, stderr = runCLI(t, "run", "-c", cat, "--state", state, "--all", "--log-level", "warn")
	if code != ExitOK || strings.Contains(stderr, "note") {
		t.Errorf("run --log-level warn: exit %d, stderr %q; want no note", code, stderr)
	}
}

// TestServeDriftWarningListsThePlan: serve -c warns with exactly what plan
// would change: creates, updates (with fields) and disables alike.
func TestServeDriftWarningListsThePlan(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "quickstart", "--dir", dir); code != ExitOK {
		t.Fatalf("quickstart: exit %d: %s", code, stderr)
	}
	secretPath := filepath.Join(dir, filepath.FromSlash(quickstart.SecretFile))
	head := `connections:
  hr: {engine: sqlite, secret: "file:` + secretPath + `"}
lakes:
  local: {url: "file://` + filepath.Join(dir, "lake2") + `"}
defaults: {connection: hr, lake: local, cursor: updated_at}
workflows:
`
	first := writeFile(t, "first.yaml", head+`  - {name: regions, table: regions}
  - {name: jobs, table: jobs}
  - {name: countries, table: countries}
`)
	state := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	if code, _, stderr := runCLI(t, "deploy", "-c", first, "--state", state); code != ExitOK {
		t.Fatalf("deploy: exit %d: %s", code, stderr)
	}
	second := writeFile(t, "second.yaml", head+`  - {name: regions, table: regions, schedule: "rate(1 hour)"}
  - {name: countries, table: countries}
  - {name: emp, table: "employ*"}
`)
	_, planOut, _ := runCLI(t, "plan", "-c", second, "--state", state)
	st, err := stateOpen(t, state)
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	a := &app{stdout: &bytes.Buffer{}, stderr: &errb, catalogPath: second, stateURL: state}
	if err := a.checkDeployed(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	want := "warning: " + second + " differs from what is deployed; serve runs the deployed workflows. wharf deploy -c " + second + " would:\n" +
		"  create     emp_employees\n" +
		"  update     regions: schedule\n" +
		"  disable    jobs (no more scheduled runs; history kept)\n"
	if errb.String() != want {
		t.Errorf("drift warning:\n%s\nwant:\n%s", errb.String(), want)
	}
	for _, line := range strings.Split(strings.TrimSpace(strings.TrimPrefix(want, strings.SplitAfter(want, "\n")[0])), "\n") {
		if !strings.Contains(planOut, strings.TrimSpace(line)+"\n") {
			t.Errorf("plan does not print %q:\n%s", strings.TrimSpace(line), planOut)
		}
	}

	// The catalog as deployed: no warning.
	errb.Reset()
	a.catalogPath = first
	if err := a.checkDeployed(t.Context(), st); err != nil || errb.String() != "" {
		t.Errorf("no drift: err %v, stderr %q", err, errb.String())
	}
}

func stateOpen(t *testing.T, url string) (state.Store, error) {
	st, err := stateurl.Open(t.Context(), url)
	if err == nil {
		t.Cleanup(func() { st.Close() })
	}
	return st, err
}

// TestHealthcheck: healthy only while a process of this host heartbeats.
func TestHealthcheck(t *testing.T) {
	url := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	st, err := stateOpen(t, url)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	code, stdout, stderr := runCLI(t, "healthcheck", "--state", url)
	if want := "error: no live wharf serve or worker on " + host + " in state " + url + "\n"; code != ExitFailed || stdout != "" || stderr != want {
		t.Errorf("nothing running: exit %d, stdout %q, stderr %q; want exit 1, %q", code, stdout, stderr, want)
	}
	fleet := st.(state.Fleet)
	w := state.NewWorker("serve")
	if err := fleet.Heartbeat(t.Context(), &w); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = runCLI(t, "healthcheck", "--state", url)
	if code != ExitOK || stdout != "ok: wharf serve "+w.ID+" is alive\n" {
		t.Errorf("serve alive: exit %d, stdout %q", code, stdout)
	}
	if code, _, stderr := runCLI(t, "healthcheck", "--state", url, "--role", "worker"); code != ExitFailed ||
		stderr != "error: no live wharf worker on "+host+" in state "+url+"\n" {
		t.Errorf("--role worker: exit %d, stderr %q", code, stderr)
	}
	if err := fleet.WorkerStopped(t.Context(), w.ID); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runCLI(t, "healthcheck", "--state", url); code != ExitFailed {
		t.Errorf("serve stopped: exit %d, want 1", code)
	}
	if code, _, stderr := runCLI(t, "healthcheck", "--state", url, "--role", "web"); code != ExitUsage ||
		stderr != "error: --role \"web\": want serve, worker or any\n" {
		t.Errorf("--role web: exit %d, stderr %q", code, stderr)
	}
}

// TestSummaryNotesOncePerText: a note several runs share (a source role's
// missing privilege) is printed once, naming them all; others per run.
func TestSummaryNotesOncePerText(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	shared := "rows committed late may be skipped: GRANT PROCESS ON *.* TO 'shop'@'%'"
	results := []*blueprint.Result{
		{Workflow: "orders", Status: state.StatusSucceeded, Notes: []string{shared}},
		{Workflow: "people", Status: state.StatusSucceeded, Notes: []string{"no updated_at column: full load", shared}},
		{Workflow: "items", Status: state.StatusSucceeded, Notes: []string{shared}},
	}
	if err := summarize(a, results); err != nil {
		t.Fatal(err)
	}
	want := "note: orders, people, items: " + shared + "\nnote: people: no updated_at column: full load\n"
	if errb.String() != want {
		t.Errorf("notes:\n%s\nwant:\n%s", errb.String(), want)
	}
}
