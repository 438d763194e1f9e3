package sourcepostgres

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wharf-data/wharf/internal/coltype"
	"github.com/wharf-data/wharf/internal/source"
)

// rtColumn is one column of the round-trip table: its DDL, the expected
// Describe result and a SQL literal per row ("" = NULL).
type rtColumn struct {
	name, ddl string
	want      coltype.Column
	vals      []string
}

func dec(p, s int) coltype.Column {
	return coltype.Column{Kind: coltype.Decimal, Precision: p, Scale: s}
}
func kind(k coltype.Kind) coltype.Column {
	return coltype.Column{Kind: k}
}

// rtColumns covers every supported type with typical values, extremes,
// NULL and the values that need a policy.
var rtColumns = []rtColumn{
	{"i2", "smallint", kind(coltype.Int16), []string{"1234", "32767", "-32768", "", "0"}},
	{"i4", "integer", kind(coltype.Int32), []string{"123456", "2147483647", "-2147483648", "", "0"}},
	{"i8", "bigint", kind(coltype.Int64), []string{"1234567890123", "9223372036854775807", "-9223372036854775808", "", "0"}},
	{"f4", "real", kind(coltype.Float32), []string{"1.5", "3.4028235e38", "-1.17549435e-38", "", "'NaN'", "'Infinity'", "'-0'"}},
	{"f8", "double precision", kind(coltype.Float64), []string{"3.141592653589793", "1.7976931348623157e308", "-5e-324", "", "'-Infinity'", "'NaN'"}},
	{"n12_2", "numeric(12,2)", dec(12, 2), []string{"100.00", "9999999999.99", "-9999999999.99", "", "0", "0.01", "-12345.6"}},
	{"n18_0", "numeric(18,0)", dec(18, 0), []string{"123456789012345678", "999999999999999999", "-999999999999999999", "", "10000", "100000000"}},
	{"n18_6", "numeric(18,6)", dec(18, 6), []string{"0.000001", "999999999999.999999", "-123.4", "", "100", "-0.00001"}},
	{"n19_4", "numeric(19,4)", dec(19, 4), []string{"123456789012345.6789", "999999999999999.9999", "-999999999999999.9999", "", "0.0001"}},
	{"n38_10", "numeric(38,10)", dec(38, 10), []string{"1234567890123456789012345678.1234567890", "9999999999999999999999999999.9999999999",
		"-9999999999999999999999999999.9999999999", "", "0.5", "-0.0000000001", "1000000000000000000000000000"}},
	{"n38_0", "numeric(38,0)", dec(38, 0), []string{"99999999999999999999999999999999999999", "-99999999999999999999999999999999999999", "1", "", "100000000000000000000000000000000000"}},
	{"n5_neg", "numeric(5,-2)", dec(7, 0), []string{"1234500", "9999900", "-9999900", "", "0", "149"}},
	{"n3_5", "numeric(3,5)", dec(5, 5), []string{"0.00123", "0.00999", "-0.00999", "", "0"}},
	{"n_any", "numeric", dec(38, 9), []string{"123.456", "12345678901234567890123456789.123456789", "-0.000000001", "",
		"100000000000000000000", "-99999999999999999999999999999.999999999", "1.100000000"}},
	{"t", "text", kind(coltype.String), []string{"'hello'", "'héllo wörld 世界 🚀'", "''", "", `E'tab\there\nnewline \\ ''q'''`}},
	{"vc", "varchar(10)", kind(coltype.String), []string{"'abc'", "'0123456789'", "''", "", "'x '"}},
	{"bp", "char(5)", kind(coltype.String), []string{"'ab'", "'abcde'", "''", "", "'é'"}},
	{"nm", "name", kind(coltype.String), []string{"'pg_name'", "'x'", "''", "", "'ünï'"}},
	{"en", "mood", kind(coltype.String), []string{"'sad'", "'happy'", "'ok'", "", "'ok'"}},
	{"b", "boolean", kind(coltype.Bool), []string{"true", "false", "false", "", "true"}},
	{"d", "date", kind(coltype.Date), []string{"'2024-02-29'", "'infinity'", "'-infinity'", "", "'1999-12-31'", "'1900-01-01'", "'0044-03-15 BC'", "'2000-01-01'", "'10000-01-01'"}},
	{"ts", "timestamp", kind(coltype.Timestamp), []string{"'2024-02-29 12:34:56.123456'", "'infinity'", "'-infinity'", "",
		"'1999-12-31 23:59:59.999999'", "'2100-06-15 08:00:00.000001'", "'1969-12-31 23:59:59.999999'", "'2000-01-01 00:00:00'"}},
	{"tstz", "timestamptz", kind(coltype.TimestampTZ), []string{"'2024-02-29 12:34:56.123456+05:30'", "'infinity'", "'-infinity'", "",
		"'1999-12-31 23:59:59.999999-08'", "'2040-01-01 00:00:00Z'", "'1901-01-01 00:00:00Z'", "'2000-01-01 00:00:00Z'"}},
	{"tm", "time", kind(coltype.Time), []string{"'12:34:56.789012'", "'24:00:00'", "'00:00:00'", "", "'23:59:59.999999'"}},
	{"ba", "bytea", kind(coltype.Bytes), []string{`'\x0001ff00'`, `'\x'`, `'\x00'`, "", `'\xdeadbeef'`}},
	{"u", "uuid", kind(coltype.UUID), []string{"'00112233-4455-6677-8899-aabbccddeeff'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
		"'00000000-0000-0000-0000-000000000000'", "", "gen_random_uuid()"}},
	{"j", "json", kind(coltype.JSON), []string{`'{"b": 1,   "a": [1, 2]}'`, `'[]'`, `'"x"'`, "", `'{"k": "v\u00e9", "n": null}'`}},
	{"jb", "jsonb", kind(coltype.JSON), []string{`'{"b": 1,   "a": [1, 2]}'`, `'[]'`, `'"x"'`, "", `'{"k": "v\u00e9", "n": null}'`}},
	{"dom", "posint", kind(coltype.Int32), []string{"1", "2147483647", "5", "", "7"}},
	{"dom_num", "amount", dec(10, 2), []string{"12.5", "99999999.99", "-0.01", "", "0"}},
	{"dom_dom", "small_amount", dec(10, 2), []string{"1.25", "", "", "", ""}},
}

const rtTypesSQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE DOMAIN amount AS numeric(10,2);
CREATE DOMAIN small_amount AS amount CHECK (VALUE < 100);`

// createRoundTrip creates and fills table rt and returns its row count.
func createRoundTrip(t *testing.T, db *pgDB) int {
	t.Helper()
	ctx := context.Background()
	if _, err := db.conn.Exec(ctx, rtTypesSQL); err != nil {
		t.Fatal(err)
	}
	defs := []string{"id integer NOT NULL"}
	rows := 0
	for _, c := range rtColumns {
		defs = append(defs, pgx.Identifier{c.name}.Sanitize()+" "+c.ddl)
		rows = max(rows, len(c.vals))
	}
	if _, err := db.conn.Exec(ctx, "CREATE TABLE rt ("+strings.Join(defs, ", ")+")"); err != nil {
		t.Fatal(err)
	}
	for r := 0; r < rows; r++ {
		names := []string{"id"}
		vals := []string{fmt.Sprint(r + 1)}
		for _, c := range rtColumns {
			if r < len(c.vals) && c.vals[r] != "" {
				names = append(names, pgx.Identifier{c.name}.Sanitize())
				vals = append(vals, c.vals[r])
			}
		}
		sql := "INSERT INTO rt (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(vals, ", ") + ")"
		if _, err := db.conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	return rows
}

func TestRoundTripEveryType(t *testing.T) {
	src, db := openTestSchema(t, DefaultOptions())
	nrows := createRoundTrip(t, db)
	ctx := context.Background()
	tbl, err := src.Describe(ctx, source.TableRef{Name: "rt"})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Columns) != len(rtColumns)+1 {
		t.Fatalf("described %d columns, want %d", len(tbl.Columns), len(rtColumns)+1)
	}
	if c := tbl.Columns[0]; c.Name != "id" || c.Kind != coltype.Int32 || c.Nullable {
		t.Errorf("id described as %+v", c)
	}
	for i, rc := range rtColumns {
		got := tbl.Columns[i+1]
		want := rc.want
		want.Name, want.Nullable = rc.name, true
		if got.Name != want.Name || got.Kind != want.Kind || got.Precision != want.Precision || got.Scale != want.Scale || !got.Nullable {
			t.Errorf("column %s (%s): described %+v, want %+v", rc.name, rc.ddl, got, want)
		}
	}
	for _, c := range []struct{ name, sourceType string }{{"n12_2", "numeric(12,2)"}, {"bp", "character(5)"}, {"tstz", "timestamp with time zone"}, {"en", "mood"}, {"dom", "posint"}} {
		if got := tbl.Column(c.name).SourceType; got != c.sourceType {
			t.Errorf("column %s: SourceType %q, want %q", c.name, got, c.sourceType)
		}
	}

	var recs []arrow.RecordBatch
	res, err := src.Extract(ctx, source.Request{Table: tbl, BatchRows: 3}, func(r arrow.RecordBatch) error {
		r.Retain()
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if res.Rows != int64(nrows) || res.High != nil {
		t.Fatalf("Rows=%d High=%v, want %d rows and no High", res.Rows, res.High, nrows)
	}
	// Arrow values by id and column.
	got := map[int32][]any{}
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			id := r.Column(0).(*array.Int32).Value(i)
			row := make([]any, len(rtColumns))
			for c := range rtColumns {
				row[c] = arrowGo(tbl.Columns[c+1], r.Column(c+1), i)
			}
			got[id] = row
		}
	}
	for ci, rc := range rtColumns {
		want := pgxValues(t, db, rc, tbl.Columns[ci+1])
		for id := int32(1); id <= int32(nrows); id++ {
			g, w := got[id][ci], want[id]
			if !sameGo(g, w) {
				t.Errorf("column %s (%s) row %d: arrow %#v, pgx %#v", rc.name, rc.ddl, id, g, w)
			}
		}
	}
}

// arrowGo reads one Arrow value as the Go value pgxValues produces.
func arrowGo(c coltype.Column, arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return float64(a.Value(i))
	case *array.Float64:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Decimal128:
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(c.Scale)), nil))
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return bytes.Clone(a.Value(i))
	case *array.Date32:
		return int64(a.Value(i))
	case *array.Time64:
		return int64(a.Value(i))
	case *array.Timestamp:
		return int64(a.Value(i))
	case array.ExtensionArray:
		switch s := a.Storage().(type) {
		case *array.FixedSizeBinary:
			return bytes.Clone(s.Value(i))
		case *array.String:
			return s.Value(i)
		}
	}
	return fmt.Sprintf("unexpected %T", arr)
}

// pgxValues reads a column with pgx's own decoding and applies wharf's
// documented policies (infinity and 24:00 clamps) to get the expected values.
func pgxValues(t *testing.T, db *pgDB, rc rtColumn, c coltype.Column) map[int32]any {
	t.Helper()
	col := pgx.Identifier{rc.name}.Sanitize()
	expr := col
	switch c.Kind {
	case coltype.Decimal:
		expr = col + "::text"
	case coltype.JSON:
		expr = col + "::text"
	}
	rows, err := db.conn.Query(context.Background(), "SELECT id, "+expr+" FROM rt")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int32]any{}
	for rows.Next() {
		var id int32
		var v any
		switch c.Kind {
		case coltype.Int16, coltype.Int32, coltype.Int64:
			var x *int64
			err = rows.Scan(&id, &x)
			if x != nil {
				v = *x
			}
		case coltype.Float32:
			var x *float32
			err = rows.Scan(&id, &x)
			if x != nil {
				v = float64(*x)
			}
		case coltype.Float64:
			var x *float64
			err = rows.Scan(&id, &x)
			if x != nil {
				v = *x
			}
		case coltype.Bool:
			var x *bool
			err = rows.Scan(&id, &x)
			if x != nil {
				v = *x
			}
		case coltype.Decimal:
			var x *string
			err = rows.Scan(&id, &x)
			if x != nil {
				r, ok := new(big.Rat).SetString(*x)
				if !ok {
					t.Fatalf("numeric text %q", *x)
				}
				v = r
			}
		case coltype.String, coltype.JSON:
			var x *string
			err = rows.Scan(&id, &x)
			if x != nil {
				v = *x
			}
		case coltype.Bytes:
			var x []byte
			err = rows.Scan(&id, &x)
			if x != nil {
				v = x
			}
		case coltype.UUID:
			var x pgtype.UUID
			err = rows.Scan(&id, &x)
			if x.Valid {
				v = x.Bytes[:]
			}
		case coltype.Date:
			var x pgtype.Date
			err = rows.Scan(&id, &x)
			switch {
			case !x.Valid:
			case x.InfinityModifier == pgtype.Infinity:
				v = int64(maxDate32)
			case x.InfinityModifier == pgtype.NegativeInfinity:
				v = int64(minDate32)
			default:
				v = int64(math.Floor(float64(x.Time.Unix()) / 86400))
			}
		case coltype.Timestamp:
			var x pgtype.Timestamp
			err = rows.Scan(&id, &x)
			v = timeMicros(x.Valid, x.InfinityModifier, x.Time.UnixMicro())
		case coltype.TimestampTZ:
			var x pgtype.Timestamptz
			err = rows.Scan(&id, &x)
			v = timeMicros(x.Valid, x.InfinityModifier, x.Time.UnixMicro())
		case coltype.Time:
			var x pgtype.Time
			err = rows.Scan(&id, &x)
			if x.Valid {
				v = min(x.Microseconds, int64(maxTimeMicros))
			}
		default:
			t.Fatalf("no pgx reader for %v", c.Kind)
		}
		if err != nil {
			t.Fatalf("column %s: %v", rc.name, err)
		}
		out[id] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func timeMicros(valid bool, inf pgtype.InfinityModifier, us int64) any {
	switch {
	case !valid:
		return nil
	case inf == pgtype.Infinity:
		return maxTSMicro
	case inf == pgtype.NegativeInfinity:
		return minTSMicro
	}
	return us
}

func sameGo(a, b any) bool {
	switch x := a.(type) {
	case *big.Rat:
		y, ok := b.(*big.Rat)
		return ok && x.Cmp(y) == 0
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y)))
	}
	return a == b
}
