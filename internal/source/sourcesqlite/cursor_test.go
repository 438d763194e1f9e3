package sourcesqlite

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// window extracts one window and returns the ids delivered and High's text
// ("" when nil).
func window(t *testing.T, s *Source, table, cursorCol string, after *coltype.Watermark) ([]string, string) {
	t.Helper()
	got, err := extract(t, s, describe(t, s, table), cursorCol, after, 0)
	if err != nil {
		t.Fatalf("window after %v: %v", after, err)
	}
	if int64(len(got.column("id"))) != got.res.Rows {
		t.Fatalf("Rows %d but %d ids", got.res.Rows, len(got.column("id")))
	}
	high := ""
	if got.res.High != nil {
		if got.res.High.Kind != describe(t, s, table).Column(cursorCol).Kind {
			t.Errorf("High kind %v", got.res.High.Kind)
		}
		if err := got.res.High.Validate(); err != nil {
			t.Errorf("High %q is not canonical: %v", got.res.High.Text, err)
		}
		high = got.res.High.Text
	}
	ids := got.column("id")
	if ids == nil {
		ids = []string{}
	}
	return ids, high
}

// insertStmts builds one INSERT per value: (id, cursor) = (i+1, values[i]),
// where a value is SQL text (a quoted string, a number, NULL).
func insertStmts(table string, values ...string) []string {
	var out []string
	for i, v := range values {
		out = append(out, fmt.Sprintf("INSERT INTO %s (id, c) VALUES (%d, %s)", table, i+1, v))
	}
	return out
}

type windowCase struct {
	after    string // watermark text; "" = full load
	ids      []string
	wantHigh string
}

func runWindows(t *testing.T, decl string, kind coltype.Kind, values []string, cases []windowCase) {
	t.Helper()
	stmts := append([]string{fmt.Sprintf("CREATE TABLE t (id INTEGER PRIMARY KEY, c %s)", decl)}, insertStmts("t", values...)...)
	s := openTest(t, newDB(t, "w.db", stmts...))
	for _, c := range cases {
		var after *coltype.Watermark
		if c.after != "" {
			after = wm(kind, c.after)
		}
		ids, high := window(t, s, "t", "c", after)
		if !reflect.DeepEqual(ids, c.ids) || high != c.wantHigh {
			t.Errorf("after %q: ids %v High %q, want ids %v High %q", c.after, ids, high, c.ids, c.wantHigh)
		}
	}
}

func TestWindowTimestampTextSeconds(t *testing.T) {
	runWindows(t, "TIMESTAMP", coltype.Timestamp,
		[]string{"'2024-01-01 10:00:00'", "'2024-01-01 10:00:01'", "'2024-01-01 10:00:02'", "NULL", "'2023-12-31 23:59:59'"},
		[]windowCase{
			{"", []string{"1", "2", "3", "4", "5"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:00.000000", []string{"2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:00.500000", []string{"2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:01.000000", []string{"3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:02.000000", []string{}, ""},
			{"2025-01-01T00:00:00.000000", []string{}, ""},
			{"2000-01-01T00:00:00.000000", []string{"1", "2", "3", "5"}, "2024-01-01T10:00:02.000000"},
		})
}

// Fractions of different widths, and none, compare by their time.
func TestWindowTimestampTextFractions(t *testing.T) {
	for _, sep := range []string{" ", "T"} {
		t.Run(fmt.Sprintf("sep %q", sep), func(t *testing.T) {
			v := func(s string) string { return "'2024-01-01" + sep + s + "'" }
			runWindows(t, "DATETIME", coltype.Timestamp,
				[]string{v("10:00:00"), v("10:00:00.5"), v("10:00:00.500000"), v("10:00:00.500001"),
					v("10:00:00.75"), v("10:00:01"), v("10:00:01.1234567")},
				[]windowCase{
					{"", []string{"1", "2", "3", "4", "5", "6", "7"}, "2024-01-01T10:00:01.123456"},
					{"2024-01-01T10:00:00.000000", []string{"2", "3", "4", "5", "6", "7"}, "2024-01-01T10:00:01.123456"},
					{"2024-01-01T10:00:00.500000", []string{"4", "5", "6", "7"}, "2024-01-01T10:00:01.123456"},
					{"2024-01-01T10:00:00.500001", []string{"5", "6", "7"}, "2024-01-01T10:00:01.123456"},
					{"2024-01-01T10:00:00.750000", []string{"6", "7"}, "2024-01-01T10:00:01.123456"},
					{"2024-01-01T10:00:01.000000", []string{"7"}, "2024-01-01T10:00:01.123456"},
					// Sub-microsecond digits are truncated: .1234567 is .123456.
					{"2024-01-01T10:00:01.123456", []string{}, ""},
				})
		})
	}
}

func TestWindowTimestampTZText(t *testing.T) {
	// One offset throughout: compared in that offset's wall time.
	runWindows(t, "TIMESTAMPTZ", coltype.TimestampTZ,
		[]string{"'2024-01-01 12:00:00+02:00'", "'2024-01-01 12:00:00.5+02:00'", "'2024-01-01 12:00:01+02:00'"},
		[]windowCase{
			{"", []string{"1", "2", "3"}, "2024-01-01T10:00:01.000000Z"},
			{"2024-01-01T10:00:00.000000Z", []string{"2", "3"}, "2024-01-01T10:00:01.000000Z"},
			{"2024-01-01T10:00:00.500000Z", []string{"3"}, "2024-01-01T10:00:01.000000Z"},
		})
	// Z after fixed-width milliseconds.
	runWindows(t, "TIMESTAMP WITH TIME ZONE", coltype.TimestampTZ,
		[]string{"'2024-01-01T10:00:00.000Z'", "'2024-01-01T10:00:00.500Z'", "'2024-01-01T10:00:01.000Z'"},
		[]windowCase{
			{"2024-01-01T10:00:00.000000Z", []string{"2", "3"}, "2024-01-01T10:00:01.000000Z"},
			{"2024-01-01T10:00:00.500000Z", []string{"3"}, "2024-01-01T10:00:01.000000Z"},
			{"2024-01-01T10:00:00.499999Z", []string{"2", "3"}, "2024-01-01T10:00:01.000000Z"},
		})
	// Zone-less text in a TIMESTAMPTZ column is UTC; a zone-less column
	// accepts a +00:00 suffix.
	runWindows(t, "TIMESTAMPTZ", coltype.TimestampTZ,
		[]string{"'2024-01-01 10:00:00'", "'2024-01-01 10:00:00.25'"},
		[]windowCase{{"2024-01-01T10:00:00.000000Z", []string{"2"}, "2024-01-01T10:00:00.250000Z"}})
	runWindows(t, "TIMESTAMP", coltype.Timestamp,
		[]string{"'2024-01-01 10:00:00+00:00'", "'2024-01-01 10:00:00.25+00:00'"},
		[]windowCase{{"2024-01-01T10:00:00.000000", []string{"2"}, "2024-01-01T10:00:00.250000"}})
}

func TestWindowTimestampUnixSeconds(t *testing.T) {
	// 1704103200 = 2024-01-01 10:00:00 UTC.
	runWindows(t, "TIMESTAMP", coltype.Timestamp,
		[]string{"1704103200", "1704103201", "1704103202"},
		[]windowCase{
			{"", []string{"1", "2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:00.000000", []string{"2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:00.500000", []string{"2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:01.000000", []string{"3"}, "2024-01-01T10:00:02.000000"},
		})
}

func TestWindowOtherKinds(t *testing.T) {
	t.Run("integer", func(t *testing.T) {
		runWindows(t, "INTEGER", coltype.Int64, []string{"10", "20", "30", "NULL"},
			[]windowCase{
				{"", []string{"1", "2", "3", "4"}, "30"},
				{"10", []string{"2", "3"}, "30"},
				{"15", []string{"2", "3"}, "30"},
				{"30", []string{}, ""},
			})
	})
	t.Run("decimal", func(t *testing.T) {
		runWindows(t, "DECIMAL(8,2)", coltype.Decimal, []string{"1.1", "'2.25'", "3"},
			[]windowCase{
				{"", []string{"1", "2", "3"}, "3.00"},
				{"1.10", []string{"2", "3"}, "3.00"},
				{"2.25", []string{"3"}, "3.00"},
			})
	})
	t.Run("real", func(t *testing.T) {
		runWindows(t, "REAL", coltype.Float64, []string{"0.5", "1.5", "2"},
			[]windowCase{{"", []string{"1", "2", "3"}, "2"}, {"0.5", []string{"2", "3"}, "2"}})
	})
	t.Run("date", func(t *testing.T) {
		runWindows(t, "DATE", coltype.Date, []string{"'2024-01-01'", "'2024-01-02'", "'2024-02-01'"},
			[]windowCase{{"", []string{"1", "2", "3"}, "2024-02-01"}, {"2024-01-01", []string{"2", "3"}, "2024-02-01"}})
	})
	t.Run("text", func(t *testing.T) {
		runWindows(t, "TEXT", coltype.String, []string{"'a'", "'b'", "'c'"},
			[]windowCase{{"", []string{"1", "2", "3"}, "c"}, {"a", []string{"2", "3"}, "c"}})
	})
}

// Values written in forms whose SQL order is not their value order fail
// the extract instead of skipping rows.
func TestWindowMixedFormsFail(t *testing.T) {
	cases := []struct {
		name, decl string
		kind       coltype.Kind
		values     []string
		want       string
	}{
		{"integer and text", "TIMESTAMP", coltype.Timestamp, []string{"1704103200", "'2024-01-01 10:00:01'"}, "both integer and text"},
		{"separators", "TIMESTAMP", coltype.Timestamp, []string{"'2024-01-01 10:00:00'", "'2024-01-02T10:00:01'"}, "both ' ' and 'T'"},
		{"offsets", "TIMESTAMPTZ", coltype.TimestampTZ, []string{"'2024-01-01 10:00:00+01:00'", "'2024-01-02 10:00:01+02:00'"}, "different time zone suffixes"},
		{"text in integer", "INTEGER", coltype.Int64, []string{"1", "'x'"}, "both integer and text"},
		{"numbers in text", "", coltype.String, []string{"1", "2"}, "integer value in a text cursor column"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stmts := append([]string{fmt.Sprintf("CREATE TABLE t (id INTEGER PRIMARY KEY, c %s)", c.decl)}, insertStmts("t", c.values...)...)
			s := openTest(t, newDB(t, "m.db", stmts...))
			_, err := extract(t, s, describe(t, s, "t"), "c", nil, 0)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `table t cursor column "c"`) {
				t.Errorf("err = %v, want one naming the table, the column and %q", err, c.want)
			}
		})
	}
	// A form the bounds of the column do not reveal is caught row by row.
	s := openTest(t, newDB(t, "m.db", append([]string{"CREATE TABLE t (id INTEGER PRIMARY KEY, c TIMESTAMPTZ)"},
		insertStmts("t", "'2024-01-01 10:00:00'", "'2024-01-01 11:00:00+05:00'", "'2024-01-01 12:00:00'")...)...))
	_, err := extract(t, s, describe(t, s, "t"), "c", wm(coltype.TimestampTZ, "2024-01-01T09:00:00.000000Z"), 0)
	if err == nil || !strings.Contains(err.Error(), "more than one form") || !strings.Contains(err.Error(), "id=2") {
		t.Errorf("err = %v, want the row check naming id=2", err)
	}
}

func TestWindowErrors(t *testing.T) {
	s := openTest(t, newDB(t, "e.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, c TIMESTAMP, b BLOB)",
		"INSERT INTO t VALUES (1, '2024-01-01 10:00:00', x'00')"))
	tbl := describe(t, s, "t")
	cases := []struct {
		cursor string
		after  *coltype.Watermark
		want   string
	}{
		{"nope", nil, `cursor column "nope" not found`},
		{"b", nil, `cursor column "b" is bytes, which cannot be a cursor`},
		{"c", wm(coltype.Int64, "5"), "watermark is a int64 but the cursor column is timestamp"},
		{"c", wm(coltype.Timestamp, "yesterday"), `watermark "yesterday"`},
	}
	for _, c := range cases {
		_, err := extract(t, s, tbl, c.cursor, c.after, 0)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "table t") {
			t.Errorf("cursor %s after %v: err = %v, want %q", c.cursor, c.after, err, c.want)
		}
	}
}

// High and the rows come from one snapshot: a row committed while the
// extract streams is in neither, and the next window reads it.
func TestWindowSnapshot(t *testing.T) {
	path := newDB(t, "snap.db", "PRAGMA journal_mode=WAL",
		"CREATE TABLE t (id INTEGER PRIMARY KEY, c TIMESTAMP)",
		"INSERT INTO t VALUES (1, '2024-01-01 10:00:00'), (2, '2024-01-01 10:00:01'), (3, '2024-01-01 10:00:02')")
	s := openTest(t, path)
	tbl := describe(t, s, "t")
	w, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	calls := 0
	res, err := s.Extract(context.Background(), source.Request{Table: tbl, Cursor: "c", BatchRows: 1},
		func(arrow.RecordBatch) error {
			calls++
			if calls == 1 {
				_, err := w.Exec("INSERT INTO t VALUES (4, '2024-01-01 10:00:03')")
				return err
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.High.Text != "2024-01-01T10:00:02.000000" || calls != 3 {
		t.Fatalf("res %+v High %v calls %d, want 3 rows up to 10:00:02", res, res.High, calls)
	}
	ids, high := window(t, s, "t", "c", res.High)
	if !reflect.DeepEqual(ids, []string{"4"}) || high != "2024-01-01T10:00:03.000000" {
		t.Errorf("next window: ids %v High %q", ids, high)
	}
}

func TestTimeBoundText(t *testing.T) {
	us := int64(1704103200_500000) // 2024-01-01 10:00:00.5 UTC
	cases := []struct {
		l    textLayout
		want string
	}{
		{textLayout{sep: ' '}, "2024-01-01 10:00:00.500000999999999"},
		{textLayout{sep: 'T', seconds: true, frac: 3}, "2024-01-01T10:00:00.500000999999999"},
		{textLayout{sep: ' ', zone: '+', offset: -5 * 3600}, "2024-01-01 05:00:00.500000999999999"},
		{textLayout{sep: 'T', seconds: true, frac: 3, zone: 'Z'}, "2024-01-01T10:00:00.500Z"},
		{textLayout{sep: 'T', seconds: true, frac: 9, zone: 'Z'}, "2024-01-01T10:00:00.500000999Z"},
		{textLayout{sep: 'T', seconds: true, zone: 'Z'}, "2024-01-01T10:00:00Z"},
		{textLayout{sep: 'T', zone: 'Z'}, "2024-01-01T10:00Z"},
	}
	for _, c := range cases {
		if got := timeBoundText(us, c.l); got != c.want {
			t.Errorf("%+v: %q, want %q", c.l, got, c.want)
		}
	}
}

// A value with more than six fraction digits lands truncated to
// microseconds, and a window after that microsecond excludes it.
func TestWindowSubMicrosecondText(t *testing.T) {
	runWindows(t, "TIMESTAMP", coltype.Timestamp,
		[]string{"'2024-01-01 10:00:01.1234567'", "'2024-01-01 10:00:01.123456999'", "'2024-01-01 10:00:02'"},
		[]windowCase{
			{"2024-01-01T10:00:01.123455", []string{"1", "2", "3"}, "2024-01-01T10:00:02.000000"},
			{"2024-01-01T10:00:01.123456", []string{"3"}, "2024-01-01T10:00:02.000000"},
		})
}
