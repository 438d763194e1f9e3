package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
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

// TestOddTableNamesLand: a table whose schema and name hold ", . and spaces
// is named in the catalog the SQL way ("my ""odd"". schema"."t.able ""x""")
// and lands from PostgreSQL, twice (full, then incremental), into one safe,
// stable lake directory; a MariaDB table with backticks and quotes too.
func TestOddTableNamesLand(t *testing.T) {
	t.Parallel()
	conn, _, _ := pgSource(t)
	suffix := testdb.RandomSuffix()
	qs := `"my ""odd"". schema_` + suffix + `"`
	sqlExec(t, conn, "CREATE SCHEMA "+qs)
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "DROP SCHEMA "+qs+" CASCADE") })
	sqlExec(t, conn, "CREATE TABLE "+qs+`."t.able ""x""" (id int PRIMARY KEY, updated_at timestamptz NOT NULL)`)
	sqlExec(t, conn, "INSERT INTO "+qs+`."t.able ""x""" SELECT g, '2024-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5) g`)

	dir := t.TempDir()
	table := qs + `."t.able ""x"""`
	writeFile(t, dir, "c.yaml", fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - name: odd
    table: '%s'
    cursor: updated_at
`, dir, table))
	env := []string{"PG_URL=" + testdb.PostgresURL(), "WHARF_STATE=sqlite://" + dir + "/state.db"}
	mustWharf(t, dir, env, "validate", "-c", "c.yaml")
	r := mustWharf(t, dir, env, "run", "-c", "c.yaml", "odd")
	if !regexp.MustCompile(`(?m)^odd +succeeded +5 `).MatchString(r.stdout) {
		t.Errorf("first run should land 5 rows:\n%s", r)
	}
	db := strings.TrimPrefix(must(url.Parse(testdb.PostgresURL())).Path, "/")
	wantDir := db + "/my %22odd%22%2E schema_" + suffix + ".t%2Eable %22x%22/ingestion_date="
	files := parquetFiles(t, filepath.Join(dir, "lake"))
	if len(files) != 1 || !strings.HasPrefix(files[0], wantDir) {
		t.Fatalf("want one file under %s..., got %v", wantDir, files)
	}
	sqlExec(t, conn, "INSERT INTO "+table+" VALUES (6, now())")
	r = mustWharf(t, dir, env, "run", "-c", "c.yaml", "odd")
	if !regexp.MustCompile(`(?m)^odd +succeeded +1 `).MatchString(r.stdout) {
		t.Errorf("second run should land the 1 new row:\n%s", r)
	}
	if files = parquetFiles(t, filepath.Join(dir, "lake")); len(files) != 2 || !strings.HasPrefix(files[1], wantDir) {
		t.Errorf("want both runs' files under %s..., got %v", wantDir, files)
	}

	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE `odd ``tick`` \"q\" t` (id int primary key)")
	mysqlExec(t, tdb.DB, "INSERT INTO `odd ``tick`` \"q\" t` VALUES (1), (2)")
	writeFile(t, dir, "m.yaml", fmt.Sprintf(`connections:
  my: {engine: mysql, secret: env:MY_URL}
lakes:
  raw: {url: "file://%s/mlake"}
workflows:
  - {name: myodd, table: '%s."odd `+"`tick`"+` ""q"" t"'}
`, dir, tdb.Name))
	r = mustWharf(t, dir, []string{"MY_URL=" + tdb.URL, "WHARF_STATE=sqlite://" + dir + "/state.db"}, "run", "-c", "m.yaml", "myodd")
	if !regexp.MustCompile(`(?m)^myodd +succeeded +2 `).MatchString(r.stdout) {
		t.Errorf("MariaDB run should land 2 rows:\n%s", r)
	}
	if files = parquetFiles(t, filepath.Join(dir, "mlake")); len(files) != 1 || !strings.HasPrefix(files[0], tdb.Name+"/"+tdb.Name+".odd `tick` %22q%22 t/") {
		t.Errorf("MariaDB: want one file under %[1]s/%[1]s.odd `tick` %%22q%%22 t/, got %[2]v", tdb.Name, files)
	}
}

// TestOddColumnNamesLand: columns whose names hold a double quote (a"b) are
// named in the catalog as they are (cursor, partition_by, exclude_columns,
// cast, mask), quoted in every SQL statement, and land under their own
// names; a name written in quotes is still refused.
func TestOddColumnNamesLand(t *testing.T) {
	t.Parallel()
	conn, schema, _ := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE u (id int PRIMARY KEY, "a""b" text, "t""s" timestamptz NOT NULL, "p""q" text, "x""y" int, "m""n" text, "n""o" int)`)
	sqlExec(t, conn, `INSERT INTO u VALUES (1, 'a1', '2024-01-01', 'P/1', 1, 'secret 1', 10), (2, 'a2', '2024-01-02', 'P"2', 2, 'secret 2', 20)`)
	dir := t.TempDir()
	catalog := func(cursor string) {
		writeFile(t, dir, "c.yaml", fmt.Sprintf(`connections:
  pg: {engine: postgres, secret: env:PG_URL}
lakes:
  raw: {url: "file://%s/lake"}
workflows:
  - {name: u, table: %s.u, cursor: '%s', partition_by: 'p"q', exclude_columns: ['x"y'], cast: {'n"o': string}, mask: {'m"n': redact}, parallel: 2}
`, dir, schema, cursor))
	}
	env := []string{"PG_URL=" + testdb.PostgresURL(), "WHARF_STATE=sqlite://" + dir + "/state.db"}
	catalog(`"t""s"`)
	if r := wharf(t, dir, env, "validate", "-c", "c.yaml"); r.code == 0 || !strings.Contains(r.stderr, `workflows[0].cursor: column "\"t\"\"s\"": write the name without quotes`) {
		t.Errorf("a cursor written in SQL quotes should be refused:\n%s", r)
	}
	catalog(`t"s`)
	mustWharf(t, dir, env, "validate", "-c", "c.yaml")
	if r := mustWharf(t, dir, env, "run", "-c", "c.yaml", "u"); !regexp.MustCompile(`(?m)^u +succeeded +2 `).MatchString(r.stdout) {
		t.Fatalf("first run should land 2 rows:\n%s", r)
	}
	sqlExec(t, conn, `INSERT INTO u VALUES (3, 'a3', '2024-01-03', 'P/1', 3, 'secret 3', 30)`)
	if r := mustWharf(t, dir, env, "run", "-c", "c.yaml", "u"); !regexp.MustCompile(`(?m)^u +succeeded +1 `).MatchString(r.stdout) {
		t.Fatalf("second run should land the new row (cursor t\"s):\n%s", r)
	}
	files := parquetFiles(t, filepath.Join(dir, "lake"))
	if len(files) != 3 || !strings.Contains(files[0], "/p%22q=P%222/") {
		t.Fatalf("want 3 files, partitioned by p\"q (P\"2, P/1, P/1), got %v", files)
	}
	var got []string
	for _, f := range files {
		tbl := parquettest.ReadFile(t, filepath.Join(dir, "lake", f))
		var names []string
		for _, fld := range tbl.Schema().Fields() {
			names = append(names, fld.Name)
		}
		if want := `id,a"b,t"s,m"n,n"o,ingestion_timestamp`; strings.Join(names, ",") != want {
			t.Errorf("%s: columns %s, want %s", f, strings.Join(names, ","), want)
		}
		for _, row := range parquettest.Rows(t, tbl) {
			got = append(got, strings.TrimSpace(fmt.Sprintln(row[:5]...)))
		}
		tbl.Release()
	}
	sort.Strings(got)
	if want := "1 a1 2024-01-01 00:00:00 +0000 UTC *** 10|2 a2 2024-01-02 00:00:00 +0000 UTC *** 20|3 a3 2024-01-03 00:00:00 +0000 UTC *** 30"; strings.Join(got, "|") != want {
		t.Errorf("landed rows:\n%s\nwant\n%s", strings.Join(got, "|"), want)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestDiscoverGlueAndIngestionColumn: discover against a Glue catalog
// prints Glue entries; a table with its own ingestion_timestamp fails a run
// with a message naming the fix, and lands once the discovered entry
// (WharfIngestionColumn) is pasted into the catalog.
func TestDiscoverGlueAndIngestionColumn(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `CREATE TABLE events (id int PRIMARY KEY, ingestion_timestamp timestamptz NOT NULL)`)
	sqlExec(t, conn, `INSERT INTO events VALUES (1, '2020-01-01'), (2, '2020-01-02')`)
	dir := t.TempDir()
	rdsSecret(t, filepath.Join(dir, "secrets"), "DemoDBSecret", u)
	entry := `{"WorkflowName": "%s", "SecretName": "DemoDBSecret", "SourceTable": "%s.%s", "DestinationBucketName": "file://` + dir + `/lake"}`
	writeFile(t, dir, "glue.json", `{"WorkflowList": [`+fmt.Sprintf(entry, "regions", schema, "regions")+`,
`+fmt.Sprintf(entry, "events", schema, "events")+`]}`)
	args := []string{"--secrets", "file:" + filepath.Join(dir, "secrets"), "--state", "sqlite://" + dir + "/state.db"}

	r := wharf(t, dir, nil, append([]string{"run", "-c", "glue.json", "events"}, args...)...)
	want := fmt.Sprintf("error: workflow events: table %s.events already has a column named ingestion_timestamp, which the landing blueprint adds: set ingestion_column (Glue: WharfIngestionColumn) to another name for the added column\n", schema)
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("run of a table with its own ingestion_timestamp: want exit 1 and\n%s\ngot %s", want, r)
	}

	// discover lists the tables the catalog does not land: none, here.
	writeFile(t, dir, "one.json", `{"WorkflowList": [`+fmt.Sprintf(entry, "regions", schema, "regions")+`]}`)
	r = mustWharf(t, dir, nil, append([]string{"discover", "-c", "one.json", "--connection", "DemoDBSecret", "--schema", schema}, args...)...)
	wantOut := fmt.Sprintf(`{
  "WorkflowList": [
    {
      "WorkflowName": "DemoDBSecret_events",
      "SecretName": "DemoDBSecret",
      "SourceTable": "%s.events",
      "DestinationBucketName": "file://%s/lake",
      "DeltaColumnName": "",
      "JobScheduleType": "OnDemand",
      "WharfIngestionColumn": "wharf_ingestion_timestamp"
    }
  ]
}
`, schema, dir)
	wantErr := fmt.Sprintf(`note: %[1]s.events: no cursor column found: every run is a full load
note: %[1]s.events: the table has its own ingestion_timestamp column: the column wharf adds is named wharf_ingestion_timestamp (WharfIngestionColumn)
note: %[1]s.regions: already landed by workflow regions
`, schema)
	if r.stdout != wantOut || r.stderr != wantErr {
		t.Errorf("discover --format glue (the catalog's): want stdout\n%s\nstderr\n%s\ngot %s", wantOut, wantErr, r)
	}
	r = mustWharf(t, dir, nil, append([]string{"discover", "-c", "one.json", "--connection", "DemoDBSecret", "--schema", schema, "--format", "wharf"}, args...)...)
	if !strings.Contains(r.stdout, "    ingestion_column: wharf_ingestion_timestamp  # the table has its own ingestion_timestamp column") {
		t.Errorf("discover --format wharf:\n%s", r)
	}
	if r = wharf(t, dir, nil, "discover", "-c", "one.json", "--connection", "DemoDBSecret", "--format", "csv"); r.code != 2 || r.stderr != "error: --format \"csv\": want glue or wharf\n" {
		t.Errorf("discover --format csv: want exit 2 and a usage error, got %s", r)
	}

	// A renamed added column that collides too fails plan, before any run.
	writeFile(t, dir, "clash.json", `{"WorkflowList": [`+strings.Replace(fmt.Sprintf(entry, "events", schema, "events"), "}", `, "WharfIngestionColumn": "id"}`, 1)+`]}`)
	r = wharf(t, dir, nil, append([]string{"plan", "-c", "clash.json"}, args...)...)
	want = fmt.Sprintf("workflow events: table %s.events already has a column named id, which the landing blueprint adds: set ingestion_column (Glue: WharfIngestionColumn) to another name for the added column\n", schema)
	if r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("plan with a colliding WharfIngestionColumn: want exit 1 and\n%s\ngot %s", want, r)
	}

	// The discovered entry pasted into the catalog lands.
	var doc struct{ WorkflowList []map[string]any }
	if err := json.Unmarshal([]byte(wantOut), &doc); err != nil {
		t.Fatal(err)
	}
	pasted, _ := json.Marshal(doc.WorkflowList[0])
	writeFile(t, dir, "two.json", `{"WorkflowList": [`+fmt.Sprintf(entry, "regions", schema, "regions")+`, `+string(pasted)+`]}`)
	mustWharf(t, dir, nil, append([]string{"run", "-c", "two.json", "DemoDBSecret_events"}, args...)...)
	files := parquetFiles(t, filepath.Join(dir, "lake"))
	if len(files) != 1 {
		t.Fatalf("want one file, got %v", files)
	}
	tbl := parquettest.ReadFile(t, filepath.Join(dir, "lake", files[0]))
	var names []string
	for _, f := range tbl.Schema().Fields() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "id,ingestion_timestamp,wharf_ingestion_timestamp" || tbl.NumRows() != 2 {
		t.Errorf("landed columns %s (%d rows), want id,ingestion_timestamp,wharf_ingestion_timestamp (2 rows)", got, tbl.NumRows())
	}
}
