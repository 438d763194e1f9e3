package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestMalformedURLsNeverPrinted feeds state URLs and connection secrets that
// are malformed in the ways people get them wrong (an unescaped '#', '/', '?'
// or '@' in the password, a bad escape, a space, a bad port) through every
// command, and checks that no part of the password is printed.
func TestMalformedURLsNeverPrinted(t *testing.T) {
	const pw = "Mal4med"
	urls := []string{
		"postgres://app:" + pw + "#x@127.0.0.1:1/db",
		"postgres://app:" + pw + "/x@127.0.0.1:1/db",
		"postgres://app:" + pw + "?x@127.0.0.1:1/db",
		"postgres://app:" + pw + "@x@127.0.0.1:1/db",
		"postgres://app:" + pw + "%zz@127.0.0.1:1/db",
		"postgres://app:" + pw + " x@127.0.0.1:1/db",
		"postgres://app:" + pw + "@127.0.0.1:port/db",
		"postgres://app:" + pw + "@127.0.0.1:99999/db",
		"postgres://app:" + pw + "@127.0.0.1:1/db?sslmode=disable",
		"postgres://127.0.0.1:1/db?password=" + pw,
		"postgresql://app:" + pw + "@[::1/db",
		"mysql://app:" + pw + "@tcp(127.0.0.1:1)/db",
		"app:" + pw + "@127.0.0.1:1/db",
	}
	dir := t.TempDir()
	cat := writeFile(t, "c.yaml", fmt.Sprintf(`connections:
  db: {engine: postgres, secret: env:WHARF_TEST_MALFORMED}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: a, table: public.a, cursor: updated_at}
`, dir))
	commands := [][]string{
		{"validate", "-c", cat},
		{"run", "-c", cat, "--all"},
		{"plan", "-c", cat},
		{"deploy", "-c", cat},
		{"discover", "-c", cat, "--connection", "db"},
		{"runs"},
		{"status"},
		{"trigger", "a"},
		{"cancel", "0199a000-0000-7000-8000-000000000001"},
		{"lake", "ls", "-c", cat, "raw"},
		{"lake", "verify", "-c", cat, "a"},
		{"serve", "-c", cat},
		{"worker"},
	}
	for _, u := range urls {
		t.Setenv("WHARF_TEST_MALFORMED", u)
		for _, args := range commands {
			states := []string{u, "sqlite:" + dir + "/state.db"}
			if args[0] == "serve" || args[0] == "worker" {
				states = states[:1] // with a good state they run until stopped
			}
			for _, state := range states {
				code, stdout, stderr := runCLI(t, append(args, "--state", state)...)
				if out := stdout + stderr; strings.Contains(out, pw) {
					t.Errorf("wharf %s --state %s (exit %d) printed the password:\n%s", strings.Join(args, " "), u, code, out)
				}
			}
		}
	}
}

// TestStateErrorNamesURLOnce: an error opening the state store names its
// URL once, password redacted, whatever the command.
func TestStateErrorNamesURLOnce(t *testing.T) {
	const u = "postgres://app:Hunter2@127.0.0.1:1/db?connect_timeout=2&sslmode=disable"
	const want = "error: open state postgres://app:xxxxx@127.0.0.1:1/db?connect_timeout=2&"
	for _, args := range [][]string{{"runs"}, {"status"}, {"healthcheck"}, {"plan"}, {"trigger", "a"}} {
		if args[0] == "plan" {
			args = append(args, "-c", "../catalog/testdata/minimal.good.yaml")
		}
		code, _, stderr := runCLI(t, append(args, "--state", u)...)
		if code == 0 || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, ": connect: ") || strings.Count(stderr, "postgres://") != 1 {
			t.Errorf("wharf %s (exit %d) printed\n%s\nwant one line starting with\n%s", args[0], code, stderr, want)
		}
	}
}
