// Package sourcetest is the conformance suite every source.Source
// implementation runs (in the style of river's riverdrivertest). An engine
// plugs in with a Harness: a fresh database per test plus a DB handle that
// creates tables and runs statements. The suite builds its tables from
// neutral column types, asks the engine for the matching DDL type (skipping
// kinds the engine cannot hold), writes rows as typed Go values and compares
// what comes back through Arrow with those values.
//
//	func TestSourceConformance(t *testing.T) {
//		sourcetest.Run(t, sourcetest.Harness{Open: openMyEngine})
//	}
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// Harness plugs one engine into the suite.
type Harness struct {
	// Open returns a Source and a DB over a fresh, empty database (or
	// schema) private to t, both cleaned up through t.Cleanup. Tables the DB
	// creates must be visible to the Source under TableRef{Name: name} (the
	// default schema) and under TableRef{Schema: db.Schema(), Name: name}.
	Open func(t *testing.T) (source.Source, DB)
	// Zoo is the engine's type zoo (nil skips TypeZoo).
	Zoo *Zoo
}

// DB is the suite's handle on the engine under test.
type DB interface {
	// Schema is the schema the created tables live in, as a TableRef names it.
	Schema() string
	// Quote quotes an identifier for this engine's SQL.
	Quote(ident string) string
	// ColumnType returns the DDL type (without NULL/NOT NULL) whose column
	// Describe reports exactly as c's Kind, Precision and Scale; ok=false
	// when the engine has no such type (the suite then leaves the column out).
	ColumnType(c coltype.Column) (ddl string, ok bool)
	// Placeholder returns the n-th (1-based) bind parameter marker.
	Placeholder(n int) string
	// Exec runs one statement. Arguments are nil or the suite's typed values
	// (see Decimal and the other types in this package), which the DB
	// converts for its driver.
	Exec(ctx context.Context, sql string, args ...any) error
}

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, h Harness) {
	if h.Open == nil {
		t.Fatal("sourcetest: Harness.Open is nil")
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Describe", testDescribe},
		{"DescribeMissingTable", testDescribeMissing},
		{"FullLoad", testFullLoad},
		{"ColumnSubsetAndOrder", testColumnSubset},
		{"Batching", testBatching},
		{"EmptyTable", testEmptyTable},
		{"Incremental", testIncremental},
		{"CursorErrors", testCursorErrors},
		{"QuotedIdentifiers", testQuotedIdentifiers},
		{"Cancel", testCancel},
		{"SinkError", testSinkError},
		{"TypeZoo", testZoo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, h) })
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// supported returns the columns of cols the engine can hold, with their DDL.
func supported(db DB, cols []coltype.Column) (out []coltype.Column, ddl []string) {
	for _, c := range cols {
		if typ, ok := db.ColumnType(c); ok {
			out = append(out, c)
			ddl = append(ddl, typ)
		}
	}
	return out, ddl
}

// createTable creates table name with the supported columns of cols and
// returns those columns (the expected Describe result).
func createTable(ctx context.Context, t *testing.T, db DB, name string, cols []coltype.Column) []coltype.Column {
	t.Helper()
	have, ddl := supported(db, cols)
	if len(have) == 0 {
		t.Fatalf("engine supports none of the columns of %s", name)
	}
	defs := make([]string, len(have))
	for i, c := range have {
		defs[i] = db.Quote(c.Name) + " " + ddl[i]
		if !c.Nullable {
			defs[i] += " NOT NULL"
		}
	}
	sql := "CREATE TABLE " + db.Quote(name) + " (" + strings.Join(defs, ", ") + ")"
	if err := db.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return have
}

// insert writes rows whose values follow all (the full column list); only
// the values of columns in have are sent.
func insert(ctx context.Context, t *testing.T, db DB, table string, all, have []coltype.Column, rows [][]any) {
	t.Helper()
	names := make([]string, len(have))
	marks := make([]string, len(have))
	pos := make([]int, len(have))
	for i, c := range have {
		names[i] = db.Quote(c.Name)
		marks[i] = db.Placeholder(i + 1)
		pos[i] = slices.IndexFunc(all, func(a coltype.Column) bool { return a.Name == c.Name })
	}
	sql := "INSERT INTO " + db.Quote(table) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	for _, row := range rows {
		args := make([]any, len(have))
		for i, p := range pos {
			args[i] = row[p]
		}
		if err := db.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s %v: %v", sql, args, err)
		}
	}
}

func describe(ctx context.Context, t *testing.T, src source.Source, name string) *source.Table {
	t.Helper()
	tbl, err := src.Describe(ctx, source.TableRef{Name: name})
	if err != nil {
		t.Fatalf("Describe(%s): %v", name, err)
	}
	return tbl
}

func extract(ctx context.Context, t *testing.T, src source.Source, req source.Request) (*collector, source.Result) {
	t.Helper()
	col := newCollector(t, coltype.ArrowSchema(req.Table.Columns))
	res, err := src.Extract(ctx, req, col.sink)
	if err != nil {
		t.Fatalf("Extract(%s cursor=%q after=%v): %v", req.Table.Ref, req.Cursor, req.After, err)
	}
	col.check(t)
	if res.Rows != col.rows() {
		t.Errorf("Result.Rows = %d, sink received %d rows", res.Rows, col.rows())
	}
	return col, res
}

func sameColumns(t *testing.T, got, want []coltype.Column) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d columns %v, want %d %v", len(got), names(got), len(want), names(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name || g.Kind != w.Kind || g.Nullable != w.Nullable ||
			(w.Kind == coltype.Decimal && (g.Precision != w.Precision || g.Scale != w.Scale)) {
			t.Errorf("column %d: got %+v, want %+v", i, g, w)
		}
		if g.SourceType == "" {
			t.Errorf("column %q: empty SourceType", g.Name)
		}
	}
}

func names(cols []coltype.Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func testDescribe(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	want := createTable(ctx, t, db, "wharf_types", typesColumns)
	if src.Database() == "" {
		t.Error("Database() is empty")
	}
	tbl := describe(ctx, t, src, "wharf_types")
	sameColumns(t, tbl.Columns, want)
	if tbl.Ref.Name != "wharf_types" {
		t.Errorf("Ref = %+v", tbl.Ref)
	}
	qualified, err := src.Describe(ctx, source.TableRef{Schema: db.Schema(), Name: "wharf_types"})
	if err != nil {
		t.Fatalf("Describe(%s.wharf_types): %v", db.Schema(), err)
	}
	sameColumns(t, qualified.Columns, want)
}

func testDescribeMissing(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	for _, ref := range []source.TableRef{{Name: "no_such_table"}, {Schema: db.Schema(), Name: "no_such_table"}} {
		_, err := src.Describe(ctx, ref)
		if !errors.Is(err, source.ErrNotFound) {
			t.Errorf("Describe(%s) = %v, want an error wrapping ErrNotFound", ref, err)
			continue
		}
		if !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("Describe(%s) error %q does not name the table", ref, err)
		}
	}
	createTable(ctx, t, db, "present", []coltype.Column{{Name: "id", Kind: coltype.Int64}})
	if _, err := src.Describe(ctx, source.TableRef{Schema: "wharf_no_such_schema", Name: "present"}); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("Describe in a missing schema = %v, want ErrNotFound", err)
	}
	// A misspelt name gets the existing one suggested, qualified as asked.
	for _, ref := range []source.TableRef{{Name: "presnt"}, {Schema: db.Schema(), Name: "presnt"}} {
		want := fmt.Sprintf(` (did you mean %q?)`, source.TableRef{Schema: ref.Schema, Name: "present"}.String())
		if _, err := src.Describe(ctx, ref); !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), want) {
			t.Errorf("Describe(%s) = %v, want ErrNotFound and %s", ref, err, want)
		}
	}
}

// checkRows compares the collected rows with the expected suite rows (whose
// values follow all; the first column is the int64 id).
func checkRows(t *testing.T, got *collector, cols, all []coltype.Column, rows [][]any) {
	t.Helper()
	byID := got.byID(t, all[0].Name)
	if len(byID) != len(rows) {
		t.Errorf("got %d rows, want %d", len(byID), len(rows))
	}
	for _, row := range rows {
		id := row[0].(int64)
		ref, ok := byID[id]
		if !ok {
			t.Errorf("row %s=%d missing", all[0].Name, id)
			continue
		}
		for ci, c := range cols {
			p := slices.IndexFunc(all, func(a coltype.Column) bool { return a.Name == c.Name })
			if diff := checkValue(c, ref.rec.Column(ci), ref.i, row[p]); diff != "" {
				t.Errorf("row %d column %s (%v): %s", id, c.Name, c.Kind, diff)
			}
		}
	}
}

func testFullLoad(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	have := createTable(ctx, t, db, "wharf_types", typesColumns)
	insert(ctx, t, db, "wharf_types", typesColumns, have, typesRows)
	tbl := describe(ctx, t, src, "wharf_types")
	got, res := extract(ctx, t, src, source.Request{Table: tbl})
	if res.High != nil {
		t.Errorf("full load without cursor: High = %v, want nil", res.High)
	}
	if res.Rows != int64(len(typesRows)) {
		t.Errorf("Rows = %d, want %d", res.Rows, len(typesRows))
	}
	checkRows(t, got, tbl.Columns, typesColumns, typesRows)
}

func testColumnSubset(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	have := createTable(ctx, t, db, "wharf_types", typesColumns)
	insert(ctx, t, db, "wharf_types", typesColumns, have, typesRows)
	tbl := describe(ctx, t, src, "wharf_types")
	// Every other column, reversed, keeping id.
	sub := &source.Table{Ref: tbl.Ref}
	for i := len(tbl.Columns) - 1; i > 0; i -= 2 {
		sub.Columns = append(sub.Columns, tbl.Columns[i])
	}
	sub.Columns = append(sub.Columns, tbl.Columns[0])
	got, _ := extract(ctx, t, src, source.Request{Table: sub})
	checkRows(t, got, sub.Columns, typesColumns, typesRows)
}

func testBatching(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	cols := []coltype.Column{{Name: "id", Kind: coltype.Int64}, {Name: "v", Kind: coltype.String, Nullable: true}}
	have := createTable(ctx, t, db, "batched", cols)
	var rows [][]any
	for i := 1; i <= 10; i++ {
		rows = append(rows, []any{int64(i), fmt.Sprintf("value %d", i)})
	}
	insert(ctx, t, db, "batched", cols, have, rows)
	tbl := describe(ctx, t, src, "batched")
	for _, tc := range []struct{ batch, records int }{{1, 10}, {3, 4}, {5, 2}, {10, 1}, {11, 1}, {0, 1}} {
		t.Run(fmt.Sprintf("BatchRows=%d", tc.batch), func(t *testing.T) {
			got, res := extract(ctx, t, src, source.Request{Table: tbl, BatchRows: tc.batch})
			if res.Rows != 10 {
				t.Errorf("Rows = %d, want 10", res.Rows)
			}
			if len(got.records) != tc.records {
				t.Errorf("got %d records, want %d", len(got.records), tc.records)
			}
			limit := int64(tc.batch)
			if limit == 0 {
				limit = source.DefaultBatchRows
			}
			for i, r := range got.records {
				if r.NumRows() > limit {
					t.Errorf("record %d has %d rows, above BatchRows %d", i, r.NumRows(), limit)
				}
			}
			checkRows(t, got, tbl.Columns, cols, rows)
		})
	}
}

func testEmptyTable(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	cols := []coltype.Column{{Name: "id", Kind: coltype.Int64}, {Name: "cur", Kind: coltype.Int64, Nullable: true}}
	createTable(ctx, t, db, "empty", cols)
	tbl := describe(ctx, t, src, "empty")
	for _, req := range []source.Request{
		{Table: tbl},
		{Table: tbl, Cursor: "cur"},
		{Table: tbl, Cursor: "cur", After: &coltype.Watermark{Kind: coltype.Int64, Text: "5"}},
	} {
		got, res := extract(ctx, t, src, req)
		if res.Rows != 0 || len(got.records) != 0 || res.High != nil {
			t.Errorf("cursor=%q after=%v: Rows=%d records=%d High=%v, want nothing", req.Cursor, req.After, res.Rows, len(got.records), res.High)
		}
	}
}

// sameWatermark compares a watermark with the expected canonical text
// (decimals by value, since their scale may differ between engines).
func sameWatermark(got *coltype.Watermark, kind coltype.Kind, text string) bool {
	if got == nil || got.Kind != kind {
		return false
	}
	if kind == coltype.Decimal {
		g, ok1 := new(big.Rat).SetString(got.Text)
		w, ok2 := new(big.Rat).SetString(text)
		return ok1 && ok2 && g.Cmp(w) == 0
	}
	return got.Text == text
}

func ids(t *testing.T, c *collector) []int64 {
	t.Helper()
	var out []int64
	for id := range c.byID(t, "id") {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func testIncremental(t *testing.T, h Harness) {
	for _, cc := range cursorCases {
		t.Run(cc.name, func(t *testing.T) {
			ctx := testContext(t)
			src, db := h.Open(t)
			cur := cc.col
			cur.Name, cur.Nullable = "cur", true
			cols := []coltype.Column{{Name: "id", Kind: coltype.Int64}, cur}
			if _, ok := db.ColumnType(cur); !ok {
				t.Skipf("engine has no %v column", cur.Kind)
			}
			have := createTable(ctx, t, db, "events", cols)
			// Inserted out of order, with a NULL cursor.
			insert(ctx, t, db, "events", cols, have, [][]any{
				{int64(3), cc.vals[2]}, {int64(1), cc.vals[0]}, {int64(9), nil}, {int64(2), cc.vals[1]},
			})
			tbl := describe(ctx, t, src, "events")
			wm := func(i int) *coltype.Watermark { return &coltype.Watermark{Kind: cur.Kind, Text: cc.text[i]} }

			// First run: After nil reads every row, NULL cursors included.
			got, res := extract(ctx, t, src, source.Request{Table: tbl, Cursor: "cur"})
			if g := ids(t, got); !slices.Equal(g, []int64{1, 2, 3, 9}) {
				t.Errorf("first run: ids %v, want [1 2 3 9]", g)
			}
			if !sameWatermark(res.High, cur.Kind, cc.text[2]) {
				t.Errorf("first run: High = %+v, want %v %q", res.High, cur.Kind, cc.text[2])
			}
			checkRows(t, got, tbl.Columns, cols, [][]any{{int64(1), cc.vals[0]}, {int64(2), cc.vals[1]}, {int64(3), cc.vals[2]}, {int64(9), nil}})

			// The source's own High text is accepted back as After.
			if res.High != nil {
				got, res2 := extract(ctx, t, src, source.Request{Table: tbl, Cursor: "cur", After: res.High})
				if res2.Rows != 0 || res2.High != nil || len(got.records) != 0 {
					t.Errorf("After=High(%v): Rows=%d High=%v, want an empty window", res.High, res2.Rows, res2.High)
				}
			}

			// After the first value: strictly newer rows only, no NULL cursors.
			got, res = extract(ctx, t, src, source.Request{Table: tbl, Cursor: "cur", After: wm(0)})
			if g := ids(t, got); !slices.Equal(g, []int64{2, 3}) {
				t.Errorf("after %q: ids %v, want [2 3]", cc.text[0], g)
			}
			if !sameWatermark(res.High, cur.Kind, cc.text[2]) {
				t.Errorf("after %q: High = %+v, want %q", cc.text[0], res.High, cc.text[2])
			}

			// New rows, one with a NULL cursor.
			insert(ctx, t, db, "events", cols, have, [][]any{{int64(4), cc.vals[3]}, {int64(10), nil}})
			got, res = extract(ctx, t, src, source.Request{Table: tbl, Cursor: "cur", After: wm(2)})
			if g := ids(t, got); !slices.Equal(g, []int64{4}) {
				t.Errorf("after %q: ids %v, want [4]", cc.text[2], g)
			}
			if !sameWatermark(res.High, cur.Kind, cc.text[3]) {
				t.Errorf("after %q: High = %+v, want %q", cc.text[2], res.High, cc.text[3])
			}
			checkRows(t, got, tbl.Columns, cols, [][]any{{int64(4), cc.vals[3]}})

			// Nothing newer than the last value.
			got, res = extract(ctx, t, src, source.Request{Table: tbl, Cursor: "cur", After: wm(3)})
			if res.Rows != 0 || res.High != nil || len(got.records) != 0 {
				t.Errorf("after %q: Rows=%d High=%v, want an empty window", cc.text[3], res.Rows, res.High)
			}

			// Without a cursor: every row, no High.
			got, res = extract(ctx, t, src, source.Request{Table: tbl})
			if g := ids(t, got); !slices.Equal(g, []int64{1, 2, 3, 4, 9, 10}) || res.High != nil {
				t.Errorf("no cursor: ids %v High %v, want [1 2 3 4 9 10] and nil", g, res.High)
			}
		})
	}
}

func testCursorErrors(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	cols := []coltype.Column{
		{Name: "id", Kind: coltype.Int64},
		{Name: "ts", Kind: coltype.Timestamp, Nullable: true},
		{Name: "payload", Kind: coltype.Bytes, Nullable: true},
	}
	have := createTable(ctx, t, db, "events", cols)
	tbl := describe(ctx, t, src, "events")
	noRows := func(t *testing.T, req source.Request) error {
		t.Helper()
		_, err := src.Extract(ctx, req, newCollector(t, nil).sink)
		return err
	}

	err := noRows(t, source.Request{Table: tbl, Cursor: "no_such_column"})
	if !errors.Is(err, source.ErrNotFound) || !strings.Contains(err.Error(), "no_such_column") || !strings.Contains(err.Error(), "events") {
		t.Errorf("missing cursor column: %v, want ErrNotFound naming table and column", err)
	}
	if slices.ContainsFunc(have, func(c coltype.Column) bool { return c.Name == "payload" }) {
		if err := noRows(t, source.Request{Table: tbl, Cursor: "payload"}); err == nil || !strings.Contains(err.Error(), "payload") {
			t.Errorf("bytes cursor: %v, want an error naming the column", err)
		}
	}
	if slices.ContainsFunc(have, func(c coltype.Column) bool { return c.Name == "ts" }) {
		bad := []*coltype.Watermark{
			{Kind: coltype.Timestamp, Text: "not a time"},
			{Kind: coltype.Timestamp, Text: "2024-01-01'; DROP TABLE events; --"},
			{Kind: coltype.String, Text: "2024-01-01T00:00:00.000000"},
		}
		for _, w := range bad {
			if err := noRows(t, source.Request{Table: tbl, Cursor: "ts", After: w}); err == nil {
				t.Errorf("After %v %q: no error", w.Kind, w.Text)
			}
		}
		if _, err := src.Describe(ctx, source.TableRef{Name: "events"}); err != nil {
			t.Errorf("table gone after a hostile watermark: %v", err)
		}
	}
	if err := noRows(t, source.Request{Table: tbl, After: &coltype.Watermark{Kind: coltype.Int64, Text: "1"}}); err == nil {
		t.Error("After without Cursor: no error")
	}
	missing := &source.Table{Ref: source.TableRef{Name: "gone"}, Columns: tbl.Columns}
	if err := noRows(t, source.Request{Table: missing}); !errors.Is(err, source.ErrNotFound) {
		t.Errorf("extract of a missing table: %v, want ErrNotFound", err)
	}
}

func testQuotedIdentifiers(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	cols := []coltype.Column{
		{Name: "id", Kind: coltype.Int64},
		{Name: "Mixed Case", Kind: coltype.Int64, Nullable: true},
		{Name: `sel"ect`, Kind: coltype.String, Nullable: true},
	}
	// Any table name: quotes of every engine, a dot, spaces.
	const table = "Wharf \"Odd\".Na`me"
	have := createTable(ctx, t, db, table, cols)
	rows := [][]any{{int64(1), int64(10), "a"}, {int64(2), int64(20), "b"}}
	insert(ctx, t, db, table, cols, have, rows)
	tbl := describe(ctx, t, src, table)
	sameColumns(t, tbl.Columns, have)
	if qualified, err := src.Describe(ctx, source.TableRef{Schema: db.Schema(), Name: table}); err != nil {
		t.Errorf("Describe(%s): %v", source.TableRef{Schema: db.Schema(), Name: table}, err)
	} else {
		sameColumns(t, qualified.Columns, have)
	}
	got, res := extract(ctx, t, src, source.Request{Table: tbl, Cursor: "Mixed Case", After: &coltype.Watermark{Kind: coltype.Int64, Text: "10"}})
	if g := ids(t, got); !slices.Equal(g, []int64{2}) || !sameWatermark(res.High, coltype.Int64, "20") {
		t.Errorf("ids %v High %v, want [2] and 20", g, res.High)
	}
	checkRows(t, got, tbl.Columns, cols, rows[1:])
}

// fill inserts n rows (id, text) into a new table "big".
func fill(ctx context.Context, t *testing.T, db DB, n int) []coltype.Column {
	t.Helper()
	cols := []coltype.Column{{Name: "id", Kind: coltype.Int64}, {Name: "v", Kind: coltype.String, Nullable: true}}
	have := createTable(ctx, t, db, "big", cols)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i + 1), strings.Repeat("x", i%50)}
	}
	insert(ctx, t, db, "big", cols, have, rows)
	return have
}

func testCancel(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	const n = 3000
	fill(ctx, t, db, n)
	tbl := describe(ctx, t, src, "big")

	t.Run("AlreadyCancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		var calls atomic.Int32
		_, err := src.Extract(cctx, source.Request{Table: tbl, BatchRows: 10}, func(arrow.RecordBatch) error {
			calls.Add(1)
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if calls.Load() != 0 {
			t.Errorf("sink called %d times", calls.Load())
		}
	})

	t.Run("DuringExtract", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var calls atomic.Int32
		start := time.Now()
		_, err := src.Extract(cctx, source.Request{Table: tbl, BatchRows: 10}, func(arrow.RecordBatch) error {
			if calls.Add(1) == 1 {
				cancel()
			}
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		if c := calls.Load(); c > 5 {
			t.Errorf("sink called %d times after the cancel, want it to stop promptly", c-1)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("cancelled extract took %v", d)
		}
	})

	t.Run("UsableAfterwards", func(t *testing.T) {
		_, res := extract(ctx, t, src, source.Request{Table: tbl})
		if res.Rows != n {
			t.Errorf("Rows = %d after a cancelled extract, want %d", res.Rows, n)
		}
	})
}

func testSinkError(t *testing.T, h Harness) {
	ctx := testContext(t)
	src, db := h.Open(t)
	const n = 1000
	fill(ctx, t, db, n)
	tbl := describe(ctx, t, src, "big")
	errStop := errors.New("sink refused")
	var calls atomic.Int32
	_, err := src.Extract(ctx, source.Request{Table: tbl, BatchRows: 10}, func(arrow.RecordBatch) error {
		if calls.Add(1) == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("err = %v, want the sink's error", err)
	}
	if c := calls.Load(); c != 2 {
		t.Errorf("sink called %d times, want it to stop after the failing call (2)", c)
	}
	_, res := extract(ctx, t, src, source.Request{Table: tbl})
	if res.Rows != n {
		t.Errorf("Rows = %d after a failed sink, want %d", res.Rows, n)
	}
}
