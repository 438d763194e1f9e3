package sourcesqlite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

const allTypesDDL = `CREATE TABLE all_types (
	id INTEGER PRIMARY KEY,
	b BOOLEAN,
	i BIGINT NOT NULL DEFAULT 0,
	si SMALLINT,
	r REAL,
	dbl DOUBLE PRECISION,
	d DECIMAL(8,2),
	d38 NUMERIC(38, 10),
	dp DECIMAL(5),
	n NUMERIC,
	money MONEY,
	dt DATE,
	ts TIMESTAMP,
	dtm DATETIME,
	tstz TIMESTAMPTZ,
	tswtz TIMESTAMP WITH TIME ZONE,
	tm TIME,
	bl BLOB,
	u UUID,
	j JSON,
	t TEXT,
	vc VARCHAR(20),
	ch CHARACTER(2),
	cl CLOB,
	untyped,
	"odd ""name""" TEXT
)`

func TestDescribeMapsDeclaredTypes(t *testing.T) {
	s := openTest(t, newDB(t, "types.db", allTypesDDL))
	tbl := describe(t, s, "all_types")
	want := []struct {
		name      string
		kind      coltype.Kind
		p, sc     int
		nullable  bool
		sourceTyp string
	}{
		{"id", coltype.Int64, 0, 0, false, "INTEGER"},
		{"b", coltype.Bool, 0, 0, true, "BOOLEAN"},
		{"i", coltype.Int64, 0, 0, false, "BIGINT"},
		{"si", coltype.Int64, 0, 0, true, "SMALLINT"},
		{"r", coltype.Float64, 0, 0, true, "REAL"},
		{"dbl", coltype.Float64, 0, 0, true, "DOUBLE PRECISION"},
		{"d", coltype.Decimal, 8, 2, true, "DECIMAL(8,2)"},
		{"d38", coltype.Decimal, 38, 10, true, "NUMERIC(38, 10)"},
		{"dp", coltype.Decimal, 5, 0, true, "DECIMAL(5)"},
		{"n", coltype.Float64, 0, 0, true, "NUMERIC"},
		{"money", coltype.Float64, 0, 0, true, "MONEY"},
		{"dt", coltype.Date, 0, 0, true, "DATE"},
		{"ts", coltype.Timestamp, 0, 0, true, "TIMESTAMP"},
		{"dtm", coltype.Timestamp, 0, 0, true, "DATETIME"},
		{"tstz", coltype.TimestampTZ, 0, 0, true, "TIMESTAMPTZ"},
		{"tswtz", coltype.TimestampTZ, 0, 0, true, "TIMESTAMP WITH TIME ZONE"},
		{"tm", coltype.Time, 0, 0, true, "TIME"},
		{"bl", coltype.Bytes, 0, 0, true, "BLOB"},
		{"u", coltype.UUID, 0, 0, true, "UUID"},
		{"j", coltype.JSON, 0, 0, true, "JSON"},
		{"t", coltype.String, 0, 0, true, "TEXT"},
		{"vc", coltype.String, 0, 0, true, "VARCHAR(20)"},
		{"ch", coltype.String, 0, 0, true, "CHARACTER(2)"},
		{"cl", coltype.String, 0, 0, true, "CLOB"},
		{"untyped", coltype.String, 0, 0, true, ""},
		{`odd "name"`, coltype.String, 0, 0, true, "TEXT"},
	}
	if len(tbl.Columns) != len(want) {
		t.Fatalf("got %d columns, want %d: %+v", len(tbl.Columns), len(want), tbl.Columns)
	}
	for i, w := range want {
		c := tbl.Columns[i]
		if c.Name != w.name || c.Kind != w.kind || c.Precision != w.p || c.Scale != w.sc ||
			c.Nullable != w.nullable || c.SourceType != w.sourceTyp {
			t.Errorf("column %d = %+v, want %+v", i, c, w)
		}
	}
}

func TestDescribeNullabilityOfKeys(t *testing.T) {
	s := openTest(t, newDB(t, "keys.db",
		`CREATE TABLE rowid_text_pk (code TEXT PRIMARY KEY, v INT)`,
		`CREATE TABLE without_rowid (a TEXT, b INT, c INT, PRIMARY KEY (a, b)) WITHOUT ROWID`,
		`CREATE TABLE int_not_integer (id INT PRIMARY KEY, v INT)`,
		`CREATE VIEW v AS SELECT code, v FROM rowid_text_pk`,
	))
	cases := []struct {
		table    string
		nullable []bool
	}{
		// A TEXT primary key of a rowid table may hold NULL in SQLite.
		{"rowid_text_pk", []bool{true, true}},
		{"without_rowid", []bool{false, false, true}},
		// "INT PRIMARY KEY" is not a rowid alias.
		{"int_not_integer", []bool{true, true}},
		{"v", []bool{true, true}},
	}
	for _, c := range cases {
		tbl := describe(t, s, c.table)
		for i, n := range c.nullable {
			if tbl.Columns[i].Nullable != n {
				t.Errorf("%s.%s nullable = %v, want %v", c.table, tbl.Columns[i].Name, tbl.Columns[i].Nullable, n)
			}
		}
	}
}

func TestDescribeNamesAndSchemas(t *testing.T) {
	s := openTest(t, newDB(t, "hr.db", `CREATE TABLE Regions (id INTEGER PRIMARY KEY, name TEXT)`))
	if got := s.Database(); got != "hr" {
		t.Errorf("Database() = %q, want hr", got)
	}
	for _, name := range []string{"Regions", "regions", "main.Regions", "MAIN.regions"} {
		if tbl := describe(t, s, name); tbl.Ref.Name != "Regions" || len(tbl.Columns) != 2 {
			t.Errorf("%s: got %+v", name, tbl)
		}
	}
	ctx := context.Background()
	_, err := s.Describe(ctx, source.TableRef{Schema: "public", Name: "Regions"})
	if !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), `schema "public"`) {
		t.Errorf("schema public: err = %v, want ErrNotFound naming the schema", err)
	}
	_, err = s.Describe(ctx, source.TableRef{Name: "nope"})
	if !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), "table nope") {
		t.Errorf("missing table: err = %v, want ErrNotFound naming the table", err)
	}
	_, err = s.Describe(ctx, source.TableRef{Name: "Regoins"})
	if want := `sqlite hr: table Regoins not found (did you mean "Regions"?)`; !errors.Is(err, source.ErrNotFound) || err.Error() != want {
		t.Errorf("misspelt table: err = %v, want %s", err, want)
	}
}

func TestDescribeUnsupportedDecimal(t *testing.T) {
	s := openTest(t, newDB(t, "wide.db", `CREATE TABLE wide (id INTEGER PRIMARY KEY, big DECIMAL(50,2))`))
	_, err := s.Describe(context.Background(), source.TableRef{Name: "wide"})
	var ue *coltype.UnsupportedError
	if !errors.As(err, &ue) || ue.Column != "big" || ue.Table != "wide" || ue.SourceType != "DECIMAL(50,2)" {
		t.Fatalf("err = %v, want UnsupportedError for wide.big", err)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	path := newDB(t, "my data.sqlite3", `CREATE TABLE t (x INT)`, `INSERT INTO t VALUES (1)`)
	for _, dsn := range []string{path, "file:" + path, "file://" + path, "sqlite:" + path, "sqlite://" + path,
		"file://" + strings.ReplaceAll(path, " ", "%20") + "?mode=rw", path + "?mode=rw&_pragma=foreign_keys(1)"} {
		s, err := Open(ctx, dsn)
		if err != nil {
			t.Errorf("Open(%q): %v", dsn, err)
			continue
		}
		if s.Database() != "my data" || s.Path() != path {
			t.Errorf("Open(%q): Database %q Path %q", dsn, s.Database(), s.Path())
		}
		// Read-only whatever the URI asked for.
		if _, err := s.db.ExecContext(ctx, "INSERT INTO t VALUES (2)"); err == nil {
			t.Errorf("Open(%q): insert succeeded on a read-only source", dsn)
		}
		s.Close()
	}

	missing := filepath.Join(t.TempDir(), "missing.db")
	if _, err := Open(ctx, missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v, want one naming %s", err, missing)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("Open created %s", missing)
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte(strings.Repeat("not a database ", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk file: err = %v, want one naming %s", err, junk)
	}
	if _, err := Open(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: err = %v", err)
	}
}
