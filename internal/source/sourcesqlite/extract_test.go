package sourcesqlite

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

func TestExtractRoundTripsEveryType(t *testing.T) {
	path := newDB(t, "types.db", allTypesDDL,
		// Row 1: every column set, in the forms SQLite programs write.
		`INSERT INTO all_types VALUES (1, 1, 9007199254740993, -32768, 1.5, -2.25e-5, 123456.78,
			'12345678901234.5', 99999, 12.5, 7,
			'2024-02-29', '2024-03-01 10:11:12', '2024-03-01T10:11:12.123456',
			'2024-03-01 12:11:12+02:00', '2024-03-01T10:11:12.5Z', '23:59:59.999999',
			x'00ff10', x'0123456789abcdef0123456789abcdef', '{"a": [1, 2]}',
			'héllo', 'v', 'ab', 'clob', 42, 'odd')`,
		// Row 2: every nullable column NULL.
		`INSERT INTO all_types (id) VALUES (2)`,
		// Row 3: other accepted forms of the same kinds.
		`INSERT INTO all_types VALUES (3, 'false', -1, 0, 3, 4, 5, -0.5, -1, 6, 1.25,
			'1999-12-31', 1709287872, '2024-03-01 10:11', 1709287872, '2024-03-01 10:11:12', '08:00',
			'text bytes', '01234567-89ab-cdef-0123-456789abcdef', 3.5,
			'', 'x', 'y', 'z', 2.0, NULL)`,
		// Row 4: untyped column with text and real, JSON with a string.
		`INSERT INTO all_types (id, untyped, j, d, tm) VALUES (4, 'some text', '"s"', '0.10', '00:00:00')`,
	)
	s := openTest(t, path)
	tbl := describe(t, s, "all_types")
	got, err := extract(t, s, tbl, "", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.res.Rows != 4 || got.res.High != nil || len(got.recs) != 1 {
		t.Fatalf("result %+v with %d records, want 4 rows, no High, 1 record", got.res, len(got.recs))
	}
	if !got.recs[0].Schema().Equal(coltype.ArrowSchema(tbl.Columns)) {
		t.Fatalf("schema %v, want %v", got.recs[0].Schema(), coltype.ArrowSchema(tbl.Columns))
	}
	want := map[string][]string{
		"id":         {"1", "2", "3", "4"},
		"b":          {"true", "NULL", "false", "NULL"},
		"i":          {"9007199254740993", "0", "-1", "0"},
		"si":         {"-32768", "NULL", "0", "NULL"},
		"r":          {"1.5", "NULL", "3", "NULL"},
		"dbl":        {"-2.25e-05", "NULL", "4", "NULL"},
		"d":          {"123456.78", "NULL", "5", "0.1"},
		"d38":        {"12345678901234.5", "NULL", "-0.5", "NULL"},
		"dp":         {"99999", "NULL", "-1", "NULL"},
		"n":          {"12.5", "NULL", "6", "NULL"},
		"money":      {"7", "NULL", "1.25", "NULL"},
		"dt":         {"2024-02-29", "NULL", "1999-12-31", "NULL"},
		"ts":         {"2024-03-01T10:11:12", "NULL", "2024-03-01T10:11:12", "NULL"},
		"dtm":        {"2024-03-01T10:11:12.123456", "NULL", "2024-03-01T10:11:00", "NULL"},
		"tstz":       {"2024-03-01T10:11:12Z", "NULL", "2024-03-01T10:11:12Z", "NULL"},
		"tswtz":      {"2024-03-01T10:11:12.5Z", "NULL", "2024-03-01T10:11:12Z", "NULL"},
		"tm":         {"23:59:59.999999", "NULL", "08:00:00.000000", "00:00:00.000000"},
		"bl":         {"AP8Q", "NULL", "dGV4dCBieXRlcw==", "NULL"},
		"u":          {"01234567-89ab-cdef-0123-456789abcdef", "NULL", "01234567-89ab-cdef-0123-456789abcdef", "NULL"},
		"j":          {`{"a": [1, 2]}`, "NULL", "3.5", `"s"`},
		"t":          {"héllo", "NULL", "", "NULL"},
		"vc":         {"v", "NULL", "x", "NULL"},
		"ch":         {"ab", "NULL", "y", "NULL"},
		"cl":         {"clob", "NULL", "z", "NULL"},
		"untyped":    {"42", "NULL", "2.0", "some text"},
		`odd "name"`: {"odd", "NULL", "NULL", "NULL"},
	}
	for _, c := range tbl.Columns {
		if g := got.column(c.Name); !reflect.DeepEqual(g, want[c.Name]) {
			t.Errorf("column %s = %q, want %q", c.Name, g, want[c.Name])
		}
	}
}

func TestExtractBatches(t *testing.T) {
	stmts := []string{`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`}
	for i := 1; i <= 10; i++ {
		stmts = append(stmts, `INSERT INTO t (v) VALUES ('x')`)
	}
	s := openTest(t, newDB(t, "b.db", stmts...))
	got, err := extract(t, s, describe(t, s, "t"), "", nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, r := range got.recs {
		sizes = append(sizes, r.NumRows())
	}
	if !reflect.DeepEqual(sizes, []int64{3, 3, 3, 1}) || got.res.Rows != 10 {
		t.Errorf("batches %v rows %d, want [3 3 3 1] and 10", sizes, got.res.Rows)
	}
	if ids := got.column("id"); ids[0] != "1" || ids[9] != "10" {
		t.Errorf("ids %v", ids)
	}
}

// Wide rows cut a record at source.BatchBytes, not at the batch's rows.
func TestExtractBatchesByBytes(t *testing.T) {
	s := openTest(t, newDB(t, "w.db", `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`,
		`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 300)
		 INSERT INTO t (v) SELECT printf('%.65536c', 'x') FROM g`))
	got, err := extract(t, s, describe(t, s, "t"), "", nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, r := range got.recs {
		sizes = append(sizes, r.NumRows())
	}
	perRecord := int64(source.BatchBytes/65536) + 1
	if got.res.Rows != 300 || len(sizes) < 4 || sizes[0] > perRecord {
		t.Errorf("%d rows in records of %v rows, want 300 in records of at most %d", got.res.Rows, sizes, perRecord)
	}
}

func TestExtractSinkErrorStops(t *testing.T) {
	s := openTest(t, newDB(t, "b.db", `CREATE TABLE t (id INTEGER PRIMARY KEY)`,
		`INSERT INTO t VALUES (1), (2), (3)`))
	boom := errors.New("boom")
	calls := 0
	_, err := s.Extract(context.Background(), source.Request{Table: describe(t, s, "t"), BatchRows: 1},
		func(arrow.RecordBatch) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("err %v after %d calls, want boom after 1", err, calls)
	}
}

func TestExtractSubsetOfColumns(t *testing.T) {
	s := openTest(t, newDB(t, "sub.db", `CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT)`,
		`INSERT INTO t VALUES (1, 'x', 10), (2, 'y', 20)`))
	tbl := describe(t, s, "t")
	tbl.Columns = []coltype.Column{tbl.Columns[2], tbl.Columns[1]}
	got, err := extract(t, s, tbl, "", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, a := got.column("b"), got.column("a"); !reflect.DeepEqual(b, []string{"10", "20"}) || !reflect.DeepEqual(a, []string{"x", "y"}) {
		t.Errorf("b %v a %v", b, a)
	}
	tbl.Columns = append(tbl.Columns, coltype.Column{Name: "gone", Kind: coltype.String, Nullable: true})
	if _, err := extract(t, s, tbl, "", nil, 0); !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), `"gone"`) {
		t.Errorf("missing column: err = %v", err)
	}
}

// A value that does not fit its column's kind fails the extract with an
// error naming table, column, row and storage class.
func TestExtractTypeMismatch(t *testing.T) {
	cases := []struct {
		name, ddl, insert, table string
		column, row, class       string
		reason                   string
	}{
		{"text in integer", `CREATE TABLE emp (employee_id INTEGER PRIMARY KEY, age INT)`,
			`INSERT INTO emp VALUES (7, 'forty')`, "emp", "age", "employee_id=7", "text", "cannot be read as an integer"},
		{"real in integer", `CREATE TABLE emp (employee_id INTEGER PRIMARY KEY, age INT)`,
			`INSERT INTO emp VALUES (8, 40.5)`, "emp", "age", "employee_id=8", "real", "not a whole number"},
		{"too many decimals", `CREATE TABLE emp (employee_id INTEGER PRIMARY KEY, salary DECIMAL(8,2))`,
			`INSERT INTO emp VALUES (9, 123.456)`, "emp", "salary", "employee_id=9", "real", "more than 2 digits after the decimal point"},
		{"decimal overflow", `CREATE TABLE emp (employee_id INTEGER PRIMARY KEY, salary DECIMAL(4,2))`,
			`INSERT INTO emp VALUES (10, 123.4)`, "emp", "salary", "employee_id=10", "real", "does not fit in decimal(4,2)"},
		{"blob in text, rowid", `CREATE TABLE notes (body TEXT)`,
			`INSERT INTO notes VALUES ('ok'), (x'00')`, "notes", "body", "rowid=2", "blob", "cannot be read as text"},
		{"bad date, composite key", `CREATE TABLE hist (emp INT, start TEXT, d DATE, PRIMARY KEY (emp, start)) WITHOUT ROWID`,
			`INSERT INTO hist VALUES (3, 'a', '2024-13-01')`, "hist", "d", `emp=3, start="a"`, "text", "not a date"},
		{"offset in zone-less", `CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMP)`,
			`INSERT INTO ev VALUES (1, '2024-01-01 10:00:00+02:00')`, "ev", "at", "id=1", "text", "declare it TIMESTAMPTZ"},
		{"real timestamp", `CREATE TABLE ev (id INTEGER PRIMARY KEY, at TIMESTAMP)`,
			`INSERT INTO ev VALUES (1, 2460000.5)`, "ev", "at", "id=1", "real", "cannot be read as a timestamp"},
		{"bool 2", `CREATE TABLE f (id INTEGER PRIMARY KEY, ok BOOLEAN)`,
			`INSERT INTO f VALUES (1, 2)`, "f", "ok", "id=1", "integer", "neither 0 nor 1"},
		{"bad json", `CREATE TABLE f (id INTEGER PRIMARY KEY, doc JSON)`,
			`INSERT INTO f VALUES (1, '{nope')`, "f", "doc", "id=1", "text", "not valid JSON"},
		{"short uuid", `CREATE TABLE f (id INTEGER PRIMARY KEY, u UUID)`,
			`INSERT INTO f VALUES (1, x'0102')`, "f", "u", "id=1", "blob", "has 2 bytes"},
		{"text in real", `CREATE TABLE f (id INTEGER PRIMARY KEY, x REAL)`,
			`INSERT INTO f VALUES (1, 'n/a')`, "f", "x", "id=1", "text", "cannot be read as a floating-point number"},
		{"view rows by ordinal", `CREATE TABLE f (id INTEGER PRIMARY KEY, x TEXT); CREATE VIEW fv AS SELECT CAST(x AS INT) + 0 AS n, x FROM f`,
			`INSERT INTO f VALUES (1, 'a'), (2, x'01')`, "fv", "x", "row 2 of the result", "blob", "cannot be read as text"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t, newDB(t, "bad.db", c.ddl, c.insert))
			_, err := extract(t, s, describe(t, s, c.table), "", nil, 0)
			var ce *ConversionError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConversionError", err)
			}
			if ce.Table != c.table || ce.Column != c.column || ce.Row != c.row || ce.StorageClass != c.class ||
				!strings.Contains(ce.Reason, c.reason) || ce.Database != "bad" {
				t.Errorf("got %+v\nwant table %s column %s row %s class %s reason ~%q", ce, c.table, c.column, c.row, c.class, c.reason)
			}
			msg := err.Error()
			for _, part := range []string{"table " + c.table, `"` + c.column + `"`, c.row} {
				if !strings.Contains(msg, part) {
					t.Errorf("message %q lacks %q", msg, part)
				}
			}
		})
	}
}
