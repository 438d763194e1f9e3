package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/engine"
	"github.com/wharf-data/wharf/internal/state"
	"github.com/wharf-data/wharf/internal/state/stateurl"
)

func TestEngineCommandsUsage(t *testing.T) {
	state := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
	st, err := stateurl.Open(t.Context(), state)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	for _, tc := range []struct {
		args       []string
		code       int
		stdout     string
		stderrWant string
	}{
		{[]string{"serve", "--state", state, "--workers", "0"}, ExitUsage, "", "error: --workers 0: want 1 to 10000\n"},
		{[]string{"worker", "--state", state, "--attempts", "5"}, ExitUsage, "", "error: invalid argument \"5\" for \"--attempts\" flag: a run's attempts are set in the catalog (attempts, under defaults or a workflow; default 3) and apply once deployed, however the run is queued\n"},
		{[]string{"trigger", "--state", state, "--attempts", "5", "w"}, ExitUsage, "", "error: invalid argument \"5\" for \"--attempts\" flag: a run's attempts are set in the catalog (attempts, under defaults or a workflow; default 3) and apply once deployed, however the run is queued\n"},
		{[]string{"serve", "--state", state, "--catch-up", "all"}, ExitUsage, "", "error: --catch-up \"all\": want one or none\n"},
		{[]string{"serve", "--state", state, "--heartbeat", "10s", "--dead-after", "15s"}, ExitUsage, "",
			"error: dead-after 15s must be at least twice the heartbeat interval 10s\n"},
		{[]string{"trigger", "--state", state}, ExitUsage, "", "error: requires at least 1 arg(s), only received 0\n"},
		{[]string{"trigger", "--state", state, "nope"}, ExitFailed, "",
			"error: no workflow nope is deployed (deploy it with wharf deploy -c CATALOG)\n"},
		{[]string{"runs", "--state", state, "--limit", "0"}, ExitUsage, "", "error: --limit 0: want at least 1\n"},
		{[]string{"runs", "--state", state}, ExitOK, "No runs yet.\n", ""},
		{[]string{"runs", "--state", state, "--json"}, ExitOK, "[]\n", ""},
		{[]string{"status", "--state", state}, ExitOK,
			"No workflows deployed and no runs: deploy a catalog with wharf deploy -c FILE, or land one with wharf run.\n0 workflow(s); 0 wharf process(es) alive\n", ""},
		{[]string{"status", "--state", state, "--json"}, ExitOK, "{\n  \"workflows\": [],\n  \"workers\": []\n}\n", ""},
		{[]string{"cancel", "--state", state, "0199a000-0000-7000-8000-000000000001"}, ExitFailed, "",
			"error: no run 0199a000-0000-7000-8000-000000000001 (wharf runs lists run IDs)\n"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || stdout != tc.stdout || stderr != tc.stderrWant {
			t.Errorf("wharf %v: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q",
				tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderrWant)
		}
	}
}

// TestTriggerWithNoProcessAlive: a run queued while no wharf serve or worker
// is alive on the state gets a note saying it waits for one; with a serve's
// heartbeat in the state, none. runs of a name that is not deployed says so.
func TestTriggerWithNoProcessAlive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stateURL := "sqlite:" + filepath.Join(dir, "state.db")
	cat := oneWorkflowCatalog(t, dir)
	if code, _, stderr := runCLI(t, "deploy", "-c", cat, "--state", stateURL); code != ExitOK {
		t.Fatalf("deploy: exit %d: %s", code, stderr)
	}
	// runs of a deployed workflow that never ran, and of a misspelt one.
	if code, stdout, stderr := runCLI(t, "runs", "--state", stateURL, "w"); code != ExitOK || stdout != "No runs yet.\n" || stderr != "" {
		t.Errorf("runs w: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "runs", "--state", stateURL, "ww"); code != ExitOK || stdout != "No runs yet.\n" ||
		stderr != "note: no workflow ww is deployed (did you mean \"w\"?)\n" {
		t.Errorf("runs ww: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	// trigger of a misspelt name fails before queueing anything.
	if code, stdout, stderr := runCLI(t, "trigger", "--state", stateURL, "w", "ww"); code != ExitFailed || stdout != "" ||
		stderr != "error: no workflow ww is deployed (did you mean \"w\"?)\n" {
		t.Errorf("trigger w ww: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	const note = "note: no wharf serve or worker is alive on this state: the runs stay queued until one starts (wharf serve --state URL)\n"
	code, stdout, stderr := runCLI(t, "trigger", "--state", stateURL, "w")
	if code != ExitOK || len(strings.TrimSpace(stdout)) != 36 || stderr != note {
		t.Errorf("trigger with no process: exit %d\nstdout %q\nstderr %q\nwant a run ID and %q", code, stdout, stderr, note)
	}

	st, err := stateurl.Open(t.Context(), stateURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Heartbeat(t.Context(), &state.Worker{ID: "serve-1", Host: "h", PID: 1, Role: engine.RoleServe}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "trigger", "--state", stateURL, "w")
	if code != ExitOK || len(strings.TrimSpace(stdout)) != 36 || strings.Contains(stderr, "alive") {
		t.Errorf("trigger with a serve alive: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
}

// TestCommandsCreateNoState: of a SQLite state that does not exist (a
// mistyped --state), status and runs show it empty with a note, and lake ls
// of an iceberg lake whose catalog is in the state its files; trigger,
// cancel and lake verify, which have nothing to act on or compare with,
// fail naming it; none creates the file or its directory.
func TestCommandsCreateNoState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo", "state.db")
	noState := "no state at sqlite:" + missing + ": nothing was deployed or run with it yet (another state: --state or WHARF_STATE)\n"
	cat := oneWorkflowCatalog(t, dir)
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
	}{
		{[]string{"runs"}, ExitOK, "No runs yet.\n"},
		{[]string{"runs", "--json"}, ExitOK, "[]\n"},
		{[]string{"status"}, ExitOK, "No workflows deployed and no runs: deploy a catalog with wharf deploy -c FILE, or land one with wharf run.\n0 workflow(s); 0 wharf process(es) alive\n"},
		{[]string{"status", "--json"}, ExitOK, "{\n  \"workflows\": [],\n  \"workers\": []\n}\n"},
		{[]string{"trigger", "w"}, ExitFailed, ""},
		{[]string{"cancel", "0199a000-0000-7000-8000-000000000001"}, ExitFailed, ""},
		{[]string{"lake", "verify", "-c", cat, "w"}, ExitFailed, ""},
		{[]string{"lake", "ls", "-c", cat, "ice"}, ExitOK, "STATUS  ROWS  SIZE  RUN  PATH\n0 committed file(s) in 0 run(s): 0 rows, 0 B; 0 leftover, 0 missing\n"},
	} {
		stderr := "note: " + noState
		if tc.code != ExitOK {
			stderr = "error: " + noState
		}
		code, stdout, gotErr := runCLI(t, append(tc.args, "--state", "sqlite:"+missing)...)
		if code != tc.code || stdout != tc.stdout || gotErr != stderr {
			t.Errorf("wharf %v: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q", tc.args, code, stdout, gotErr, tc.code, tc.stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("a read command created %s (stat: %v)", filepath.Dir(missing), err)
	}
}

// oneWorkflowCatalog writes a catalog of one workflow w, of a SQLite table
// under dir, into a file lake under dir (lake l; lake ice is iceberg).
func oneWorkflowCatalog(t *testing.T, dir string) string {
	return writeFile(t, "cat.yaml", `connections:
  c: {engine: sqlite, secret: "file:`+writeFile(t, "src.secret", "sqlite:"+filepath.Join(dir, "src.db"))+`"}
lakes:
  l: {url: "file://`+filepath.Join(dir, "lake")+`"}
  ice: {url: "file://`+filepath.Join(dir, "ice")+`", format: iceberg}
workflows:
  - {name: w, table: t, lake: l}
`)
}
