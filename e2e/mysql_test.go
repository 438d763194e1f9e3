package e2e

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/quickstart"
	"github.com/wharf-data/wharf/internal/testdb"
	"github.com/wharf-data/wharf/internal/testdb/duckread"
)

// mysqlUser creates a user with a password that may read only db, dropped
// at cleanup, and returns host and port of the server.
func mysqlUser(t *testing.T, tdb *testdb.MySQLDatabase, user, password string) (host, port string) {
	t.Helper()
	u, err := url.Parse(testdb.MySQLURL())
	if err != nil {
		t.Fatal(err)
	}
	host, port = u.Hostname(), u.Port()
	if port == "" {
		port = "3306"
	}
	for _, h := range []string{"%", "localhost"} {
		mysqlExec(t, tdb.Admin, fmt.Sprintf("CREATE USER '%s'@'%s' IDENTIFIED BY '%s'", user, h, password))
		mysqlExec(t, tdb.Admin, fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'%s'", tdb.Name, user, h))
		t.Cleanup(func() { _, _ = tdb.Admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%s'", user, h)) })
	}
	return host, port
}

func mysqlExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%v\nSQL: %s", err, q)
	}
}

// loadSample loads the quickstart's HR sample into the database.
func loadSample(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	ddl, tables := quickstart.Sample()
	for _, stmt := range ddl {
		mysqlExec(t, db, stmt)
	}
	counts := map[string]int{}
	for _, tb := range tables {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(tb.Columns)), ", ")
		q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", tb.Name, strings.Join(tb.Columns, ", "), marks)
		for _, row := range tb.Rows {
			mysqlExec(t, db, q, row...)
		}
		counts[tb.Name] = len(tb.Rows)
	}
	return counts
}

// TestGlueCatalogAgainstMySQLWithSecretsManager is the seed's setup on
// MySQL: the HR sample in MariaDB, a Glue workflow catalog whose SecretName
// lives in AWS Secrets Manager (a local endpoint) as RDS JSON with "engine":
// "mysql". Every table lands and reads back exactly; after an update, the
// second run lands exactly the changed rows.
func TestGlueCatalogAgainstMySQLWithSecretsManager(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	counts := loadSample(t, tdb.DB)
	user := "wharf_" + testdb.RandomSuffix()
	host, port := mysqlUser(t, tdb, user, testPassword)
	sm := testdb.StartSecretsManager(t, map[string]string{
		"DemoDBSecret": fmt.Sprintf(`{"engine":"mysql","host":%q,"port":%s,"username":%q,"password":%q,"dbname":%q,"dbInstanceIdentifier":"demo"}`,
			host, port, user, testPassword, tdb.Name),
	})

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	var entries []string
	for _, tb := range quickstart.Tables() {
		entries = append(entries, fmt.Sprintf(`    {
      "WorkflowName": "rds_to_s3_hr_%[1]s",
      "GlueExecutionRole": "arn:aws:iam::123456789012:role/AWSGlueServiceRole-data-lake-landing",
      "NetworkConnectionName": "rds-vpc",
      "SecretName": "DemoDBSecret",
      "SourceTable": "%[2]s.%[1]s",
      "DestinationBucketName": "file://%[3]s",
      "TransactionTimestampColumnName": "updated_at",
      "JobScheduleType": "Cron",
      "ScheduleCronPattern": "10 21 * * ? *"
    }`, tb.Name, tdb.Name, lakeDir))
	}
	catPath := filepath.Join(dir, "workflow_config.json")
	if err := os.WriteFile(catPath, []byte("{\n  \"WorkflowList\": [\n"+strings.Join(entries, ",\n")+"\n  ]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(testdb.AWSTestEnv(),
		"WHARF_SECRETS=aws-sm:?region=eu-west-1&endpoint="+sm.URL,
		"WHARF_STATE=sqlite:"+filepath.Join(dir, "state.db"))

	r := mustWharf(t, dir, env, "run", "-c", catPath, "--all")
	if strings.Contains(r.stdout+r.stderr, testPassword) {
		t.Fatalf("the password appeared in wharf's output:\n%s", r)
	}
	if n := sm.Calls("DemoDBSecret"); n != 1 {
		t.Errorf("GetSecretValue called %d times for one run of 7 workflows, want 1 (cached per process)", n)
	}
	tableDir := func(table string) string { return filepath.Join(lakeDir, tdb.Name, tdb.Name+"."+table) }
	first := map[string][]string{}
	for _, tb := range quickstart.Tables() {
		files := parquetFiles(t, tableDir(tb.Name))
		if len(files) != 1 {
			t.Fatalf("%s: want one file, got %v", tb.Name, files)
		}
		first[tb.Name] = files
		got := landedRows(t, parquettest.ReadFile(t, filepath.Join(tableDir(tb.Name), files[0])))
		want := mysqlRows(t, tdb.DB, tb.Name, "")
		if len(got) != counts[tb.Name] || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: landed %d rows, source has %d; first difference: %s", tb.Name, len(got), len(want), firstDiff(got, want))
		}
	}

	// Raise five salaries: the next run lands those five rows, nothing else.
	var newest string
	if err := tdb.DB.QueryRow("SELECT DATE_FORMAT(MAX(updated_at) + INTERVAL 1 SECOND, '%Y-%m-%d %H:%i:%s') FROM employees").Scan(&newest); err != nil {
		t.Fatal(err)
	}
	mysqlExec(t, tdb.DB, "UPDATE employees SET salary = salary + 100, updated_at = ? ORDER BY updated_at, employee_id LIMIT 5", newest)
	r = mustWharf(t, dir, env, "run", "-c", catPath, "--all")
	for _, tb := range quickstart.Tables() {
		added := newFiles(first[tb.Name], parquetFiles(t, tableDir(tb.Name)))
		if tb.Name != "employees" {
			if len(added) != 0 {
				t.Errorf("%s: the second run landed %v, want nothing", tb.Name, added)
			}
			continue
		}
		if len(added) != 1 {
			t.Fatalf("employees: the second run landed %v, want one file\n%s", added, r)
		}
		got := landedRows(t, parquettest.ReadFile(t, filepath.Join(tableDir(tb.Name), added[0])))
		want := mysqlRows(t, tdb.DB, tb.Name, "WHERE updated_at = '"+newest+"'")
		if len(want) != 5 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("employees: the second run landed %d rows, want the 5 changed ones; first difference: %s", len(got), firstDiff(got, want))
		}
	}
}

func firstDiff(got, want []string) string {
	for i := 0; i < len(got) || i < len(want); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			return fmt.Sprintf("\n got  %q\n want %q", g, w)
		}
	}
	return "none"
}

// mysqlRows returns the table's rows as MySQL prints them (session zone
// UTC), one line per row, columns joined by '|', NULL as \N, sorted.
func mysqlRows(t *testing.T, db *sql.DB, table, where string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "SELECT * FROM "+table+" "+where)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = `\N`
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// landedRows renders a landed table like mysqlRows, without
// ingestion_timestamp.
func landedRows(t *testing.T, tbl arrow.Table) []string {
	t.Helper()
	var out []string
	n := int(tbl.NumRows())
	cells := make([][]string, n)
	for c := 0; c < int(tbl.NumCols()); c++ {
		if tbl.Schema().Field(c).Name == "ingestion_timestamp" {
			continue
		}
		row := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				cells[row] = append(cells[row], mysqlText(t, chunk, i))
				row++
			}
		}
	}
	for _, r := range cells {
		out = append(out, strings.Join(r, "|"))
	}
	sort.Strings(out)
	return out
}

// mysqlText renders a landed value as MySQL's text protocol sends it.
func mysqlText(t *testing.T, a arrow.Array, i int) string {
	if a.IsNull(i) {
		return `\N`
	}
	switch a := a.(type) {
	case *array.Int16:
		return strconv.Itoa(int(a.Value(i)))
	case *array.Int32:
		return strconv.Itoa(int(a.Value(i)))
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.String:
		return a.Value(i)
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		return time.UnixMicro(int64(a.Value(i))).UTC().Format("2006-01-02 15:04:05")
	}
	t.Fatalf("no MySQL text for %T", a)
	return ""
}

// TestMySQLPatternsAndDiscover: a table pattern expands against a MariaDB
// database (views left out), the expanded workflows land, and discover
// lists the tables with their cursors guessed. The secret is a mysql:// URL.
func TestMySQLPatternsAndDiscover(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	for _, s := range []string{
		"CREATE TABLE orders (id bigint PRIMARY KEY, updated_at datetime(6) NOT NULL DEFAULT NOW(6))",
		"CREATE TABLE order_items (id bigint, ModifiedAt timestamp NULL)",
		"CREATE TABLE customers (id bigint, name varchar(20))",
		"CREATE TABLE tmp_load (id bigint)",
		"CREATE TABLE `Odd Name` (id bigint, updated int)",
		"CREATE VIEW orders_view AS SELECT * FROM orders",
		// Stamped in the past: a row stamped now may wait a run behind any
		// write transaction of the shared server (docs/guarantees.md).
		"INSERT INTO orders (id, updated_at) VALUES (1, '2024-01-01'), (2, '2024-01-01')",
		"INSERT INTO customers VALUES (1, 'Zoë')",
	} {
		mysqlExec(t, tdb.DB, s)
	}
	dir := t.TempDir()
	env := []string{"SHOP_DB_URL=" + tdb.URL}
	cat := filepath.Join(dir, "wharf.yaml")
	// A guessed cursor shows in discover for a table no workflow lands yet.
	mysqlExec(t, tdb.DB, "CREATE TABLE invoices (id bigint, last_modified datetime)")
	writeText(t, cat, fmt.Sprintf(`connections:
  shop: {engine: mysql, secret: env:SHOP_DB_URL}
lakes:
  raw: {url: "file://%s/lake"}
defaults: {cursor: updated_at}
workflows:
  - name: shop
    table: "%s.*"
    exclude: ["tmp_*", invoices]
`, dir, tdb.Name))
	r := mustWharf(t, dir, env, "plan", "-c", cat, "--json")
	if want := `{"create":["shop_Odd_Name","shop_customers","shop_order_items","shop_orders"],"update":[],"unchanged":[],"disable":[],"delete":[]}` + "\n"; r.stdout != want {
		t.Fatalf("plan --json:\n%s\nwant %s", r, want)
	}
	r = mustWharf(t, dir, env, "run", "-c", cat, "--all")
	if !strings.Contains(r.stdout, "4 workflow(s): 4 succeeded") {
		t.Errorf("run of the expanded pattern:\n%s", r)
	}
	files := parquetFiles(t, filepath.Join(dir, "lake", tdb.Name))
	if len(files) != 2 || !strings.HasPrefix(files[0], tdb.Name+".customers/") || !strings.HasPrefix(files[1], tdb.Name+".orders/") {
		t.Errorf("landed files %v, want one each for customers and orders (the other tables are empty)", files)
	}

	r = mustWharf(t, dir, env, "discover", "-c", cat, "--connection", "shop")
	want := `# wharf discover: 6 table(s) in the default schema of connection shop
workflows:
  # Odd Name: already landed by table pattern shop
  # customers: already landed by table pattern shop
  - name: shop_invoices
    connection: shop
    table: invoices
    cursor: last_modified  # guessed
  # order_items: already landed by table pattern shop
  # orders: already landed by table pattern shop
  - name: shop_tmp_load
    connection: shop
    table: tmp_load
    cursor: ""  # no cursor column found: every run is a full load
`
	if r.stdout != want {
		t.Fatalf("discover:\n%s\nwant\n%s", r, want)
	}
	r = wharf(t, dir, env, "discover", "-c", cat, "--connection", "shop", "--schema", "wharf_no_such_db")
	if r.code != 1 || !strings.Contains(r.stderr, "list tables of database wharf_no_such_db: no such database") {
		t.Errorf("discover of a missing database:\n%s", r)
	}
}

// TestMySQLTypesReadByDuckDB lands one row of each MySQL type family with
// the built binary and reads the Parquet back with DuckDB, a reader that is
// not arrow-go.
func TestMySQLTypesReadByDuckDB(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	cols := []struct{ name, ddl, literal, duck, want string }{
		{"tiu", "tinyint unsigned", "255", "tiu::VARCHAR", "255"},
		{"biu", "bigint unsigned", "18446744073709551615", "biu::VARCHAR", "18446744073709551615"},
		{"b1", "tinyint(1)", "1", "b1::VARCHAR", "true"},
		{"d", "decimal(12,2)", "-1234567890.12", "d::VARCHAR", "-1234567890.12"},
		{"d65", "decimal(65,30)", "1.000000000000000000000000000001", "d65", "1.000000000000000000000000000001"},
		{"f", "float", "16777216", "f::DOUBLE::VARCHAR", "16777216.0"},
		{"db", "double", "-2.5e-300", "db::VARCHAR", "-2.5e-300"},
		{"bits", "bit(10)", "b'1010101010'", "bits::VARCHAR", "682"},
		{"latin", "varchar(20) character set latin1", "'café'", "latin", "café"},
		{"bl", "blob", "x'00ff10'", "hex(bl)", "00FF10"},
		{"en", "enum('small','large')", "'large'", "en", "large"},
		{"st", "set('x','y')", "'y,x'", "st", "x,y"},
		{"js", "json", `'{"a": [1, null]}'`, "json_extract(js, '$.a[0]')::VARCHAR", "1"},
		{"dt", "date", "'2024-02-29'", "dt::VARCHAR", "2024-02-29"},
		{"dtm", "datetime(6)", "'9999-12-31 23:59:59.999999'", "dtm::VARCHAR", "9999-12-31 23:59:59.999999"},
		{"ts", "timestamp(6) NULL", "'2038-01-19 03:14:07.5'", "epoch_us(ts)::VARCHAR", "2147483647500000"},
		{"tm", "time(6)", "'23:59:59.999999'", "tm::VARCHAR", "23:59:59.999999"},
		{"yr", "year", "1901", "yr::VARCHAR", "1901"},
		{"geo", "geometry", "ST_GeomFromText('POINT(1 2)')", "hex(geo)", "0101000000000000000000F03F0000000000000040"},
	}
	defs := []string{"id int PRIMARY KEY"}
	names, vals := []string{"id"}, []string{"1"}
	var duckCols []string
	for _, c := range cols {
		defs = append(defs, c.name+" "+c.ddl)
		names = append(names, c.name)
		vals = append(vals, c.literal)
		duckCols = append(duckCols, c.duck)
	}
	mysqlExec(t, tdb.DB, "CREATE TABLE zoo ("+strings.Join(defs, ", ")+")")
	mysqlExec(t, tdb.DB, "INSERT INTO zoo ("+strings.Join(names, ", ")+") VALUES ("+strings.Join(vals, ", ")+")")

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	cat := filepath.Join(dir, "wharf.yaml")
	writeText(t, cat, fmt.Sprintf("connections:\n  db: {engine: mysql, secret: env:DB_URL}\nlakes:\n  raw: {url: \"file://%s\"}\nworkflows:\n  - {name: zoo, table: zoo}\n", lakeDir))
	mustWharf(t, dir, []string{"DB_URL=" + tdb.URL}, "run", "-c", cat, "zoo")
	files := parquetFiles(t, lakeDir)
	if len(files) != 1 {
		t.Fatalf("landed %v, want one file", files)
	}
	duck := duckread.Open(t)
	got := duckread.Strings(t, duck, "SELECT "+strings.Join(duckCols, ", ")+" FROM read_parquet(?)", filepath.Join(lakeDir, files[0]))
	if len(got) != 1 {
		t.Fatalf("DuckDB read %d rows, want 1", len(got))
	}
	for i, c := range cols {
		if g := got[0][i]; g == nil || *g != c.want {
			t.Errorf("%s (%s): DuckDB reads %s = %v, want %q", c.name, c.ddl, c.duck, show(g), c.want)
		}
	}
}

// TestMySQLColumnChoices: exclude_columns, cast and mask from the catalog
// work on a MySQL table as on PostgreSQL: the raw values of masked and
// excluded columns never reach the lake or wharf's output.
func TestMySQLColumnChoices(t *testing.T) {
	t.Parallel()
	tdb := testdb.MySQL(t)
	mysqlExec(t, tdb.DB, "CREATE TABLE people (id int PRIMARY KEY, email varchar(64), phone varchar(32), notes text, ssn varchar(11), n decimal(30,12))")
	mysqlExec(t, tdb.DB, "INSERT INTO people VALUES (1, 'ann@example.com', '+33 1 23 45', 'allergic to nuts', '123-45-6789', 1.123456789012), (2, NULL, NULL, NULL, '987-65-4321', NULL)")
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	env := []string{"SHOP_DB_URL=" + tdb.URL, "SALT=pepper-7f3a"}
	cat := filepath.Join(dir, "wharf.yaml")
	writeText(t, cat, fmt.Sprintf(`connections:
  shop: {engine: mysql, secret: env:SHOP_DB_URL, mask_salt: env:SALT}
lakes:
  raw: {url: "file://%s"}
workflows:
  - name: people
    table: %s.people
    exclude_columns: [ssn]
    cast: {n: string}
    mask: {email: sha256, phone: redact, notes: "null"}
`, lakeDir, tdb.Name))
	r := mustWharf(t, dir, env, "run", "-c", cat, "--state", "sqlite:"+filepath.Join(dir, "state.db"), "people")
	if strings.Contains(r.stdout+r.stderr, "ann@example.com") || strings.Contains(r.stdout+r.stderr, "pepper-7f3a") {
		t.Errorf("a masked value or the salt reached wharf's output:\n%s", r)
	}
	duck := duckread.Open(t)
	files := filepath.Join(lakeDir, "**", "*.parquet")
	rows := duckread.Strings(t, duck, fmt.Sprintf(`SELECT string_agg(column_name, ',' ORDER BY column_index) FROM (SELECT column_name, row_number() OVER () AS column_index FROM (DESCRIBE SELECT * FROM read_parquet('%s', hive_partitioning = false)))`, files))
	if got := *rows[0][0]; got != "id,email,phone,notes,n,ingestion_timestamp" {
		t.Errorf("landed columns %s, want id,email,phone,notes,n,ingestion_timestamp", got)
	}
	rows = duckread.Strings(t, duck, fmt.Sprintf(`SELECT id::VARCHAR, email, phone, notes, n, typeof(n) FROM read_parquet('%s') ORDER BY id`, files))
	sum := sha256.Sum256([]byte("pepper-7f3aann@example.com"))
	want := [][]string{
		{"1", hex.EncodeToString(sum[:]), "***", "NULL", "1.123456789012", "VARCHAR"},
		{"2", "NULL", "NULL", "NULL", "NULL", "VARCHAR"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows landed, want %d", len(rows), len(want))
	}
	for i, row := range rows {
		for j, v := range row {
			if s := shorten(v); s != want[i][j] {
				t.Errorf("row %d column %d: %s, want %s", i+1, j, s, want[i][j])
			}
		}
	}
	for _, f := range allFiles(t, lakeDir) {
		b, err := os.ReadFile(filepath.Join(lakeDir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{"ann@example.com", "+33 1 23 45", "allergic", "123-45-6789"} {
			if strings.Contains(string(b), raw) {
				t.Errorf("%s holds the raw value %q", f, raw)
			}
		}
	}
}
