package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPasswordNeverPrinted makes wharf fail in the ways that tend to echo
// credentials (unreachable server, malformed secret, URL secret) and checks
// that the password appears nowhere: not on stdout or stderr, not in the
// state store's run history.
func TestPasswordNeverPrinted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets")
	if err := os.MkdirAll(secrets, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(secrets, name+".json"), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing listens on port 1.
	write("unreachable", fmt.Sprintf(`{"engine":"postgres","host":"127.0.0.1","port":1,"username":"app","password":%q,"dbname":"hr"}`, testPassword))
	write("malformed", fmt.Sprintf(`{"engine":"postgres","password":%q,`, testPassword))
	cat := fmt.Sprintf(`connections:
  unreachable: {secret: unreachable}
  malformed: {secret: malformed}
  url: {engine: postgres, secret: "env:URL_SECRET"}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: a, connection: unreachable, table: public.t}
  - {name: b, connection: malformed, table: public.t}
  - {name: c, connection: url, table: public.t}
`, dir)
	catPath := filepath.Join(dir, "wharf.yaml")
	if err := os.WriteFile(catPath, []byte(cat), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"URL_SECRET=postgres://app:" + testPassword + "@127.0.0.1:1/hr?sslmode=disable&connect_timeout=2"}
	state := filepath.Join(dir, "state.db")
	for _, format := range []string{"text", "json"} {
		r := wharf(t, dir, env, "run", "-c", catPath, "--secrets", "file:"+secrets, "--state", "sqlite:"+state,
			"--all", "--log-level", "debug", "--log-format", format)
		if r.code != 1 {
			t.Fatalf("want exit 1 (every workflow fails):\n%s", r)
		}
		if strings.Contains(r.stdout+r.stderr, testPassword) {
			t.Fatalf("the password appeared in wharf's output:\n%s", r)
		}
		for _, wf := range []string{"workflow a:", "workflow b:", "workflow c:"} {
			if !strings.Contains(r.stderr, wf) {
				t.Errorf("no error for %s:\n%s", wf, r)
			}
		}
	}
	for _, f := range []string{state, state + "-wal"} {
		b, err := os.ReadFile(f)
		if err == nil && strings.Contains(string(b), testPassword) {
			t.Errorf("the password is stored in %s", f)
		}
	}
}
