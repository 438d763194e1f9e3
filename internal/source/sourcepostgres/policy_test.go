package sourcepostgres

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

func discard(arrow.RecordBatch) error { return nil }

func mustExec(t *testing.T, db *pgDB, sql string) {
	t.Helper()
	if _, err := db.conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestUnconstrainedNumericMustFit(t *testing.T) {
	opts := DefaultOptions()
	opts.NumericScale = 2
	src, db := openTestSchema(t, opts)
	ctx := context.Background()
	cases := []struct {
		table, value, wantValue, wantWhy string
	}{
		{"too_precise", "1.234", "1.234", "more than 2 fractional digits"},
		{"too_precise_tail", "0.00000001", "0.00000001", "more than 2 fractional digits"},
		{"too_big", "1e40", "10000000000000000000000000000000000000000", "too many"},
		{"too_big_just", "1000000000000000000000000000000000000", "1000000000000000000000000000000000000", "too many integer digits"},
		{"nan", "'NaN'", "NaN", "NaN"},
		{"pinf", "'Infinity'", "Infinity", "infinity"},
		{"ninf", "'-Infinity'", "-Infinity", "infinity"},
	}
	for _, tc := range cases {
		t.Run(tc.table, func(t *testing.T) {
			mustExec(t, db, "CREATE TABLE "+tc.table+" (amount numeric)")
			mustExec(t, db, "INSERT INTO "+tc.table+" VALUES (1.5), ("+tc.value+")")
			tbl, err := src.Describe(ctx, source.TableRef{Name: tc.table})
			if err != nil {
				t.Fatal(err)
			}
			if c := tbl.Columns[0]; c.Kind != coltype.Decimal || c.Precision != 38 || c.Scale != 2 {
				t.Fatalf("described %+v, want decimal(38,2)", c)
			}
			_, err = src.Extract(ctx, source.Request{Table: tbl}, discard)
			if err == nil {
				t.Fatalf("value %s landed; want an error", tc.value)
			}
			for _, want := range []string{tc.table, `"amount"`, "value " + tc.wantValue + " ", tc.wantWhy, "set cast: {amount: string}"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
	t.Run("fits", func(t *testing.T) {
		mustExec(t, db, "CREATE TABLE fits (amount numeric)")
		mustExec(t, db, "INSERT INTO fits VALUES (1.5), (1.50000), (-99999999999999999999999999999999999.99), (0)")
		tbl, err := src.Describe(ctx, source.TableRef{Name: "fits"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := src.Extract(ctx, source.Request{Table: tbl}, discard)
		if err != nil || res.Rows != 4 {
			t.Fatalf("Rows=%d err=%v, want 4 rows", res.Rows, err)
		}
	})
}

func TestNumericScaleOption(t *testing.T) {
	if _, err := OpenWithOptions(context.Background(), "postgres://127.0.0.1/x", Options{NumericScale: 39}); err == nil || !strings.Contains(err.Error(), "numeric_scale") {
		t.Errorf("scale 39: %v, want an error naming numeric_scale", err)
	}
	src, db := openTestSchema(t, Options{NumericScale: 0})
	mustExec(t, db, "CREATE TABLE n (v numeric)")
	tbl, err := src.Describe(context.Background(), source.TableRef{Name: "n"})
	if err != nil {
		t.Fatal(err)
	}
	if c := tbl.Columns[0]; c.Precision != 38 || c.Scale != 0 {
		t.Errorf("NumericScale 0: described %+v, want decimal(38,0)", c)
	}
}

// TestEveryTypeLands: types without a binary decoding land as strings
// through PostgreSQL's text output instead of failing the table.
func TestEveryTypeLands(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, "CREATE TYPE shape AS (kind text, at point)")
	mustExec(t, db, "CREATE TABLE odd (id int, s shape, n numeric(40,2), tid tid)")
	mustExec(t, db, "INSERT INTO odd VALUES (1, ROW('dot', '(1,2)'), 1.5, '(0,1)')")
	ctx := context.Background()
	tbl, err := src.Describe(ctx, source.TableRef{Name: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_, err = src.Extract(ctx, source.Request{Table: tbl}, func(r arrow.RecordBatch) error {
		for c := 1; c < int(r.NumCols()); c++ {
			got = append(got, r.Column(c).ValueStr(0))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `(dot,"(1,2)")|1.50|(0,1)`; strings.Join(got, "|") != want {
		t.Errorf("got %q, want %q", strings.Join(got, "|"), want)
	}
}

func TestArrayDimensionsMustMatch(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	mustExec(t, db, "CREATE TABLE grid (id bigint PRIMARY KEY, cells int[])")
	mustExec(t, db, "CREATE TABLE loose (cells int[][])")
	mustExec(t, db, "INSERT INTO grid VALUES (1, '{1,2}'), (42, '{{1,2},{3,4}}')")
	mustExec(t, db, "INSERT INTO loose VALUES ('{{1}}'), ('{5}')")
	ctx := context.Background()
	for table, want := range map[string]string{
		"grid":  `table grid column "cells" at key id=42: array value has 2 dimensions but the column declares 1; to land it, set cast: {cells: json} on the workflow (Glue: WharfCast)`,
		"loose": `table loose column "cells" at row 2: array value has 1 dimensions but the column declares 2; to land it, set cast: {cells: json} on the workflow (Glue: WharfCast)`,
	} {
		tbl, err := src.Describe(ctx, source.TableRef{Name: table})
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Extract(ctx, source.Request{Table: tbl}, discard)
		if err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("%s: error %v\nwant it to end with %s", table, err, want)
		}
	}
}

func TestCitext(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	var where string
	err := db.conn.QueryRow(ctx, "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'citext'").Scan(&where)
	if err != nil {
		// Installed into the test schema, so it goes away with it.
		if _, err := db.conn.Exec(ctx, "CREATE EXTENSION citext SCHEMA "+db.Quote(db.schema)); err != nil {
			t.Skipf("citext not installable: %v", err)
		}
		where = db.schema
	}
	mustExec(t, db, "CREATE TABLE ci (id int, email "+db.Quote(where)+".citext)")
	mustExec(t, db, "INSERT INTO ci VALUES (1, 'Ann@Example.COM'), (2, NULL)")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if c := tbl.Columns[1]; c.Kind != coltype.String {
		t.Fatalf("citext described %+v, want string", c)
	}
	var got []string
	res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "email"}, func(r arrow.RecordBatch) error {
		for i := 0; i < int(r.NumRows()); i++ {
			got = append(got, r.Column(1).ValueStr(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "Ann@Example.COM,(null)" || res.High == nil || res.High.Text != "Ann@Example.COM" {
		t.Errorf("got %v High %v", got, res.High)
	}
	// The bound is cast to citext, so the comparison is case-insensitive.
	res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "email", After: &coltype.Watermark{Kind: coltype.String, Text: "ann@example.com"}}, discard)
	if err != nil || res.Rows != 0 {
		t.Errorf("after the same address in lower case: Rows=%d err=%v, want 0", res.Rows, err)
	}
}

func TestBPCharKeepsPadding(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE codes (code char(4) NOT NULL)")
	mustExec(t, db, "INSERT INTO codes VALUES ('ab'), ('abcd')")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "codes"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "code"}, func(r arrow.RecordBatch) error {
		for i := 0; i < int(r.NumRows()); i++ {
			got = append(got, r.Column(0).ValueStr(i))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "|") != "ab  |abcd" {
		t.Errorf("got %q, want padded values", got)
	}
	if res.High == nil || res.High.Text != "abcd" {
		t.Errorf("High %v", res.High)
	}
	res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "code", After: &coltype.Watermark{Kind: coltype.String, Text: "ab"}}, discard)
	if err != nil || res.Rows != 1 {
		t.Errorf("after 'ab': Rows=%d err=%v, want 1", res.Rows, err)
	}
}

func TestInfinityCursor(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	for _, tc := range []struct {
		typ      string
		kind     coltype.Kind
		finite   string
		later    string
		maxText  string
		minText  string
		midAfter string
	}{
		{"timestamp", coltype.Timestamp, "2024-01-01", "2030-01-01", "9999-12-31T23:59:59.999999", "0001-01-01T00:00:00.000000", "2024-01-01T00:00:00.000000"},
		{"timestamptz", coltype.TimestampTZ, "2024-01-01Z", "2030-01-01Z", "9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00.000000Z", "2024-01-01T00:00:00.000000Z"},
		{"date", coltype.Date, "2024-01-01", "2030-01-01", "9999-12-31", "0001-01-01", "2024-01-01"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			table := "inf_" + tc.typ
			mustExec(t, db, "CREATE TABLE "+table+" (id int NOT NULL, cur "+tc.typ+")")
			mustExec(t, db, "INSERT INTO "+table+" VALUES (1, '-infinity')")
			tbl, err := src.Describe(ctx, source.TableRef{Name: table})
			if err != nil {
				t.Fatal(err)
			}
			run := func(after *coltype.Watermark) source.Result {
				t.Helper()
				res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "cur", After: after}, discard)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			// Only -infinity: High is the minimum clamp and the row lands once.
			res := run(nil)
			if res.Rows != 1 || res.High == nil || res.High.Text != tc.minText {
				t.Fatalf("only -infinity: Rows=%d High=%v, want 1 and %s", res.Rows, res.High, tc.minText)
			}
			if res := run(res.High); res.Rows != 0 {
				t.Errorf("after the -infinity watermark: %d rows, want 0", res.Rows)
			}
			mustExec(t, db, "INSERT INTO "+table+" VALUES (2, '"+tc.finite+"'), (3, 'infinity'), (4, NULL)")
			res = run(nil)
			if res.Rows != 4 || res.High == nil || res.High.Text != tc.maxText {
				t.Fatalf("full: Rows=%d High=%v, want 4 and %s", res.Rows, res.High, tc.maxText)
			}
			after := &coltype.Watermark{Kind: tc.kind, Text: tc.midAfter}
			if res := run(after); res.Rows != 1 || res.High == nil || res.High.Text != tc.maxText {
				t.Errorf("after %s: Rows=%d High=%v, want the infinity row and %s", tc.midAfter, res.Rows, res.High, tc.maxText)
			}
			// The clamp watermark means infinity: the infinity row is not read again.
			if res := run(&coltype.Watermark{Kind: tc.kind, Text: tc.maxText}); res.Rows != 0 || res.High != nil {
				t.Errorf("after %s: Rows=%d High=%v, want nothing", tc.maxText, res.Rows, res.High)
			}
			mustExec(t, db, "INSERT INTO "+table+" VALUES (5, '"+tc.later+"')")
			if res := run(after); res.Rows != 2 {
				t.Errorf("after %s with a later row: %d rows, want 2", tc.midAfter, res.Rows)
			}
		})
	}
}

func TestCursorWatermarkKinds(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE w (id bigint NOT NULL, f real, n numeric(6,3))")
	mustExec(t, db, "INSERT INTO w VALUES (1, 0.1, 1.5), (2, 0.2, 2.125), (3, 0.3, 10)")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "w"})
	if err != nil {
		t.Fatal(err)
	}
	// An int32 watermark bounds a bigint cursor (a widened column keeps its watermark).
	res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "id", After: &coltype.Watermark{Kind: coltype.Int32, Text: "1"}}, discard)
	if err != nil || res.Rows != 2 || res.High.Kind != coltype.Int64 || res.High.Text != "3" {
		t.Errorf("int32 watermark on bigint: Rows=%d High=%v err=%v", res.Rows, res.High, err)
	}
	// real cursor: the shortest float32 text round-trips exactly.
	res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "f", After: &coltype.Watermark{Kind: coltype.Float32, Text: "0.1"}}, discard)
	if err != nil || res.Rows != 2 || res.High == nil || res.High.Text != "0.3" {
		t.Errorf("real cursor: Rows=%d High=%v err=%v", res.Rows, res.High, err)
	}
	if res, err := src.Extract(ctx, source.Request{Table: tbl, Cursor: "f", After: res.High}, discard); err != nil || res.Rows != 0 {
		t.Errorf("after real High: Rows=%d err=%v", res.Rows, err)
	}
	// numeric cursor: High keeps the column's scale; a finer After is not rounded.
	res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "n"}, discard)
	if err != nil || res.High == nil || res.High.Text != "10.000" {
		t.Errorf("numeric High = %v err=%v, want 10.000", res.High, err)
	}
	res, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "n", After: &coltype.Watermark{Kind: coltype.Decimal, Text: "2.1249"}}, discard)
	if err != nil || res.Rows != 2 {
		t.Errorf("after 2.1249: Rows=%d err=%v, want 2 (no rounding of the bound)", res.Rows, err)
	}
	// A date watermark cannot bound a bigint cursor.
	_, err = src.Extract(ctx, source.Request{Table: tbl, Cursor: "id", After: &coltype.Watermark{Kind: coltype.Date, Text: "2024-01-01"}}, discard)
	if err == nil || !strings.Contains(err.Error(), `"id"`) {
		t.Errorf("date watermark on bigint: %v, want an error naming the cursor", err)
	}
}

func TestSchemaDrift(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	ctx := context.Background()
	mustExec(t, db, "CREATE TABLE drift (id int NOT NULL, amount numeric(10,2), note text)")
	mustExec(t, db, "INSERT INTO drift VALUES (1, 1.25, 'a')")
	tbl, err := src.Describe(ctx, source.TableRef{Name: "drift"})
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "ALTER TABLE drift ALTER COLUMN amount TYPE numeric(12,4)")
	_, err = src.Extract(ctx, source.Request{Table: tbl}, discard)
	if err == nil || !strings.Contains(err.Error(), `"amount" changed`) || !strings.Contains(err.Error(), "drift") {
		t.Errorf("type change: %v, want an error naming table and column", err)
	}
	mustExec(t, db, "ALTER TABLE drift ALTER COLUMN amount TYPE numeric(10,2)")
	mustExec(t, db, "ALTER TABLE drift ALTER COLUMN id DROP NOT NULL")
	if _, err = src.Extract(ctx, source.Request{Table: tbl}, discard); err == nil || !strings.Contains(err.Error(), `"id" changed`) {
		t.Errorf("NOT NULL dropped: %v, want an error", err)
	}
	mustExec(t, db, "ALTER TABLE drift ALTER COLUMN id SET NOT NULL")
	mustExec(t, db, "ALTER TABLE drift DROP COLUMN note")
	if _, err = src.Extract(ctx, source.Request{Table: tbl}, discard); !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), `"note"`) {
		t.Errorf("dropped column: %v, want ErrNotFound naming it", err)
	}
	// A request stricter than the live table (NOT NULL asked, nullable now) fails.
	mustExec(t, db, "CREATE VIEW drift_v AS SELECT id, amount FROM drift")
	vt, err := src.Describe(ctx, source.TableRef{Name: "drift_v"})
	if err != nil {
		t.Fatal(err)
	}
	vt.Columns[1].Nullable = false
	if _, err = src.Extract(ctx, source.Request{Table: vt}, discard); err == nil || !strings.Contains(err.Error(), `"amount" changed`) {
		t.Errorf("NOT NULL asked of a nullable column: %v", err)
	}
}
