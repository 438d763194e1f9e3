package e2e

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-data/wharf/internal/lake/parquettest"
	"github.com/wharf-data/wharf/internal/testdb"
)

const testPassword = "Sup3r-S3cret-Pa55"

// pgSource creates a fresh schema and returns a connection to it, the
// schema name, and the parts of the test database URL.
func pgSource(t *testing.T) (*pgx.Conn, string, *url.URL) {
	t.Helper()
	dsn, schema := testdb.PostgresSchema(t)
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	u, err := url.Parse(testdb.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	return conn, schema, u
}

func sqlExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%v\nSQL: %s", err, sql)
	}
}

// rdsSecret writes an AWS Secrets Manager RDS-shaped secret for the test
// database (with a password the trust-auth server ignores).
func rdsSecret(t *testing.T, dir, name string, u *url.URL) {
	t.Helper()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	user := u.User.Username()
	if user == "" {
		user = "postgres"
	}
	body := fmt.Sprintf(`{"engine":"postgres","host":%q,"port":%s,"username":%q,"password":%q,"dbname":%q}`,
		u.Hostname(), port, user, testPassword, strings.TrimPrefix(u.Path, "/"))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGlueCatalogAgainstPostgresEveryType(t *testing.T) {
	t.Parallel()
	conn, schema, u := pgSource(t)
	sqlExec(t, conn, `CREATE TABLE regions (region_id integer PRIMARY KEY, region_name varchar(25), updated_at timestamptz NOT NULL DEFAULT now())`)
	sqlExec(t, conn, `INSERT INTO regions (region_id, region_name) VALUES (1,'Europe'),(2,'Americas'),(3,'Asia'),(4,'Middle East and Africa')`)
	sqlExec(t, conn, `CREATE TABLE everything (
		id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
		n12 numeric(12,2), n30 numeric(30,10), t text, vc varchar(20), ch char(5), b boolean,
		d date, ts timestamp, tstz timestamptz, tm time, by bytea, u uuid, j json, jb jsonb)`)
	sqlExec(t, conn, `INSERT INTO everything VALUES
		(1, 32767, -2147483648, 9223372036854775807, 1.5, -2.25e-10, 100.00, -12345678901234567890.0123456789,
		 'héllo wörld ☃', 'vc', 'ab', true, '1999-12-31', '1970-01-01 00:00:00.000001', '2038-01-19 03:14:08.5+00',
		 '23:59:59.999999', '\x00ff00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": 1,  "a": [1,2]}', '{"b": 1, "a": [1,2]}'),
		(2, -32768, 0, -9223372036854775808, 0, 1e300, 0.01, 0.0000000001, '', '', '', false,
		 '0001-01-01', '1900-06-15 12:00:00', '1901-12-13 20:45:52-05', '00:00:00', '\x', '00000000-0000-0000-0000-000000000000', '[]', '{}'),
		(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)

	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	rdsSecret(t, filepath.Join(dir, "secrets"), "DemoDBSecret", u)
	catalogJSON := fmt.Sprintf(`{
  "WorkflowList": [
    {
      "WorkflowName": "rds_to_s3_public_regions",
      "GlueExecutionRole": "arn:aws:iam::123456789012:role/AWSGlueServiceRole-data-lake-landing",
      "NetworkConnectionName": "rds-vpc",
      "SecretName": "DemoDBSecret",
      "SourceTable": "%[1]s.regions",
      "DestinationBucketName": "file://%[2]s",
      "TransactionTimestampColumnName": "updated_at",
      "JobScheduleType": "Cron",
      "ScheduleCronPattern": "10 21 * * ? *"
    },
    {
      "WorkflowName": "everything",
      "SecretName": "DemoDBSecret",
      "SourceTable": "%[1]s.everything",
      "DestinationBucketName": "file://%[2]s"
    }
  ]
}`, schema, lakeDir)
	catPath := filepath.Join(dir, "workflow_config.json")
	if err := os.WriteFile(catPath, []byte(catalogJSON), 0o600); err != nil {
		t.Fatal(err)
	}

	r := mustWharf(t, dir, nil, "validate", "-c", catPath, "--secrets", "file:"+filepath.Join(dir, "secrets"))
	if !strings.Contains(r.stdout, "valid glue catalog: 2 workflow(s)") || !strings.Contains(r.stderr, "GlueExecutionRole") {
		t.Errorf("validate output:\n%s", r)
	}
	r = mustWharf(t, dir, nil, "run", "-c", catPath, "--secrets", "file:"+filepath.Join(dir, "secrets"),
		"--state", "sqlite:"+filepath.Join(dir, "state.db"), "--all")
	if strings.Contains(r.stdout+r.stderr, testPassword) {
		t.Fatalf("the password appeared in wharf's output:\n%s", r)
	}
	if !strings.Contains(r.stderr, "no updated_at column: full load") {
		t.Errorf("the run should report that everything has no cursor column:\n%s", r)
	}

	dbName := strings.TrimPrefix(u.Path, "/")
	for table, n := range map[string]int64{"regions": 4, "everything": 3} {
		files := parquetFiles(t, filepath.Join(lakeDir, dbName, schema+"."+table))
		if len(files) != 1 || !strings.HasPrefix(files[0], "ingestion_date="+time.Now().UTC().Format("2006-01-02")+"/part-") {
			t.Fatalf("%s: want one file under %s/%s.%s/ingestion_date=TODAY/, got %v", table, dbName, schema, table, files)
		}
		tbl := parquettest.ReadFile(t, filepath.Join(lakeDir, dbName, schema+"."+table, files[0]))
		if tbl.NumRows() != n {
			t.Errorf("%s: %d rows, want %d", table, tbl.NumRows(), n)
		}
		compareWithSource(t, conn, table, tbl)
	}
}

// compareWithSource checks every value of every column of tbl (ordered by its
// first column) against PostgreSQL's own text output of the source row.
func compareWithSource(t *testing.T, conn *pgx.Conn, table string, tbl arrow.Table) {
	t.Helper()
	ctx := context.Background()
	sqlExec(t, conn, "SET TimeZone = 'UTC'")
	sqlExec(t, conn, "SET DateStyle = 'ISO, YMD'")
	sqlExec(t, conn, "SET bytea_output = 'hex'")
	sc := tbl.Schema()
	var cols []string
	for _, f := range sc.Fields() {
		if f.Name == "ingestion_timestamp" {
			continue
		}
		q := pgx.Identifier{f.Name}.Sanitize()
		cols = append(cols, fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN NULL ELSE format('%%s', %[1]s) END", q))
	}
	rows, err := conn.Query(ctx, fmt.Sprintf("SELECT %s FROM %s ORDER BY 1", strings.Join(cols, ", "), pgx.Identifier{table}.Sanitize()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]*string, error) {
		vals := make([]*string, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		return vals, r.Scan(ptrs...)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]*string, tbl.NumRows())
	for i := range got {
		got[i] = make([]*string, len(cols))
	}
	for c := range cols {
		row := 0
		for _, chunk := range tbl.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				if !chunk.IsNull(i) {
					s := pgText(t, chunk, i)
					got[row][c] = &s
				}
				row++
			}
		}
	}
	// Order landed rows by the first column's text as PostgreSQL orders integers.
	byKey := map[string][]*string{}
	for _, g := range got {
		byKey[*g[0]] = g
	}
	for _, w := range want {
		g := byKey[*w[0]]
		if g == nil {
			t.Errorf("%s: row %s not landed", table, *w[0])
			continue
		}
		for c := range cols {
			if (w[c] == nil) != (g[c] == nil) || (w[c] != nil && *w[c] != *g[c]) {
				t.Errorf("%s row %s column %s: landed %s, source %s", table, *w[0], sc.Field(c).Name, show(g[c]), show(w[c]))
			}
		}
	}
}

func show(s *string) string {
	if s == nil {
		return "NULL"
	}
	return strconv.Quote(*s)
}

// pgText renders an Arrow value the way PostgreSQL's output functions do
// (TimeZone UTC, DateStyle ISO, bytea hex).
func pgText(t *testing.T, a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return `\x` + hex.EncodeToString(a.Value(i))
	case *array.Boolean:
		if a.Value(i) {
			return "t"
		}
		return "f"
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.Time64:
		return time.UnixMicro(int64(a.Value(i))).UTC().Format("15:04:05.999999")
	case *array.Timestamp:
		ts := time.UnixMicro(int64(a.Value(i))).UTC()
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			return ts.Format("2006-01-02 15:04:05.999999-07")
		}
		return ts.Format("2006-01-02 15:04:05.999999")
	case *extensions.UUIDArray:
		return a.Value(i).String()
	case *extensions.JSONArray:
		return a.Storage().(*array.String).Value(i)
	}
	t.Fatalf("no PostgreSQL text form for %s", a.DataType())
	return ""
}
