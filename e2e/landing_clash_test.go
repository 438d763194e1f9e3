package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/testdb"
)

// TestLandingClashesRefused: what only the sources can tell is checked by
// validate, plan and run before anything lands: two connections whose
// databases share a name, each with a table of one name, would land into
// one folder (their rows mixed), and a MySQL table named with and without
// its database is one table (every row twice).
func TestLandingClashesRefused(t *testing.T) {
	t.Parallel()
	_, schema, u := pgSource(t)
	conn, _, _ := pgSource(t)
	sqlExec(t, conn, fmt.Sprintf(`CREATE TABLE %s.accounts (id integer PRIMARY KEY)`, schema))
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE customers (id int PRIMARY KEY)")

	// The same server by two names: two connections whose databases are
	// named alike, as two servers' would be.
	other := *u
	other.Host = strings.Replace(other.Host, "127.0.0.1", "localhost", 1)
	if other.Host == u.Host {
		t.Skipf("test database host %s has no second name here", u.Host)
	}
	dir := t.TempDir()
	env := []string{"A_URL=" + u.String(), "B_URL=" + other.String(), "SHOP_URL=" + tdb.URL,
		"WHARF_STATE=sqlite:" + filepath.Join(dir, "state.db")}
	mixed := filepath.Join(dir, "mixed.yaml")
	writeText(t, mixed, fmt.Sprintf(`connections:
  shard_a: {engine: postgres, secret: env:A_URL}
  shard_b: {engine: postgres, secret: env:B_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: a_accounts, connection: shard_a, table: %s.accounts}
  - {name: b_accounts, connection: shard_b, table: %s.accounts}
`, filepath.Join(dir, "lake"), schema, schema))
	twice := filepath.Join(dir, "twice.yaml")
	writeText(t, twice, fmt.Sprintf(`connections:
  shop: {engine: mysql, secret: env:SHOP_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: qualified, table: %s.customers}
  - {name: bare, table: customers}
`, filepath.Join(dir, "lake"), tdb.Name))

	// The same folder through two spellings of one lake directory.
	spelled := filepath.Join(dir, "spelled.yaml")
	writeText(t, spelled, fmt.Sprintf(`connections:
  shard_a: {engine: postgres, secret: env:A_URL}
  shard_b: {engine: postgres, secret: env:B_URL}
lakes:
  raw: {url: "file://%s"}
  raw2: {url: "file://localhost%s/./"}
workflows:
  - {name: a_accounts, connection: shard_a, table: %s.accounts, lake: raw}
  - {name: b_accounts, connection: shard_b, table: %s.accounts, lake: raw2}
`, filepath.Join(dir, "lake"), filepath.Join(dir, "lake"), schema, schema))

	// A bare name is in the connection's search_path schema, not public.
	searched := filepath.Join(dir, "searched.yaml")
	writeText(t, searched, fmt.Sprintf(`connections:
  app: {engine: postgres, secret: env:S_URL}
lakes:
  raw: {url: "file://%s"}
workflows:
  - {name: qualified, table: %s.accounts}
  - {name: bare, table: accounts}
`, filepath.Join(dir, "lake"), schema))
	q := u.Query()
	q.Set("search_path", schema)
	withPath := *u
	withPath.RawQuery = q.Encode()
	env = append(env, "S_URL="+withPath.String())

	db := strings.TrimPrefix(u.Path, "/")
	for _, c := range []struct {
		file, one, want string // one: a workflow run alone, the clash being with another
	}{
		{mixed, "a_accounts", fmt.Sprintf("workflow b_accounts: lands into raw/%s/%s.accounts, as workflow a_accounts does from connection shard_a (the database of both connections is named %s)", db, schema, db)},
		{spelled, "a_accounts", fmt.Sprintf("workflow b_accounts: lands into raw2/%s/%s.accounts, as workflow a_accounts does from connection shard_a (the database of both connections is named %s)", db, schema, db)},
		{searched, "qualified", fmt.Sprintf("workflow bare: table accounts is the table workflow qualified (table: %s.accounts) lands from connection app into lake raw: its rows would land twice", schema)},
		{twice, "qualified", fmt.Sprintf("workflow bare: table customers is the table workflow qualified (table: %s.customers) lands from connection shop into lake raw: its rows would land twice", tdb.Name)},
	} {
		for _, cmd := range [][]string{{"validate"}, {"plan"}, {"run", "--all"}, {"run", c.one}} {
			r := wharf(t, dir, env, append(cmd, "-c", c.file)...)
			if r.code != 1 || !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Errorf("wharf %s -c %s: want exit 1 and %q:\n%s", strings.Join(cmd, " "), filepath.Base(c.file), c.want, r)
			}
		}
	}
	if files := parquetFiles(t, dir); len(files) != 0 {
		t.Errorf("refused catalogs landed %v", files)
	}
}
