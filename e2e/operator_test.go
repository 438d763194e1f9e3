package e2e

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

// writeFile writes a file under dir and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAuthFailureLeadsWithTheCause: a refused login says why first, not
// what pgx tried before (TLS): for a PostgreSQL source, a PostgreSQL state
// store and a MySQL source. (The shared PostgreSQL trusts local
// connections, so an unknown role is its refusal; internal/pgconnect's test
// covers a refused password after a refused TLS attempt.)
func TestAuthFailureLeadsWithTheCause(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	role := "wharf_nobody_" + testdb.RandomSuffix()
	u.User = url.UserPassword(role, "wrong-Pa55")
	dir := t.TempDir()
	writeFile(t, dir, "c.yaml", fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: t1, table: public.t1}
`, dir))
	env := []string{"PG_URL=" + u.String()}
	r := wharf(t, dir, env, "run", "-c", "c.yaml", "--state", "sqlite://"+dir+"/state.db", "t1")
	want := fmt.Sprintf("error: workflow t1: connection pg: postgres source: connect (user=%s host=%s database=%s): role %q does not exist (SQLSTATE 28000)\n",
		role, u.Hostname(), strings.TrimPrefix(u.Path, "/"), role)
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr+r.stdout, "wrong-Pa55") {
		t.Errorf("run with an unknown role: want exit 1 and stderr starting\n%s\ngot %s", want, r)
	}

	r = wharf(t, dir, nil, "status", "--state", u.String())
	red := *u
	red.User = url.UserPassword(role, "xxxxx")
	want = fmt.Sprintf("error: open state %s: connect: role %q does not exist (SQLSTATE 28000)\n", red.Redacted(), role)
	if r.code != 1 || r.stderr != want {
		t.Errorf("status with an unknown role: want exit 1 and stderr\n%s\ngot %s", want, r)
	}

	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE t1 (id int primary key)")
	user := "wharf_" + testdb.RandomSuffix()
	host, port := mysqlUser(t, tdb, user, testPassword)
	writeFile(t, dir, "m.yaml", fmt.Sprintf(`connections:
  my: {engine: mysql, secret: env:MY_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: m1, table: t1}
`, dir))
	env = []string{fmt.Sprintf("MY_URL=mysql://%s:wrong-Pa55@%s:%s/%s", user, host, port, tdb.Name)}
	r = wharf(t, dir, env, "run", "-c", "m.yaml", "--state", "sqlite://"+dir+"/state.db", "m1")
	want = fmt.Sprintf("error: workflow m1: connection my: mysql source: connect (user=%s addr=%s:%s database=%s): Error 1045 (28000): Access denied for user '%s'@",
		user, host, port, tdb.Name, user)
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || strings.Contains(r.stderr+r.stdout, "wrong-Pa55") {
		t.Errorf("run with a wrong MySQL password: want exit 1 and stderr starting\n%s\ngot %s", want, r)
	}
}
