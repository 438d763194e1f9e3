package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestStatementTimeout: a connection's statement_timeout makes the source
// server end a statement that runs longer (here a view that sleeps 3 s),
// on PostgreSQL (statement_timeout) and MariaDB (max_statement_time); the
// run fails saying so, and without the setting the same view lands.
func TestStatementTimeout(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE FUNCTION slow(i int) RETURNS int LANGUAGE sql AS 'SELECT pg_sleep(3); SELECT i'`)
	sqlExec(t, conn, `CREATE VIEW slow_pg AS SELECT slow(1) AS id`)
	my := testdb.MySQL(t)
	mysqlExec(t, my.DB, "CREATE VIEW slow_my AS SELECT 1 AS id, SLEEP(3) AS slept")

	dir := t.TempDir()
	env := []string{"PG_URL=" + testdb.PostgresURL(), "MY_URL=" + my.URL}
	catalog := func(timeout string) string {
		cat := filepath.Join(dir, "wharf.yaml")
		writeText(t, cat, fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL%[1]s}
  my: {engine: mysql, secret: env:MY_URL%[1]s}
lakes:
  raw: {url: "file://%[2]s/lake"}
workflows:
  - {name: pg, connection: pg, table: %[3]s.slow_pg}
  - {name: my, connection: my, table: %[4]s.slow_my}
`, timeout, dir, schema, my.Name))
		return cat
	}
	state := "sqlite:" + filepath.Join(dir, "state.db")
	r := wharf(t, dir, env, "run", "-c", catalog(", statement_timeout: 1s"), "--state", state, "--all")
	if r.code != 1 {
		t.Fatalf("runs past the statement timeout should fail:\n%s", r)
	}
	for _, want := range []string{"canceling statement due to statement timeout", "max_statement_time exceeded"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}
	r = mustWharf(t, dir, env, "run", "-c", catalog(""), "--state", state, "--all")
	if !strings.Contains(r.stdout, "2 workflow(s): 2 succeeded") {
		t.Errorf("without the timeout both land:\n%s", r)
	}
}
