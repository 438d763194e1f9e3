package cli

import (
	"path/filepath"
	"testing"
)

func TestEngineCommandsUsage(t *testing.T) {
	state := "sqlite:" + filepath.Join(t.TempDir(), "state.db")
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
			"error: workflow nope is not deployed (deploy it with wharf deploy -c CATALOG)\n"},
		{[]string{"runs", "--state", state, "--limit", "0"}, ExitUsage, "", "error: --limit 0: want at least 1\n"},
		{[]string{"runs", "--state", state}, ExitOK, "No runs yet.\n", ""},
		{[]string{"runs", "--state", state, "--json"}, ExitOK, "[]\n", ""},
		{[]string{"status", "--state", state}, ExitOK,
			"No workflows deployed and no runs: deploy a catalog with wharf deploy -c FILE, or land one with wharf run.\n0 workflow(s); 0 wharf process(es) alive\n", ""},
		{[]string{"status", "--state", state, "--json"}, ExitOK, "{\n  \"workflows\": [],\n  \"workers\": []\n}\n", ""},
		{[]string{"cancel", "--state", state, "0199a000-0000-7000-8000-000000000001"}, ExitFailed, "",
			"error: get run 0199a000-0000-7000-8000-000000000001: not found\n"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || stdout != tc.stdout || stderr != tc.stderrWant {
			t.Errorf("wharf %v: exit %d\nstdout %q\nstderr %q\nwant exit %d, stdout %q, stderr %q",
				tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderrWant)
		}
	}
}
